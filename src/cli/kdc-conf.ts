/**
 * The configuration side of a realm directory: the files it holds, kdc.conf
 * (MIT kdc.conf(5) profile syntax, read and written with the files module),
 * listen addresses in MIT's kdc_listen syntax, the realm policy the KDC gets
 * from it, and the krb5.conf clients need.
 */

import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { fromUtf8 } from '../core/bytes.js';
import { enctypeName, enctypesFromName } from '../crypto/index.js';
import { readFileIfExists } from '../files/index.js';
import {
  Profile, formatDuration, formatProfile, parseBoolean, parseDuration, parseProfile, splitList,
} from '../files/index.js';
import {
  TRANSPORT_DEFAULTS, checkPasswordQualityPolicy, type ListenAddress, type PasswordQualityPolicy, type RealmPolicyInput, type ServeOptions,
} from '../kdc/index.js';
import { RealmDirectoryError } from './errors.js';

export const REALM_FILES = Object.freeze({
  config: 'kdc.conf',
  database: 'principal.sqlite',
  stash: 'stash',
  krb5Conf: 'krb5.conf',
});

/** What kdc.conf says about the realm (lifetimes and skew in seconds). */
export interface RealmSettings {
  /** Absolute path of the realm directory. */
  readonly dir: string;
  readonly realm: string;
  readonly databasePath: string;
  readonly stashPath: string;
  /** Where the KDC listens, UDP and TCP merged per address. */
  readonly listen: readonly ListenAddress[];
  readonly maxLife: number;
  readonly maxRenewableLife: number;
  readonly clockSkew: number;
  /** Enctypes of new keys and of issued tickets, most preferred first. */
  readonly supportedEnctypes: readonly number[];
  /**
   * Checked whenever an admin command sets a password (kdc.conf
   * `password_quality = { minlength minclasses history }` in the realm, MIT's
   * kadm5 policy names). Absent in a kdc.conf written before it existed: no checks.
   */
  readonly passwordQuality?: PasswordQualityPolicy;
  /** Account lockout (docs/lockout.md); maxFailure 0 = off. */
  readonly lockout: RealmLockoutSettings;
  /** Transport limits (docs/kdc-transport.md); absent names take TRANSPORT_DEFAULTS. */
  readonly transport: TransportSettings;
  /** PKINIT (docs/pkinit.md), when kdc.conf names a pkinit_identity. */
  readonly pkinit?: PkinitSettings;
  /** The persistent event log in the realm directory (docs/events.md "The event log"). */
  readonly eventLog?: EventLogSettings;
  /** NTLM (docs/ntlm.md "Credentials" and "Validation"). */
  readonly ntlm: NtlmSettings;
}

/**
 * `ntlm = true` in the realm section: principals with allowNtlm get an NTLM
 * credential whenever their password is set. `ntlm_listen = 127.0.0.1:PORT`
 * (realm section or [kdcdefaults]): where `kerbside kdc` answers pass-through
 * validation requests from web nodes (TCP only; none by default).
 */
export interface NtlmSettings {
  readonly enabled: boolean;
  readonly listen: readonly ListenAddress[];
}

/**
 * kdc.conf `eventlog = false` turns the event log off; `eventlog_max_age`
 * (a duration, 0 = no limit) and `eventlog_max_size` (bytes, with K/M/G
 * suffixes, 0 = no limit) set its retention.
 */
export interface EventLogSettings {
  readonly enabled: boolean;
  /** Seconds. */
  readonly maxAge: number;
  /** Bytes. */
  readonly maxSize: number;
}

export const DEFAULT_EVENT_LOG_SETTINGS: EventLogSettings = Object.freeze({ enabled: true, maxAge: 90 * 86_400, maxSize: 100 * 1024 * 1024 });

/** "100M", "1G", "512K", "1048576" → bytes (powers of 1024, as MIT's and logrotate's sizes). */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+)\s*([kmg]?)i?b?\s*$/i.exec(text);
  if (m === null) throw new Error(`"${text}" is not a size (e.g. 100M, 1G, 512K, or a number of bytes)`);
  const n = Number(m[1]) * 1024 ** ({ '': 0, k: 1, m: 2, g: 3 } as Record<string, number>)[m[2]!.toLowerCase()]!;
  if (!Number.isSafeInteger(n)) throw new Error(`"${text}" is too large`);
  return n;
}

function eventLogSettings(tag: (name: string) => string | undefined, profile: Profile, where: (name: string) => string[], file: string): EventLogSettings {
  const on = tag('eventlog');
  if (on !== undefined && !/^\s*(true|false|yes|no|on|off|1|0)\s*$/i.test(on)) {
    throw new RealmDirectoryError(`${file}: eventlog = "${on}" is not true or false`, { hint: 'eventlog = false turns the event log off' });
  }
  const size = tag('eventlog_max_size');
  let maxSize = DEFAULT_EVENT_LOG_SETTINGS.maxSize;
  if (size !== undefined) {
    try {
      maxSize = parseByteSize(size);
    } catch (err) {
      throw new RealmDirectoryError(`${file}: eventlog_max_size = "${size}" is not a size`, { hint: 'e.g. eventlog_max_size = 100M (0 = no limit)', cause: err });
    }
  }
  return {
    enabled: on === undefined || /^\s*(true|yes|on|1)\s*$/i.test(on),
    maxAge: duration(profile, where('eventlog_max_age'), DEFAULT_EVENT_LOG_SETTINGS.maxAge, file),
    maxSize,
  };
}

/**
 * PKINIT settings with MIT's kdc.conf names (realm section or
 * [kdcdefaults]): pkinit_identity = FILE:cert.pem,key.pem; pkinit_anchors =
 * FILE:ca.pem (repeatable); pkinit_revoke = FILE:crl (repeatable);
 * pkinit_allow_upn; pkinit_require_freshness; pkinit_dh_min_bits;
 * pkinit_eku_checking = kpClientAuth | scLogin. Paths are absolute.
 */
export interface PkinitSettings {
  readonly certificate: string;
  readonly key: string;
  readonly anchors: readonly string[];
  readonly revoke: readonly string[];
  readonly allowUpn: boolean;
  readonly requireFreshness: boolean;
  readonly dhMinBits: number;
  readonly allowSmartCardLogonEku: boolean;
}

/**
 * The KDC's transport limits as kdc.conf names them ([kdcdefaults], or the
 * realm's section). MIT has none of these (its limits are compiled in), so
 * the names follow its `kdc_*` style: kdc_tcp_max_connections,
 * kdc_tcp_max_connections_per_address, kdc_tcp_request_timeout,
 * kdc_tcp_idle_timeout (durations), kdc_udp_max_in_flight.
 */
export interface TransportSettings {
  readonly maxTcpConnections: number;
  readonly maxTcpConnectionsPerAddress: number;
  /** Seconds. */
  readonly tcpRequestTimeout: number;
  /** Seconds. */
  readonly tcpIdleTimeout: number;
  readonly maxUdpInFlight: number;
}

export const TRANSPORT_SETTING_NAMES = Object.freeze({
  maxTcpConnections: 'kdc_tcp_max_connections',
  maxTcpConnectionsPerAddress: 'kdc_tcp_max_connections_per_address',
  tcpRequestTimeout: 'kdc_tcp_request_timeout',
  tcpIdleTimeout: 'kdc_tcp_idle_timeout',
  maxUdpInFlight: 'kdc_udp_max_in_flight',
});

/**
 * Lockout as kdc.conf says it, with the names and units of MIT's kadmin
 * policy (maxfailure, failurecountinterval, lockoutduration: seconds or
 * kdc.conf durations; lockoutduration 0 = until an administrator unlocks).
 * MIT keeps them on a password policy; kerbside reads realm-wide defaults
 * from [realms] REALM = { … } (or [kdcdefaults]). maxfailure counts per
 * source address; maxfailure_all_sources (kerbside's own) per principal.
 */
export interface RealmLockoutSettings {
  readonly maxFailure: number;
  /** Seconds; 0 = failures never expire. */
  readonly failureCountInterval: number;
  /** Seconds; 0 = until an administrator unlocks. */
  readonly lockoutDuration: number;
  /** Absent: DEFAULT_LOCKOUT_SOURCES_FACTOR × maxFailure. */
  readonly maxFailureAllSources?: number;
}

/** No lockout (a kdc.conf without lockout settings, as MIT without a policy). */
export const NO_LOCKOUT_SETTINGS: RealmLockoutSettings = Object.freeze({ maxFailure: 0, failureCountInterval: 0, lockoutDuration: 0 });

/**
 * What `realm init` writes. 10 failures from one address within 15 minutes
 * lock that address out for 15 minutes (the Windows security baseline's
 * threshold and times; NIST SP 800-63B allows at most 100); 50 failures
 * from five or more addresses lock the principal everywhere.
 */
export const INIT_LOCKOUT_SETTINGS: RealmLockoutSettings = Object.freeze({
  maxFailure: 10, failureCountInterval: 15 * 60, lockoutDuration: 15 * 60, maxFailureAllSources: 50,
});

export const DEFAULT_REALM_SETTINGS = Object.freeze({
  maxLife: 10 * 3600,
  maxRenewableLife: 7 * 86_400,
  clockSkew: 300,
  supportedEnctypes: Object.freeze([18, 17, 20, 19]),
  listen: Object.freeze([Object.freeze({ host: '127.0.0.1', port: 88 })]),
});

// ---------------------------------------------------------------------------
// Listen addresses (MIT kdc_listen syntax)

/**
 * Parses one kdc_listen / --listen token as MIT does: `addr:port`,
 * `[v6addr]:port`, a bare `port` (every address: 0.0.0.0 and ::) or a bare
 * address (port 88). Addresses must be IP literals.
 */
export function parseListenAddress(token: string, defaultPort = 88): ListenAddress[] {
  const text = token.trim();
  let host: string | undefined;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed !== null) {
    host = bracketed[1]!;
    portText = bracketed[2];
  } else if (/^\d+$/.test(text)) {
    portText = text;
  } else if (isIP(text) === 6) {
    host = text;
  } else {
    const at = text.lastIndexOf(':');
    host = at < 0 ? text : text.slice(0, at);
    portText = at < 0 ? undefined : text.slice(at + 1);
  }
  const port = portText === undefined ? defaultPort : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || (portText !== undefined && !/^\d+$/.test(portText))) {
    throw new RealmDirectoryError(`listen address "${token}": "${portText ?? ''}" is not a port number (0-65535)`);
  }
  if (host === undefined) return [{ host: '0.0.0.0', port }, { host: '::', port }];
  if (isIP(host) === 0) {
    throw new RealmDirectoryError(`listen address "${token}": "${host}" is not an IP address`, {
      hint: 'write an IPv4 or IPv6 address, e.g. 127.0.0.1:88, [::1]:88, 0.0.0.0:88, or a bare port for every address',
    });
  }
  return [{ host, port }];
}

export function formatListenAddress(a: { host: string; port: number }): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Merges UDP and TCP lists into one address list with the transports of each. */
function mergeListen(udp: readonly ListenAddress[], tcp: readonly ListenAddress[]): ListenAddress[] {
  const byKey = new Map<string, { host: string; port: number; transports: Set<'udp' | 'tcp'> }>();
  const add = (a: ListenAddress, t: 'udp' | 'tcp'): void => {
    const key = formatListenAddress(a);
    const entry = byKey.get(key) ?? { host: a.host, port: a.port, transports: new Set() };
    entry.transports.add(t);
    byKey.set(key, entry);
  };
  for (const a of udp) add(a, 'udp');
  for (const a of tcp) add(a, 'tcp');
  return [...byKey.values()].map((e) => (e.transports.size === 2
    ? { host: e.host, port: e.port }
    : { host: e.host, port: e.port, transports: [...e.transports] }));
}

// ---------------------------------------------------------------------------
// kdc.conf

/** Writes kdc.conf text for a realm (paths relative to the realm directory). */
export function formatKdcConf(s: Omit<RealmSettings, 'dir' | 'databasePath' | 'stashPath' | 'lockout' | 'transport' | 'ntlm'> & {
  readonly lockout?: RealmLockoutSettings;
  readonly transport?: TransportSettings;
  readonly ntlm?: NtlmSettings;
}): string {
  const lockout = s.lockout === undefined || s.lockout.maxFailure === 0 ? {} : {
    maxfailure: String(s.lockout.maxFailure),
    failurecountinterval: formatDuration(s.lockout.failureCountInterval),
    lockoutduration: formatDuration(s.lockout.lockoutDuration),
    ...(s.lockout.maxFailureAllSources === undefined ? {} : { maxfailure_all_sources: String(s.lockout.maxFailureAllSources) }),
  };
  const n = TRANSPORT_SETTING_NAMES;
  const transport = s.transport === undefined ? {} : {
    [n.maxTcpConnections]: String(s.transport.maxTcpConnections),
    [n.maxTcpConnectionsPerAddress]: String(s.transport.maxTcpConnectionsPerAddress),
    [n.tcpRequestTimeout]: formatDuration(s.transport.tcpRequestTimeout),
    [n.tcpIdleTimeout]: formatDuration(s.transport.tcpIdleTimeout),
    [n.maxUdpInFlight]: String(s.transport.maxUdpInFlight),
  };
  const transportNote = s.transport === undefined ? ''
    : '# Transport limits (docs/kdc-transport.md): TCP connections per listener and per client address (an IPv6 /64),\n'
      + '# time to deliver a complete TCP request, idle time between requests, UDP requests processed at once.\n';
  const listen = s.listen.map(formatListenAddress).join(' ');
  const enctypes = s.supportedEnctypes.map((e) => `${enctypeName(e)}:normal`).join(' ');
  const lockoutNote = s.lockout === undefined || s.lockout.maxFailure === 0 ? ''
    : '# Lockout: maxfailure failures from one address (an IPv6 /64) within failurecountinterval lock the principal\n'
      + '# for that address for lockoutduration (0 = until `kerbside principal modify NAME --unlock`);\n'
      + '# maxfailure_all_sources failures from all addresses lock it everywhere. maxfailure = 0 turns lockout off.\n';
  return `# kerbside realm ${s.realm}: MIT kdc.conf(5) syntax; relative paths are relative to this directory.\n${lockoutNote}${transportNote}${formatProfile({
    kdcdefaults: {
      kdc_listen: listen,
      kdc_tcp_listen: listen,
      clockskew: formatDuration(s.clockSkew),
      ...transport,
    },
    realms: {
      [s.realm]: {
        database_name: REALM_FILES.database,
        key_stash_file: REALM_FILES.stash,
        master_key_type: enctypeName(18),
        max_life: formatDuration(s.maxLife),
        max_renewable_life: formatDuration(s.maxRenewableLife),
        supported_enctypes: enctypes,
        ...(s.passwordQuality === undefined ? {} : {
          password_quality: {
            minlength: s.passwordQuality.minLength,
            minclasses: s.passwordQuality.minClasses,
            history: s.passwordQuality.history,
          },
        }),
        ...lockout,
        ...(s.ntlm?.enabled === true ? { ntlm: 'true' } : {}),
        ...(s.ntlm === undefined || s.ntlm.listen.length === 0 ? {} : { ntlm_listen: s.ntlm.listen.map(formatListenAddress).join(' ') }),
      },
    },
  })}`;
}

/** NTLM off: what a kdc.conf without `ntlm` gets. */
export const NTLM_OFF: NtlmSettings = Object.freeze({ enabled: false, listen: Object.freeze([]) });

/** Parses an enctype list ("aes256-cts-hmac-sha1-96:normal aes128-cts …", families such as "aes" allowed); unknown names are errors. */
export function parseEnctypeList(text: string, where: string): number[] {
  const out: number[] = [];
  for (const token of splitList([text])) {
    const name = token.split(':')[0]!;
    const found = enctypesFromName(name);
    if (found.length === 0) {
      throw new RealmDirectoryError(`${where}: "${name}" is not an enctype kerbside implements`, {
        hint: 'use aes256-cts-hmac-sha1-96, aes128-cts-hmac-sha1-96, aes256-cts-hmac-sha384-192, aes128-cts-hmac-sha256-128 or a family such as aes',
      });
    }
    for (const e of found) if (!out.includes(e)) out.push(e);
  }
  if (out.length === 0) throw new RealmDirectoryError(`${where}: the enctype list is empty`);
  return out;
}

function duration(profile: Profile, path: string[], fallback: number, file: string): number {
  const value = profile.getValue(path);
  if (value === undefined) return fallback;
  try {
    return parseDuration(value);
  } catch (err) {
    throw new RealmDirectoryError(`${file}: ${path.join('.')} = "${value}" is not a duration`, { hint: 'e.g. 10h, 7d, 5m', cause: err });
  }
}

/** The realm's `password_quality` subsection, or undefined when kdc.conf has none. */
function passwordQuality(profile: Profile, realm: string, file: string): PasswordQualityPolicy | undefined {
  const path = ['realms', realm, 'password_quality'];
  if (!profile.subsectionNames(['realms', realm]).includes('password_quality')) return undefined;
  const number = (name: string, fallback: number): number => {
    const value = profile.getValue([...path, name]);
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value.trim())) {
      throw new RealmDirectoryError(`${file}: ${[...path, name].join('.')} = "${value}" is not a whole number`);
    }
    return Number(value.trim());
  };
  const policy = { minLength: number('minlength', 0), minClasses: number('minclasses', 1), history: number('history', 1) };
  try {
    return checkPasswordQualityPolicy(policy);
  } catch (err) {
    throw new RealmDirectoryError(`${file}: ${(err as Error).message}`, { cause: err });
  }
}

function count(value: string | undefined, where: string, file: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new RealmDirectoryError(`${file}: ${where} = "${value}" is not a whole number of failures`, { hint: 'e.g. maxfailure = 10; 0 turns lockout off' });
  }
  return Number(value);
}

function lockoutSettings(tag: (name: string) => string | undefined, profile: Profile, where: (name: string) => string[], file: string): RealmLockoutSettings {
  const maxFailure = count(tag('maxfailure'), 'maxfailure', file) ?? 0;
  const allSources = count(tag('maxfailure_all_sources'), 'maxfailure_all_sources', file);
  return {
    maxFailure,
    failureCountInterval: duration(profile, where('failurecountinterval'), 0, file),
    lockoutDuration: duration(profile, where('lockoutduration'), 0, file),
    ...(allSources === undefined ? {} : { maxFailureAllSources: allSources }),
  };
}

function transportSettings(tag: (name: string) => string | undefined, profile: Profile, where: (name: string) => string[], file: string): TransportSettings {
  const n = TRANSPORT_SETTING_NAMES;
  const d = TRANSPORT_DEFAULTS;
  const whole = (name: string, fallback: number): number => {
    const value = tag(name);
    if (value === undefined) return fallback;
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < 1) {
      throw new RealmDirectoryError(`${file}: ${name} = "${value}" is not a whole number of at least 1`, { hint: `e.g. ${name} = ${fallback}` });
    }
    return Number(value);
  };
  const seconds = (name: string, fallbackMs: number): number => {
    const value = duration(profile, where(name), fallbackMs / 1000, file);
    if (value < 1) throw new RealmDirectoryError(`${file}: ${name} must be at least one second`, { hint: `e.g. ${name} = ${formatDuration(fallbackMs / 1000)}` });
    return value;
  };
  return {
    maxTcpConnections: whole(n.maxTcpConnections, d.maxTcpConnections),
    maxTcpConnectionsPerAddress: whole(n.maxTcpConnectionsPerAddress, d.maxTcpConnectionsPerAddress),
    tcpRequestTimeout: seconds(n.tcpRequestTimeout, d.tcpRequestTimeoutMs),
    tcpIdleTimeout: seconds(n.tcpIdleTimeout, d.tcpIdleTimeoutMs),
    maxUdpInFlight: whole(n.maxUdpInFlight, d.maxUdpInFlight),
  };
}

/** What `realm init` writes and a kdc.conf without the names gets. */
export const DEFAULT_TRANSPORT_SETTINGS: TransportSettings = Object.freeze({
  maxTcpConnections: TRANSPORT_DEFAULTS.maxTcpConnections,
  maxTcpConnectionsPerAddress: TRANSPORT_DEFAULTS.maxTcpConnectionsPerAddress,
  tcpRequestTimeout: TRANSPORT_DEFAULTS.tcpRequestTimeoutMs / 1000,
  tcpIdleTimeout: TRANSPORT_DEFAULTS.tcpIdleTimeoutMs / 1000,
  maxUdpInFlight: TRANSPORT_DEFAULTS.maxUdpInFlight,
});

/** The serveKdc options for the transport limits kdc.conf sets. */
export function transportOptions(s: TransportSettings): Pick<ServeOptions,
  'maxTcpConnections' | 'maxTcpConnectionsPerAddress' | 'tcpRequestTimeoutMs' | 'tcpIdleTimeoutMs' | 'maxUdpInFlight'> {
  return {
    maxTcpConnections: s.maxTcpConnections,
    maxTcpConnectionsPerAddress: s.maxTcpConnectionsPerAddress,
    tcpRequestTimeoutMs: s.tcpRequestTimeout * 1000,
    tcpIdleTimeoutMs: s.tcpIdleTimeout * 1000,
    maxUdpInFlight: s.maxUdpInFlight,
  };
}

/** Reads `<dir>/kdc.conf`. */
export async function readRealmSettings(dir: string): Promise<RealmSettings> {
  const abs = resolve(dir);
  const file = join(abs, REALM_FILES.config);
  const bytes = await readFileIfExists(file, 'realm configuration');
  if (bytes === undefined) {
    throw new RealmDirectoryError(`no realm in ${abs}: ${REALM_FILES.config} not found`, {
      hint: `create one with: kerbside realm init --realm EXAMPLE.TEST --dir ${dir}`,
    });
  }
  const profile = new Profile([await parseProfile(fromUtf8(bytes), { file })]);
  const realms = profile.subsectionNames(['realms']);
  if (realms.length !== 1) {
    throw new RealmDirectoryError(`${file} must describe exactly one realm under [realms], it has ${realms.length}`);
  }
  const realm = realms[0]!;
  const tag = (name: string): string | undefined =>
    profile.getValue(['realms', realm, name]) ?? profile.getValue(['kdcdefaults', name]);
  const listenOf = (name: string): ListenAddress[] => {
    const text = tag(name);
    return text === undefined ? [...DEFAULT_REALM_SETTINGS.listen] : splitList([text]).flatMap((t) => parseListenAddress(t));
  };
  const enctypes = profile.getValue(['realms', realm, 'supported_enctypes']);
  const where = (name: string): string[] =>
    (profile.getValue(['realms', realm, name]) === undefined && profile.getValue(['kdcdefaults', name]) !== undefined ? ['kdcdefaults', name] : ['realms', realm, name]);
  return {
    dir: abs,
    realm,
    databasePath: resolve(abs, profile.getValue(['realms', realm, 'database_name']) ?? REALM_FILES.database),
    stashPath: resolve(abs, profile.getValue(['realms', realm, 'key_stash_file']) ?? REALM_FILES.stash),
    listen: mergeListen(listenOf('kdc_listen'), listenOf('kdc_tcp_listen')),
    maxLife: duration(profile, ['realms', realm, 'max_life'], DEFAULT_REALM_SETTINGS.maxLife, file),
    maxRenewableLife: duration(profile, ['realms', realm, 'max_renewable_life'], DEFAULT_REALM_SETTINGS.maxRenewableLife, file),
    clockSkew: duration(profile, ['kdcdefaults', 'clockskew'], DEFAULT_REALM_SETTINGS.clockSkew, file),
    supportedEnctypes: enctypes === undefined
      ? [...DEFAULT_REALM_SETTINGS.supportedEnctypes]
      : parseEnctypeList(enctypes, `${file}: supported_enctypes`),
    ...optional('passwordQuality', passwordQuality(profile, realm, file)),
    lockout: lockoutSettings(tag, profile, where, file),
    transport: transportSettings(tag, profile, where, file),
    ...optional('pkinit', pkinitSettings(profile, realm, abs, file)),
    eventLog: eventLogSettings(tag, profile, where, file),
    ntlm: ntlmSettings(profile, realm, tag, file),
  };
}

function ntlmSettings(profile: Profile, realm: string, tag: (name: string) => string | undefined, file: string): NtlmSettings {
  const text = profile.getValue(['realms', realm, 'ntlm']);
  if (text === undefined && tag('ntlm_listen') === undefined) return NTLM_OFF;
  const enabled = text === undefined ? false : parseBoolean(text);
  if (enabled === undefined) throw new RealmDirectoryError(`${file}: ntlm = "${text!}" is not a boolean`, { hint: 'ntlm = true or ntlm = false' });
  const listenText = tag('ntlm_listen');
  const listen = listenText === undefined ? [] : splitList([listenText]).flatMap((t) => parseListenAddress(t, Number.NaN));
  if (listen.length > 0 && !enabled) {
    throw new RealmDirectoryError(`${file}: ntlm_listen is set but NTLM is not enabled for realm ${realm}`, { hint: 'add ntlm = true to the realm section, or remove ntlm_listen' });
  }
  return { enabled, listen };
}

/** FILE:path → absolute path (MIT's identity and anchor syntax; only FILE: here). */
function fileReference(value: string, name: string, dir: string, file: string): string[] {
  const m = /^FILE:(.+)$/.exec(value.trim());
  if (m === null) {
    throw new RealmDirectoryError(`${file}: ${name} = "${value}" is not a FILE: reference`, {
      hint: `write ${name} = FILE:path (relative to the realm directory); PKCS11: and DIR: are not supported for the KDC`,
    });
  }
  return m[1]!.split(',').map((p) => resolve(dir, p.trim()));
}

function pkinitSettings(profile: Profile, realm: string, dir: string, file: string): PkinitSettings | undefined {
  const values = (name: string): string[] => {
    const own = profile.getValues(['realms', realm, name]);
    return own.length > 0 ? own : profile.getValues(['kdcdefaults', name]);
  };
  const identity = values('pkinit_identity')[0];
  if (identity === undefined) return undefined;
  const [certificate, key] = fileReference(identity, 'pkinit_identity', dir, file);
  if (certificate === undefined || key === undefined) {
    throw new RealmDirectoryError(`${file}: pkinit_identity = "${identity}" needs a certificate and a key`, { hint: 'pkinit_identity = FILE:pkinit/kdc.pem,pkinit/kdc.key' });
  }
  const anchors = values('pkinit_anchors').flatMap((v) => fileReference(v, 'pkinit_anchors', dir, file));
  if (anchors.length === 0) {
    throw new RealmDirectoryError(`${file}: pkinit_identity is set but pkinit_anchors is not`, { hint: 'pkinit_anchors = FILE:pkinit/ca.pem (the CA that issues user certificates)' });
  }
  const flag = (name: string): boolean => {
    const v = values(name)[0];
    if (v === undefined) return false;
    const b = parseBoolean(v);
    if (b === undefined) throw new RealmDirectoryError(`${file}: ${name} = "${v}" is not a boolean`, { hint: 'true or false' });
    return b;
  };
  const bits = values('pkinit_dh_min_bits')[0]?.trim() ?? '2048';
  if (bits !== '2048' && bits !== '4096') {
    throw new RealmDirectoryError(`${file}: pkinit_dh_min_bits = "${bits}" is not 2048 or 4096`, { hint: 'MODP 2048 is the minimum (RFC 3526 group 14); ECDH clients are accepted whatever this says' });
  }
  const eku = values('pkinit_eku_checking')[0]?.trim() ?? 'kpClientAuth';
  if (eku !== 'kpClientAuth' && eku !== 'scLogin') {
    throw new RealmDirectoryError(`${file}: pkinit_eku_checking = "${eku}" is not kpClientAuth or scLogin`, { hint: 'scLogin also accepts the Microsoft smart-card logon EKU' });
  }
  return {
    certificate, key, anchors,
    revoke: values('pkinit_revoke').flatMap((v) => fileReference(v, 'pkinit_revoke', dir, file)),
    allowUpn: flag('pkinit_allow_upn'),
    requireFreshness: flag('pkinit_require_freshness'),
    dhMinBits: Number(bits),
    allowSmartCardLogonEku: eku === 'scLogin',
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** The KDC's realm policy from the settings. */
export function realmPolicy(s: RealmSettings): RealmPolicyInput {
  return {
    maxLife: s.maxLife,
    maxRenewableLife: s.maxRenewableLife,
    clockSkew: s.clockSkew,
    permittedEnctypes: s.supportedEnctypes,
    lockout: {
      maxFailures: s.lockout.maxFailure,
      failureWindowMs: s.lockout.failureCountInterval * 1000,
      lockoutDurationMs: s.lockout.lockoutDuration * 1000,
      ...(s.lockout.maxFailureAllSources === undefined ? {} : { maxFailuresAllSources: s.lockout.maxFailureAllSources }),
    },
  };
}

// ---------------------------------------------------------------------------
// krb5.conf for clients

/** The address clients should use for a listen address (a wildcard becomes loopback). */
export function clientAddress(a: { host: string; port: number }): string {
  const host = a.host === '0.0.0.0' ? '127.0.0.1' : a.host === '::' ? '::1' : a.host;
  return formatListenAddress({ host, port: a.port });
}
