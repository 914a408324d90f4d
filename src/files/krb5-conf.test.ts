import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDuration, parseDuration } from './deltat.js';
import { ProfileSyntaxError, ProfileValueError } from './errors.js';
import {
  formatKrb5Conf, Krb5Config, parseBoolean, parseInteger, resolveEnctypeList,
} from './krb5-conf.js';
import { formatProfile, isIncludableName, loadProfile, parseProfile, Profile, type ProfileReader } from './profile.js';

/** An in-memory file system for include tests. */
function memoryReader(files: Record<string, string>): ProfileReader {
  const enoent = (p: string): Error => Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
  return {
    readFile: async (p) => {
      const t = files[p];
      if (t === undefined) throw enoent(p);
      return t;
    },
    listDirectory: async (dir) => {
      const names = Object.keys(files).filter((p) => p.startsWith(`${dir}/`)).map((p) => p.slice(dir.length + 1));
      if (names.length === 0) throw enoent(dir);
      return names.filter((n) => !n.includes('/'));
    },
    isDirectory: async (p) => {
      if (files[p] !== undefined) return false;
      if (Object.keys(files).some((f) => f.startsWith(`${p}/`))) return true;
      throw enoent(p);
    },
  };
}

async function parse(text: string, files: Record<string, string> = {}): Promise<Profile> {
  return new Profile([await parseProfile(text, { file: '/etc/krb5.conf', reader: memoryReader(files) })]);
}

function syntaxError(line: number, reason: string, file = '/etc/krb5.conf') {
  return (e: unknown): boolean => {
    assert.ok(e instanceof ProfileSyntaxError, String(e));
    assert.equal(e.file, file);
    assert.equal(e.line, line);
    assert.equal(e.reason, reason);
    assert.ok(e.message.startsWith(`${file}:${line}: `), e.message);
    return true;
  };
}

describe('profile syntax (MIT prof_parse.c, krb5.conf(5))', () => {
  test('sections, relations, subsections, multiple values, comments, quoting', async () => {
    const p = await parse([
      'text before the first section is ignored = really',
      '[libdefaults]',
      '  # a comment',
      '\t; another comment',
      '  default_realm = EXAMPLE.COM   ',
      '  forwardable=true',
      '  quoted = "  spaced\\tvalue \\"x\\" "  ignored after the quote',
      '  hash = value # not a comment',
      '  star = value*',
      '[realms]',
      '  EXAMPLE.COM = {',
      '    kdc = kdc1.example.com',
      '    kdc = kdc2.example.com:88',
      '    admin_server = kdc1.example.com',
      '    nested = {',
      '      deep = 1',
      '    }',
      '  }',
      '  OTHER.ORG =',
      '  {',
      '    kdc = k.other.org',
      '  }',
      '[libdefaults]',
      '  default_realm = SECOND.IGNORED',
      '[mysection]',
      '  anything = goes',
    ].join('\r\n'));
    assert.equal(p.getValue(['libdefaults', 'default_realm']), 'EXAMPLE.COM');
    assert.deepEqual(p.getValues(['libdefaults', 'default_realm']), ['EXAMPLE.COM', 'SECOND.IGNORED'], 'a repeated section continues the first');
    assert.equal(p.getValue(['libdefaults', 'forwardable']), 'true');
    assert.equal(p.getValue(['libdefaults', 'quoted']), '  spaced\tvalue "x" ');
    assert.equal(p.getValue(['libdefaults', 'hash']), 'value # not a comment');
    assert.equal(p.getValue(['libdefaults', 'star']), 'value*', 'a * after a plain value is part of it (MIT 1.20)');
    assert.deepEqual(p.getValues(['realms', 'EXAMPLE.COM', 'kdc']), ['kdc1.example.com', 'kdc2.example.com:88']);
    assert.equal(p.getValue(['realms', 'EXAMPLE.COM', 'nested', 'deep']), '1');
    assert.deepEqual(p.getValues(['realms', 'OTHER.ORG', 'kdc']), ['k.other.org']);
    assert.deepEqual(p.subsectionNames(['realms']), ['EXAMPLE.COM', 'OTHER.ORG']);
    assert.deepEqual(p.getValues(['mysection', 'anything']), ['goes'], 'unknown sections are kept');
    const tree = p.toTree();
    assert.deepEqual(Object.keys(tree), ['libdefaults', 'realms', 'mysection']);
    assert.deepEqual(JSON.parse(JSON.stringify(tree['realms'])), [{
      'EXAMPLE.COM': [{ kdc: ['kdc1.example.com', 'kdc2.example.com:88'], admin_server: ['kdc1.example.com'], nested: [{ deep: ['1'] }] }],
      'OTHER.ORG': [{ kdc: ['k.other.org'] }],
    }]);
  });

  test('syntax errors carry the file name and line number', async () => {
    const cases: Array<[string, number, string]> = [
      ['[libdefaults]\n  no equals sign here', 2, 'relation-syntax'],
      ['[libdefaults]\n  = value', 2, 'relation-syntax'],
      ['[libdefaults]\n  two words = x', 2, 'relation-syntax'],
      ['[libdefaults\nx = y', 1, 'section-syntax'],
      ['[libdefaults] trailing', 1, 'section-syntax'],
      ['[realms]\n R = {\n [libdefaults]\n }', 3, 'section-not-top'],
      ['[realms]\n }', 2, 'extra-close-brace'],
      ['[realms]\n R =\n\n {\n }', 3, 'missing-open-brace'],
      ['[realms]\n R = {\n  kdc = k\n', 2, 'unclosed-brace'],
      ['module foo:bar\n[x]', 1, 'module'],
    ];
    for (const [text, line, reason] of cases) {
      await assert.rejects(parse(text), syntaxError(line, reason), JSON.stringify(text));
    }
  });

  test('include and includedir: files share the tree, each starts its own sections; MIT name rules', async () => {
    const files = {
      '/etc/krb5.conf.d/10-realms.conf': 'ignored = before section\n[realms]\n R2 = {\n  kdc = k2\n }\n',
      '/etc/krb5.conf.d/20_extra': '[libdefaults]\n ticket_lifetime = 1h\n',
      '/etc/krb5.conf.d/backup~': '[libdefaults]\n ticket_lifetime = 99h\n',
      '/etc/krb5.conf.d/.hidden.conf': '[libdefaults]\n ticket_lifetime = 98h\n',
      '/etc/krb5.conf.d/x.rpmsave': '[libdefaults]\n ticket_lifetime = 97h\n',
      '/etc/krb5.local': '[libdefaults]\n forwardable = yes\n',
    };
    const p = await parse('include /etc/krb5.local\n[libdefaults]\n default_realm = R1\nincludedir /etc/krb5.conf.d\n[realms]\n R1 = {\n  kdc = k1\n }\n', files);
    assert.equal(p.getValue(['libdefaults', 'forwardable']), 'yes');
    assert.deepEqual(p.getValues(['libdefaults', 'ticket_lifetime']), ['1h']);
    assert.deepEqual(p.subsectionNames(['realms']), ['R2', 'R1']);
    assert.equal(p.getValue(['realms', 'R2', 'kdc']), 'k2');
    assert.deepEqual(['a-b_c', 'x.conf', 'backup~', '.x.conf', 'a.b', '.conf'].map(isIncludableName), [true, true, false, false, false, false]);

    await assert.rejects(parse('[a]\ninclude /nope\n'), syntaxError(2, 'include-failed'));
    await assert.rejects(parse('[a]\nincludedir /nodir\n'), syntaxError(2, 'include-failed'));
    // An error inside an included file names that file and its line.
    await assert.rejects(parse('include /inc\n', { '/inc': '[x]\n bad line\n' }), syntaxError(2, 'relation-syntax', '/inc'));
    await assert.rejects(parse('include /loop\n', { '/loop': 'include /loop\n' }), syntaxError(1, 'include-depth', '/loop'));
  });

  test('several files: earlier files win; a final section or relation stops later files', async () => {
    const reader = memoryReader({
      '/a': '[libdefaults]\n default_realm = A\n[realms]*\n A = {\n  kdc = a1\n }\n[domain_realm]\n x.a = A\n kdc = q\n[capaths]\n A = {\n  B* = first\n  B = second\n }\n',
      '/b': '[libdefaults]\n default_realm = B\n clockskew = 10\n[realms]\n A = {\n  kdc = b1\n }\n B = {\n  kdc = b2\n }\n[domain_realm]\n x.b = B\n[capaths]\n A = {\n  B = third\n }\n',
      '/c': '[libdefaults]\n[appdefaults]*\n pam = {\n  x = 1\n }*\n',
    });
    const p = await loadProfile('/a:/missing:/b', reader);
    assert.equal(p.files.length, 2, 'missing files are skipped');
    assert.equal(p.getValue(['libdefaults', 'default_realm']), 'A');
    assert.deepEqual(p.getValues(['libdefaults', 'default_realm']), ['A', 'B']);
    assert.equal(p.getValue(['libdefaults', 'clockskew']), '10', 'values only in a later file are found');
    assert.deepEqual(p.getValues(['realms', 'A', 'kdc']), ['a1'], '[realms]* hides later [realms]');
    assert.deepEqual(p.subsectionNames(['realms']), ['A']);
    assert.deepEqual(p.getValues(['domain_realm', 'x.b']), ['B']);
    assert.deepEqual(p.getValues(['capaths', 'A', 'B']), ['first'], 'a final relation hides later values');
    const c = await loadProfile(['/c'], reader);
    assert.equal(c.files[0]!.root.entries.find((e) => e.name === 'appdefaults')?.kind, 'section');
    assert.ok((c.files[0]!.root.entries[1] as { final: boolean }).final);
  });

  test('formatProfile writes what parses back to the same tree (quoting as MIT dumps)', async () => {
    const text = formatProfile({
      libdefaults: { default_realm: 'EXAMPLE.COM', forwardable: true, clockskew: 300, odd: ' spaces ', empty: '', brace: '{', quote: '"q' },
      realms: { 'EXAMPLE.COM': { kdc: ['a:88', 'b:88'], admin_server: 'a' }, 'B.ORG': [{ kdc: 'x' }] },
    });
    const p = await parse(text);
    assert.equal(p.getValue(['libdefaults', 'odd']), ' spaces ');
    assert.equal(p.getValue(['libdefaults', 'empty']), '');
    assert.equal(p.getValue(['libdefaults', 'brace']), '{');
    assert.equal(p.getValue(['libdefaults', 'quote']), '"q');
    assert.equal(p.getValue(['libdefaults', 'forwardable']), 'true');
    assert.deepEqual(p.getValues(['realms', 'EXAMPLE.COM', 'kdc']), ['a:88', 'b:88']);
    assert.equal(p.getValue(['realms', 'B.ORG', 'kdc']), 'x');
    assert.throws(() => formatProfile({ s: { 'bad tag': 'x' } }), /profile tag/);
    assert.throws(() => formatProfile({ 'a]': {} }), /section name/);
  });
});

describe('krb5.conf typed accessors', () => {
  test('libdefaults with MIT defaults, per-realm overrides and value syntaxes', async () => {
    const conf = await Krb5Config.parse([
      '[libdefaults]',
      ' default_realm = EXAMPLE.COM',
      ' dns_canonicalize_hostname = fallback',
      ' udp_preference_limit = 0x10',
      ' permitted_enctypes = aes256-cts-hmac-sha1-96, aes128-cts -rc4',
      ' ticket_lifetime = 10h',
      ' renew_lifetime = 7d',
      ' clockskew = 0:05:00',
      ' forwardable = YES',
      ' rdns = off',
      ' kdc_timesync = 0',
      ' dns_fallback = no',
      ' EXAMPLE.COM = {',
      '  forwardable = false',
      ' }',
    ].join('\n'));
    const d = conf.libdefaults();
    assert.equal(d.defaultRealm, 'EXAMPLE.COM');
    assert.equal(d.dnsCanonicalizeHostname, 'fallback');
    assert.equal(d.udpPreferenceLimit, 16);
    assert.deepEqual(d.permittedEnctypes, ['aes256-cts-hmac-sha1-96', 'aes128-cts', '-rc4']);
    assert.deepEqual(d.defaultTktEnctypes, ['DEFAULT']);
    assert.equal(d.ticketLifetime, 36_000);
    assert.equal(d.renewLifetime, 7 * 86_400);
    assert.equal(d.clockskew, 300);
    assert.equal(d.forwardable, false, 'the default realm\'s own [libdefaults] subsection wins');
    assert.equal(conf.libdefaults('OTHER.ORG').forwardable, true);
    assert.equal(d.rdns, false);
    assert.equal(d.kdcTimesync, false);
    assert.equal(d.dnsLookupKdc, false, 'dns_fallback is the default of dns_lookup_kdc');
    assert.equal(d.allowWeakCrypto, false);
    assert.equal(d.noaddresses, true);

    const defaults = (await Krb5Config.parse('')).libdefaults();
    assert.equal(defaults.defaultRealm, undefined);
    assert.equal(defaults.clockskew, 300);
    assert.equal(defaults.ticketLifetime, 86_400);
    assert.equal(defaults.udpPreferenceLimit, 1465);
    assert.equal(defaults.dnsCanonicalizeHostname, true);
    assert.equal(defaults.dnsLookupKdc, true);
    assert.equal(defaults.dnsLookupRealm, false);
  });

  test('bad values are typed errors naming the file, line and tag', async () => {
    const conf = await Krb5Config.parse('[libdefaults]\n forwardable = maybe\n ticket_lifetime = ten hours\n', { file: '/tmp/k.conf' });
    assert.throws(() => conf.libdefaultBoolean('forwardable', false), (e: unknown) => e instanceof ProfileValueError && /\/tmp\/k\.conf:2: forwardable = "maybe" is not a boolean/.test(e.message));
    assert.throws(() => conf.libdefaults(), ProfileValueError);
    assert.throws(() => conf.libdefaultDuration('ticket_lifetime', 0), (e: unknown) => e instanceof ProfileValueError && /k\.conf:3/.test(e.message));
  });

  test('realms and domain_realm (MIT profile host-realm search)', async () => {
    const conf = await Krb5Config.parse([
      '[realms]',
      ' EXAMPLE.COM = {',
      '  kdc = kdc1.example.com',
      '  kdc = kdc2.example.com',
      '  admin_server = kdc1.example.com',
      '  master_kdc = kdc1.example.com',
      '  default_domain = example.com',
      ' }',
      '[domain_realm]',
      ' .example.com = EXAMPLE.COM',
      ' special.example.com = OTHER.ORG',
      ' example.net = NET.ORG',
    ].join('\n'));
    assert.deepEqual(conf.realmNames(), ['EXAMPLE.COM']);
    const r = conf.realm('EXAMPLE.COM');
    assert.deepEqual(r.kdc, ['kdc1.example.com', 'kdc2.example.com']);
    assert.deepEqual(r.adminServer, ['kdc1.example.com']);
    assert.deepEqual(r.primaryKdc, ['kdc1.example.com']);
    assert.equal(r.defaultDomain, 'example.com');
    assert.deepEqual(conf.realm('NONE.ORG').kdc, []);
    assert.equal(conf.realmForHost('Host.Sub.Example.COM.'), 'EXAMPLE.COM');
    assert.equal(conf.realmForHost('special.example.com'), 'OTHER.ORG');
    assert.equal(conf.realmForHost('example.com'), undefined, 'only ".example.com" entries match subdomains');
    assert.equal(conf.realmForHost('example.net'), 'NET.ORG');
    assert.equal(conf.realmForHost('www.example.net'), undefined);
    assert.deepEqual({ ...conf.domainRealm() }, { '.example.com': 'EXAMPLE.COM', 'special.example.com': 'OTHER.ORG', 'example.net': 'NET.ORG' });
  });

  test('formatKrb5Conf writes a config that loads back', async () => {
    const text = formatKrb5Conf({
      defaultRealm: 'EXAMPLE.COM',
      libdefaults: { dns_lookup_kdc: false },
      realms: { 'EXAMPLE.COM': { kdc: ['127.0.0.1:8888'] } },
      domainRealm: { '.example.com': 'EXAMPLE.COM' },
      sections: { plugins: { hostrealm: { disable: 'dns' } } },
    });
    const conf = await Krb5Config.parse(text);
    assert.equal(conf.libdefaults().defaultRealm, 'EXAMPLE.COM');
    assert.equal(conf.libdefaults().dnsLookupKdc, false);
    assert.deepEqual(conf.realm('EXAMPLE.COM').kdc, ['127.0.0.1:8888']);
    assert.equal(conf.profile.getValue(['plugins', 'hostrealm', 'disable']), 'dns');
  });

  describe('on disk', () => {
    let dir = '';
    after(async () => { if (dir !== '') await rm(dir, { recursive: true, force: true }); });

    test('KRB5_CONFIG with several files and a directory, includes from disk', async () => {
      dir = await mkdtemp(join(tmpdir(), 'kerbside-conf-'));
      await mkdir(join(dir, 'd'));
      await writeFile(join(dir, 'd', 'site.conf'), '[libdefaults]\n ticket_lifetime = 2h\n');
      await writeFile(join(dir, 'inc'), '[libdefaults]\n forwardable = true\n');
      await writeFile(join(dir, 'main'), `include ${join(dir, 'inc')}\n[libdefaults]\n default_realm = MAIN\n`);
      const conf = await Krb5Config.load({ env: { KRB5_CONFIG: `${join(dir, 'main')}:${join(dir, 'absent')}:${join(dir, 'd')}` } });
      const d = conf.libdefaults();
      assert.equal(d.defaultRealm, 'MAIN');
      assert.equal(d.forwardable, true);
      assert.equal(d.ticketLifetime, 7200);
    });
  });
});

describe('values', () => {
  test('durations as krb5_string_to_deltat (MIT x-deltat.y)', () => {
    const ok: Array<[string, number]> = [
      ['36000', 36_000], ['10h', 36_000], ['7d', 604_800], ['1d 2h', 93_600], ['1d2h3m4s', 93_784],
      ['1d 30m', 88_200], ['90s', 90], ['5m', 300], ['1:30', 5_400], ['1:30:15', 5_415], ['2-03:04:05', 183_845],
      ['-5', -5], ['  10h', 36_000], ['0', 0], ['2147483647', 2_147_483_647],
    ];
    for (const [text, seconds] of ok) assert.equal(parseDuration(text), seconds, text);
    for (const text of ['', 'ten', '10x', '10 h', '2h 1d', '1h 1h', '1:300', '2147483648', '24856d', '1d 2h 30']) {
      assert.throws(() => parseDuration(text), ProfileValueError, text);
    }
    assert.equal(formatDuration(93_784), '1d 2h 3m 4s');
    assert.equal(formatDuration(0), '0s');
    for (const s of [1, 59, 3600, 86_399, 1_000_000]) assert.equal(parseDuration(formatDuration(s)), s);
  });

  test('booleans and integers as MIT profile_parse_boolean / strtol base 0', () => {
    assert.deepEqual(['yes', 'TRUE', 't', 'y', 'on', '1', 'no', 'False', 'nil', 'n', 'off', '0', 'maybe'].map(parseBoolean),
      [true, true, true, true, true, true, false, false, false, false, false, false, undefined]);
    assert.deepEqual(['1465', '0x10', '010', '-3', ' 7 ', 'x', '1e3', '99999999999'].map(parseInteger), [1465, 16, 8, -3, 7, undefined, undefined, undefined]);
  });

  test('enctype lists: DEFAULT, families, +/- and unknown names (krb5int_parse_enctype_list)', async () => {
    assert.deepEqual(resolveEnctypeList(['DEFAULT']), [18, 17, 20, 19]);
    assert.deepEqual(resolveEnctypeList(['DEFAULT', '-aes-sha2', '+rc4']), [18, 17, 23]);
    assert.deepEqual(resolveEnctypeList(['aes128-cts', 'aes256-cts', 'bogus', 'des-cbc-crc', 'aes256-cts-hmac-sha1-96']), [17, 18]);
    assert.deepEqual(resolveEnctypeList(['aes-sha2'], [18]), [20, 19]);
    const conf = await Krb5Config.parse('[libdefaults]\n permitted_enctypes = aes256-cts-hmac-sha384-192 aes\n default_tgs_enctypes = DEFAULT -aes128-cts\n');
    assert.deepEqual(conf.enctypes('permitted_enctypes'), [20, 18, 17, 19]);
    assert.deepEqual(conf.enctypes('default_tgs_enctypes'), [18, 20, 19]);
    assert.deepEqual(conf.enctypes('default_tkt_enctypes'), [18, 17, 20, 19]);
  });
});
