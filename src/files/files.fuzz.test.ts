/**
 * Fuzzing the file formats (src/testing/fuzz.ts): MIT FILE credential caches
 * and keytabs (seeds: the MIT kinit/ktutil files of testdata/mit-vectors.ts
 * and our own encodings, versions 3/4 and 1/2) and the krb5.conf profile
 * parser with every typed accessor. Only KerbsideErrors (CcacheFormatError,
 * KeytabFormatError, ProfileSyntaxError, ProfileValueError…) come out; what
 * decodes re-encodes and decodes to the same value.
 */

import assert from 'node:assert/strict';
import { fromHex, utf8 } from '../core/bytes.js';
import { KerbsideError } from '../core/errors.js';
import { fuzzSuite } from '../testing/fuzz.js';
import { MIT_KINIT_CCACHE_HEX, MIT_KTUTIL_KEYTAB_HEX } from './testdata/mit-vectors.js';
import {
  KEYTAB_VERSION_1, Krb5Config, decodeCcache, decodeKeytab, encodeCcache, encodeKeytab, parseDuration, parseCcacheName,
  parseKeytabName, parsePrincipal, type ProfileReader,
} from './index.js';

const MIT_CCACHE = fromHex(MIT_KINIT_CCACHE_HEX.replace(/\s+/g, ''));
const MIT_KEYTAB = fromHex(MIT_KTUTIL_KEYTAB_HEX.replace(/\s+/g, ''));

const KRB5_CONF = `# a comment
[libdefaults]
  default_realm = EXAMPLE.TEST
  ticket_lifetime = 10h
  renew_lifetime = 7d 2h
  forwardable = true
  udp_preference_limit = 1
  permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts +rc4-hmac -DEFAULT
  clockskew = 300
  dns_canonicalize_hostname = fallback
  EXAMPLE.TEST = {
    ticket_lifetime = 1h
  }
[realms]
  EXAMPLE.TEST = {
    kdc = kdc1.example.test:88
    kdc = tcp/kdc2.example.test
    admin_server = kdc1.example.test
    auth_to_local = RULE:[1:$1@$0](.*@EXAMPLE\\.TEST)s/@.*//
  }
  OTHER.TEST = {
    kdc = [::1]:750
  }*
[domain_realm]
  .example.test = EXAMPLE.TEST
include /nonexistent/krb5.conf
includedir /nonexistent/krb5.conf.d
`;

/** Includes resolve to nothing: the parser must report them as typed errors. */
const noFiles: ProfileReader = {
  readFile: () => Promise.reject(Object.assign(new Error('ENOENT'), { code: 'ENOENT' })),
  listDirectory: () => Promise.reject(Object.assign(new Error('ENOENT'), { code: 'ENOENT' })),
  isDirectory: () => Promise.resolve(false),
};

const text = (input: Uint8Array): string => Buffer.from(input).toString('utf8');

fuzzSuite(import.meta.url, {
  ccache: () => {
    const ours = decodeCcache(MIT_CCACHE);
    return {
      seeds: [MIT_CCACHE, encodeCcache(ours), encodeCcache({ ...ours, version: 3 })],
      weight: 3,
      run(input) {
        const cache = decodeCcache(input);
        assert.deepEqual(decodeCcache(encodeCcache(cache)), cache);
      },
    };
  },
  keytab: () => {
    const entries = decodeKeytab(MIT_KEYTAB);
    return {
      seeds: [MIT_KEYTAB, encodeKeytab(entries), encodeKeytab(entries.slice(0, 1)), Uint8Array.of(5, 2)],
      weight: 3,
      run(input) {
        const decoded = decodeKeytab(input);
        if (input[1] !== KEYTAB_VERSION_1) assert.deepEqual(decodeKeytab(encodeKeytab(decoded)), decoded);
      },
    };
  },
  'krb5.conf': () => ({
    seeds: [utf8(KRB5_CONF), utf8('[libdefaults]\n default_realm = R\n'), utf8('[realms]\n R = {\n  kdc = a\n }\n')],
    dictionary: ['[', ']', '{', '}', '=', '\n', '*', '"', '\\', '#', ';', 'include ', 'includedir ', 'module ', ' = {\n', '[libdefaults]\n', '\u0000']
      .map(utf8),
    maxRandomLength: 256,
    weight: 2,
    async run(input) {
      const conf = await Krb5Config.parse(text(input), { reader: noFiles });
      conf.toTree();
      const realm = conf.libdefault('default_realm');
      for (const r of [undefined, realm]) {
        conf.libdefaults(r);
        for (const tag of ['permitted_enctypes', 'default_tkt_enctypes', 'default_tgs_enctypes'] as const) conf.enctypes(tag, r);
      }
      for (const name of conf.realmNames()) conf.realm(name);
    },
  }),
  'durations, principal and file names': () => ({
    seeds: ['10h', '1d 2h 3m 4s', '36000', '1:02:03', '-5', 'alice@EXAMPLE.TEST', 'HTTP/h@R', 'FILE:/tmp/x', 'DIR::/tmp/d', 'KEYRING:x'].map(utf8),
    dictionary: ['d', 'h', 'm', 's', ':', ' ', '@', '/', '\\', '9999999999999999'].map(utf8),
    maxRandomLength: 40,
    run(input) {
      const t = text(input);
      const attempts: (() => unknown)[] = [
        () => parseDuration(t), () => parsePrincipal(t, { defaultRealm: 'R' }), () => parseCcacheName(t), () => parseKeytabName(t),
      ];
      // Every parser runs; an untyped failure of any of them is thrown at once.
      for (const attempt of attempts) {
        try {
          attempt();
        } catch (err) {
          if (!(err instanceof KerbsideError)) throw err;
        }
      }
    },
  }),
});
