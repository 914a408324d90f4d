/**
 * `kerbside kinit`: MIT kinit's flags and messages (kinit(1)). Gets a TGT with
 * a password (prompted through io.readSecret) or a keytab key (-k [-t]),
 * renews one (-R), uses a certificate (PKINIT, -X X509_user_identity=FILE:… or
 * PKCS11:…, with -X X509_anchors or krb5.conf pkinit_anchors), and writes the credential cache atomically with the KDC
 * time offset and X-CACHECONF pa_type/refresh_time entries.
 */

import { hostname } from 'node:os';
import {
  ccacheSupportsSwitch, destroyCcache, findCcacheFor, newUniqueCcache, parseDuration, principalToString, switchCcache, ticketsOf, writeCcache,
  principalEquals, type Principal,
} from '../../files/index.js';
import {
  buildCache, cachedPaType, clientFromEnvironment, comErr, enterprisePrincipal, loadAnchors, NoCredentialsError, offsetFromHeader, openX509Identity,
  parseX509Identity, pkinitAnchorsFor, readCcacheIfExists, requireAnchors, tgsPrincipal, type OpenedIdentity, type X509Identity,
} from '../../client/index.js';
import { DEFAULT_REFRESH_POLICY, refreshTime } from '../../lifecycle/index.js';
import { parseCommandLine } from '../args.js';
import { UsageError, type CliIO, type Command } from '../io.js';
import { formatUsage, usageTable } from '../usage.js';

/** MIT kinit's usage (kinit.c usage()), with the flags kerbside implements. */
export const HELP = usageTable({
  synopsis: [
    'Usage: kinit [-V] [-l lifetime] [-s start_time] [-r renewable_life]',
    '\t[-f | -F] [-p | -P] [-n] [-C] [-E]',
    '\t[-v] [-R] [-k [-t keytab_file]] [-c cachename]',
    '\t[-S service_name]',
    '\t[-X <attribute>[=<value>]] [principal]',
  ],
  heading: '    options:',
  options: [
    ['-V', 'verbose'], ['-l', 'lifetime'], ['-s', 'start time'], ['-r', 'renewable lifetime'], ['-f', 'forwardable'], ['-F', 'not forwardable'],
    ['-p', 'proxiable'], ['-P', 'not proxiable'], ['-n', 'anonymous'], ['-v', 'validate'], ['-R', 'renew'], ['-C', 'canonicalize'],
    ['-E', 'client is enterprise principal name'], ['-k', 'use keytab'], ['-t', 'filename of keytab to use'],
    ['-c', 'Kerberos 5 cache name'], ['-S', 'service'], ['-X', '<attribute>[=<value>]'],
  ],
  extras: [
    ['-X X509_user_identity=FILE:cert.pem,key.pem', 'certificate logon (PKINIT)'],
    ['-X X509_user_identity=PKCS11:module_name=LIB.so[:slotid=N]', 'smart card logon (PKINIT)'],
    ['-X X509_anchors=FILE:ca.pem', 'KDC certificate anchors (replace krb5.conf pkinit_anchors)'],
  ],
  usageExit: 2,
});

export const command: Command = {
  name: 'kinit',
  summary: 'obtain and cache a Kerberos ticket-granting ticket (MIT kinit)',
  usage: formatUsage(HELP),
  help: HELP,
  async run(io: CliIO): Promise<number> {
    const args = parse(io.argv);
    const { client, defaultCcache, defaultKeytab } = await clientFromEnvironment(io);
    let ccache = args.cache ?? defaultCcache;

    if (args.renew || args.validate) {
      const action = args.renew ? 'renewing' : 'validating';
      if (args.verbose) io.out(`Using ${args.cache === undefined ? 'default' : 'specified'} cache: ${ccache.replace(/^FILE:/, '')}`);
      try {
        const cache = await readCcacheIfExists(ccache);
        if (cache === undefined) {
          throw new NoCredentialsError(`No credentials cache found (filename: ${ccache.replace(/^FILE:/, '')})`, { hint: 'run kinit first' });
        }
        const principal = args.principal === undefined ? cache.defaultPrincipal : client.principal(args.principal);
        if (args.verbose) io.out(`Using principal: ${principalToString(principal)}`);
        const want = tgsPrincipal(principal.realm);
        const tgt = ticketsOf(cache).find((c) => principalEquals(c.client, principal) && principalEquals(c.server, want));
        if (tgt === undefined) {
          throw new NoCredentialsError(`No TGT for ${principalToString(principal)} in ${ccache}`, { hint: 'run kinit first' });
        }
        client.timeOffset = offsetFromHeader(cache);
        const renewed = args.renew ? await client.renew(tgt) : await client.validate(tgt);
        const paType = cachedPaType(cache);
        await writeCcache(ccache, buildCache({
          principal, offset: client.timeOffset, credentials: [renewed], ...(paType !== undefined ? { paType } : {}),
        }));
      } catch (err) {
        io.err(comErr('kinit', err, `${action} credentials`));
        return 1;
      }
      if (args.verbose) io.out('Authenticated to Kerberos v5');
      return 0;
    }

    if (args.anonymous) {
      // kinit -n [@REALM]: the realm from the argument, else the default realm.
      const realm = args.principal?.replace(/^.*@/, '') || client.config.defaultRealm;
      try {
        if (realm === undefined) throw new UsageError('kinit -n needs a realm (-n @REALM, or default_realm in krb5.conf)');
        await client.getAnonymousCredentials(realm);
      } catch (err) {
        if (err instanceof UsageError) throw err;
        io.err(comErr('kinit', err, 'getting initial credentials'));
      }
      return 1;
    }

    let principal: Principal;
    try {
      const text = args.principal ?? await defaultPrincipalName(io, ccache, args.keytab !== undefined);
      principal = args.enterprise ? enterprisePrincipal(text, client.config.defaultRealm) : client.principal(text);
    } catch (err) {
      io.err(comErr('kinit', err, 'parsing principal name'));
      return 1;
    }
    // A collection (DIR) as the default: as MIT kinit, a named principal gets its own cache in it (the one it has,
    // else a new one when the primary holds someone else's tickets), which becomes the primary.
    let collection: 'existing' | 'new' | undefined;
    try {
      if (args.cache === undefined && args.principal !== undefined && ccacheSupportsSwitch(ccache)) {
        const existing = await findCcacheFor(ccache, principal);
        if (existing !== undefined) {
          ccache = existing;
          collection = 'existing';
        } else if (await readCcacheIfExists(ccache).catch(() => undefined) !== undefined) {
          ccache = await newUniqueCcache(ccache, io.random);
          collection = 'new';
        }
      }
    } catch (err) {
      io.err(comErr('kinit', err, 'resolving ccache'));
      return 1;
    }
    if (args.verbose) {
      io.out(collection !== undefined
        ? `Using ${collection} cache: ${ccache.replace(/^DIR::/, '')}`
        : `Using ${args.cache === undefined ? 'default' : 'specified'} cache: ${ccache.replace(/^FILE:/, '')}`);
    }
    if (args.verbose) io.out(`Using principal: ${principalToString(principal)}`);
    const keytab = args.keytab === undefined ? undefined : args.keytab === true ? defaultKeytab : args.keytab;
    if (args.verbose && keytab !== undefined) io.out(`Using keytab: ${keytab}`);
    let identity: OpenedIdentity | undefined;
    try {
      let secret: { password: string } | { keytab: string } | { certificate: { signer: OpenedIdentity['signer']; chain: readonly Uint8Array[]; anchors: Uint8Array[]; description: string } };
      if (args.identity !== undefined) {
        const anchors = await loadAnchors(args.anchors.length > 0 ? args.anchors : pkinitAnchorsFor(client.config, principal.realm));
        requireAnchors(anchors, principal.realm);
        // The PIN goes from the prompt to C_Login; nothing here keeps it.
        identity = await openX509Identity(args.identity, { readPin: (prompt) => io.readSecret(prompt), clock: io.clock });
        if (args.verbose) io.out(`Using identity: ${identity.description}`);
        secret = { certificate: { signer: identity.signer, chain: identity.chain, anchors, description: identity.description } };
      } else {
        secret = keytab === undefined
          ? { password: await io.readSecret(`Password for ${principalToString(principal)}: `) }
          : { keytab };
      }
      const result = await client.getInitialCredentials({
        client: principal,
        ...secret,
        ...(args.lifetime !== undefined ? { lifetime: args.lifetime } : {}),
        ...(args.renewable !== undefined ? { renewLifetime: args.renewable } : {}),
        ...(args.forwardable !== undefined ? { forwardable: args.forwardable } : {}),
        ...(args.proxiable !== undefined ? { proxiable: args.proxiable } : {}),
        ...(args.service !== undefined ? { service: args.service } : {}),
        ...(args.canonicalize ? { canonicalize: true } : {}),
        ...(args.startTime !== undefined ? { startTime: args.startTime(io.clock.now()) } : {}),
      });
      const c = result.credential;
      // With -C or -E the cache is the canonical client's, as the KDC named it (RFC 6806).
      principal = c.client;
      const offset = client.timeOffset;
      // A keytab-backed TGT can be refreshed without a person: record when (MIT's gss acquire does the same).
      const refresh = keytab === undefined ? undefined : refreshTime({
        startTime: (c.starttime ?? c.authtime).getTime() - offset, endTime: c.endtime.getTime() - offset,
      }, DEFAULT_REFRESH_POLICY);
      await writeCcache(ccache, buildCache({
        principal, offset, credentials: [c], paType: result.paType, ...(refresh !== undefined ? { refreshTime: refresh } : {}),
      }));
      if (collection !== undefined) await switchCcache(ccache);
    } catch (err) {
      io.err(comErr('kinit', err, 'getting initial credentials'));
      // The reserved, still empty cache of a failed kinit is not left behind in the collection.
      if (collection === 'new') await destroyCcache(ccache).catch(() => undefined);
      return 1;
    } finally {
      await identity?.close().catch(() => undefined);
    }
    if (args.verbose) io.out('Authenticated to Kerberos v5');
    return 0;
  },
};

interface KinitArgs {
  readonly principal?: string;
  readonly cache?: string;
  /** true: -k without -t (default keytab). */
  readonly keytab?: string | true;
  readonly lifetime?: number;
  readonly renewable?: number;
  readonly forwardable?: boolean;
  readonly proxiable?: boolean;
  readonly renew: boolean;
  readonly validate: boolean;
  readonly verbose: boolean;
  readonly canonicalize: boolean;
  readonly enterprise: boolean;
  readonly anonymous: boolean;
  /** -s: the start time (local ms) given the time now. */
  readonly startTime?: (now: number) => number;
  readonly service?: string;
  /** -X X509_user_identity. */
  readonly identity?: X509Identity;
  /** -X X509_anchors values (replace krb5.conf pkinit_anchors, as in MIT). */
  readonly anchors: readonly string[];
}

function parse(argv: readonly string[]): KinitArgs {
  const parsed = parseCommandLine(argv, {
    V: { type: 'boolean' }, l: { type: 'string' }, r: { type: 'string' }, f: { type: 'boolean' }, F: { type: 'boolean' },
    p: { type: 'boolean' }, P: { type: 'boolean' }, R: { type: 'boolean' }, k: { type: 'boolean' }, t: { type: 'string' },
    c: { type: 'string' }, S: { type: 'string' }, X: { type: 'string', multiple: true },
    C: { type: 'boolean' }, E: { type: 'boolean' }, s: { type: 'string' }, v: { type: 'boolean' }, n: { type: 'boolean' },
  });
  const v = parsed.values;
  if (parsed.positionals.length > 1) throw new UsageError(`extra arguments: ${parsed.positionals.slice(1).join(' ')}`);
  if (v.f === true && v.F === true) throw new UsageError('only one of -f and -F may be given');
  if (v.p === true && v.P === true) throw new UsageError('only one of -p and -P may be given');
  if (v.t !== undefined && v.k !== true) throw new UsageError('-t needs -k');
  if ([v.R, v.v].filter((x) => x === true).length > 1) throw new UsageError('Only one of -v and -R may be specified');
  if (v.n === true && (v.k === true || v.X !== undefined || v.R === true || v.v === true)) throw new UsageError('-n cannot be combined with -k, -X, -R or -v');
  let startTime: ((now: number) => number) | undefined;
  if (v.s !== undefined) {
    const text = v.s;
    // As MIT: a duration from now ("1h", "30m") or an absolute time.
    try {
      const delta = parseDuration(text) * 1000;
      startTime = (now) => now + delta;
    } catch {
      const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
      if (Number.isNaN(at)) throw new UsageError(`Bad start time value ${text}`);
      startTime = () => at;
    }
  }
  const duration = (flag: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    try {
      return parseDuration(text) * 1000;
    } catch {
      throw new UsageError(`Bad ${flag === 'l' ? 'lifetime' : 'renewable lifetime'} value ${text}`);
    }
  };
  let identity: X509Identity | undefined;
  const anchors: string[] = [];
  for (const x of v.X ?? []) {
    const eq = x.indexOf('=');
    const attr = eq < 0 ? x : x.slice(0, eq);
    const value = eq < 0 ? '' : x.slice(eq + 1);
    if (attr === 'X509_user_identity') {
      try {
        identity = parseX509Identity(value);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    }
    else if (attr === 'X509_anchors') anchors.push(value);
    else throw new UsageError(`unsupported -X attribute ${attr} (kerbside knows X509_user_identity and X509_anchors)`);
  }
  if (identity !== undefined && v.k === true) throw new UsageError('-X X509_user_identity and -k cannot be combined');
  const lifetime = duration('l', v.l);
  const renewable = duration('r', v.r);
  return {
    ...(parsed.positionals[0] !== undefined ? { principal: parsed.positionals[0] } : {}),
    ...(v.c !== undefined ? { cache: v.c } : {}),
    ...(v.k === true ? { keytab: v.t ?? true } : {}),
    ...(lifetime !== undefined ? { lifetime } : {}),
    ...(renewable !== undefined ? { renewable } : {}),
    ...(v.f === true ? { forwardable: true } : v.F === true ? { forwardable: false } : {}),
    ...(v.p === true ? { proxiable: true } : v.P === true ? { proxiable: false } : {}),
    ...(v.S !== undefined ? { service: v.S } : {}),
    ...(identity !== undefined ? { identity } : {}),
    anchors,
    renew: v.R === true,
    validate: v.v === true,
    verbose: v.V === true,
    canonicalize: v.C === true,
    enterprise: v.E === true,
    anonymous: v.n === true,
    ...(startTime !== undefined ? { startTime } : {}),
  };
}

/** MIT's defaults: host/<hostname> with -k; else the cache's principal; else the login name. */
async function defaultPrincipalName(io: CliIO, ccache: string, keytab: boolean): Promise<string> {
  if (keytab) return `host/${hostname().toLowerCase()}`;
  const cache = await readCcacheIfExists(ccache).catch(() => undefined);
  if (cache !== undefined) return principalToString(cache.defaultPrincipal);
  const user = io.env['USER'] ?? io.env['LOGNAME'];
  if (user === undefined || user === '') throw new UsageError('no principal given and no user name in the environment (USER)');
  return user;
}
