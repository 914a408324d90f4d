/**
 * Client configuration from krb5.conf (MIT krb5.conf(5)), read with the
 * files module's parser: from a path, from KRB5_CONFIG (then
 * /etc/krb5.conf), or given as an object. Times are milliseconds.
 *
 * One deliberate difference from MIT: `dns_canonicalize_hostname` defaults to
 * false (host names in service principals are used as given). DNS is asked
 * for a realm's KDCs (SRV records, kdc-srv.ts) only when the realm lists no
 * `kdc` and `dns_lookup_kdc` is on (MIT's default in krb5.conf; off in the
 * object form unless `dnsLookupKdc: true`); never for realms.
 */

import { InvalidArgumentError } from '../core/errors.js';
import { DEFAULT_ENCTYPES, isSupportedEnctype, type PkinitGroup } from '../crypto/index.js';
import { Krb5Config, resolveEnctypeList, splitList } from '../files/index.js';
import { parseKdcAddress, type KdcAddress } from './kdc-address.js';
import { DEFAULT_KDC_TIMEOUT, DEFAULT_UDP_PREFERENCE_LIMIT } from './send-to-kdc.js';

export interface ClientConfig {
  readonly defaultRealm: string | undefined;
  /** Files KRB5_CONFIG names that do not exist: skipped as MIT skips them, but named in the errors they cause. */
  readonly missingConfigFiles?: readonly string[];
  /** Realm → its KDCs in failover order, and its PKINIT settings ([realms] pkinit_anchors, pkinit_kdc_hostname). */
  readonly realms: Readonly<Record<string, RealmClientConfig>>;
  /** [libdefaults] pkinit_anchors (FILE:/DIR: values), used for realms without their own. */
  readonly pkinitAnchors: readonly string[];
  /** The DH group PKINIT offers first (pkinit_dh_min_bits: 2048 → modp2048, 4096 → modp4096, P-256, P-384). */
  readonly pkinitGroup: PkinitGroup;
  readonly udpPreferenceLimit: number;
  /** Look a realm's KDCs up in DNS SRV records when it lists no `kdc` (dns_lookup_kdc). */
  readonly dnsLookupKdc: boolean;
  /** Per-try KDC timeout, ms. */
  readonly kdcTimeout: number;
  /** Enctypes for AS requests (default_tkt_enctypes ∩ permitted_enctypes). */
  readonly tktEnctypes: readonly number[];
  /** Enctypes for TGS requests (default_tgs_enctypes ∩ permitted_enctypes). */
  readonly tgsEnctypes: readonly number[];
  readonly permittedEnctypes: readonly number[];
  readonly allowWeakCrypto: boolean;
  /** Allowed clock skew, ms. */
  readonly clockSkew: number;
  /** Requested ticket lifetime, ms. */
  readonly ticketLifetime: number;
  /** Requested renewable lifetime, ms (0: not renewable). */
  readonly renewLifetime: number;
  readonly forwardable: boolean;
  readonly proxiable: boolean;
  readonly dnsCanonicalizeHostname: boolean;
  readonly defaultCcacheName: string | undefined;
  readonly defaultKeytabName: string | undefined;
  readonly defaultClientKeytabName: string | undefined;
}

export interface RealmClientConfig {
  readonly kdcs: readonly KdcAddress[];
  readonly pkinitAnchors?: readonly string[];
  readonly pkinitKdcHostnames?: readonly string[];
}

/** The object form: any subset, KDCs as krb5.conf strings ("host:port", "tcp/host"). */
export interface ClientConfigOptions {
  readonly defaultRealm?: string;
  readonly realms?: Readonly<Record<string, {
    readonly kdc: readonly string[];
    readonly pkinitAnchors?: readonly string[];
    readonly pkinitKdcHostnames?: readonly string[];
  }>>;
  readonly pkinitAnchors?: readonly string[];
  readonly pkinitGroup?: PkinitGroup;
  readonly udpPreferenceLimit?: number;
  /** Default false here (krb5.conf: MIT's default, true). */
  readonly dnsLookupKdc?: boolean;
  readonly kdcTimeout?: number;
  readonly permittedEnctypes?: readonly number[];
  readonly tktEnctypes?: readonly number[];
  readonly tgsEnctypes?: readonly number[];
  readonly allowWeakCrypto?: boolean;
  readonly clockSkew?: number;
  readonly ticketLifetime?: number;
  readonly renewLifetime?: number;
  readonly forwardable?: boolean;
  readonly proxiable?: boolean;
  readonly dnsCanonicalizeHostname?: boolean;
  readonly defaultCcacheName?: string;
  readonly defaultKeytabName?: string;
  readonly defaultClientKeytabName?: string;
}

const HOUR = 3_600_000;

function supported(list: readonly number[], allowWeak: boolean): number[] {
  return list.filter((e) => isSupportedEnctype(e) && (allowWeak || e !== 23));
}

function intersect(wanted: readonly number[], permitted: readonly number[]): number[] {
  return wanted.filter((e) => permitted.includes(e));
}

export function clientConfig(options: ClientConfigOptions = {}): ClientConfig {
  const allowWeak = options.allowWeakCrypto ?? false;
  const permitted = supported(options.permittedEnctypes ?? DEFAULT_ENCTYPES, allowWeak);
  const realms: Record<string, RealmClientConfig> = Object.create(null) as Record<string, RealmClientConfig>;
  for (const [name, r] of Object.entries(options.realms ?? {})) {
    realms[name] = {
      kdcs: r.kdc.map(parseKdcAddress),
      ...(r.pkinitAnchors !== undefined && r.pkinitAnchors.length > 0 ? { pkinitAnchors: [...r.pkinitAnchors] } : {}),
      ...(r.pkinitKdcHostnames !== undefined && r.pkinitKdcHostnames.length > 0 ? { pkinitKdcHostnames: [...r.pkinitKdcHostnames] } : {}),
    };
  }
  const config: ClientConfig = {
    defaultRealm: options.defaultRealm,
    realms: Object.freeze(realms),
    pkinitAnchors: [...(options.pkinitAnchors ?? [])],
    pkinitGroup: options.pkinitGroup ?? 'modp2048',
    udpPreferenceLimit: options.udpPreferenceLimit ?? DEFAULT_UDP_PREFERENCE_LIMIT,
    dnsLookupKdc: options.dnsLookupKdc ?? false,
    kdcTimeout: options.kdcTimeout ?? DEFAULT_KDC_TIMEOUT,
    permittedEnctypes: permitted,
    tktEnctypes: intersect(supported(options.tktEnctypes ?? permitted, allowWeak), permitted),
    tgsEnctypes: intersect(supported(options.tgsEnctypes ?? permitted, allowWeak), permitted),
    allowWeakCrypto: allowWeak,
    clockSkew: options.clockSkew ?? 300_000,
    ticketLifetime: options.ticketLifetime ?? 24 * HOUR,
    renewLifetime: options.renewLifetime ?? 0,
    forwardable: options.forwardable ?? false,
    proxiable: options.proxiable ?? false,
    dnsCanonicalizeHostname: options.dnsCanonicalizeHostname ?? false,
    defaultCcacheName: options.defaultCcacheName,
    defaultKeytabName: options.defaultKeytabName,
    defaultClientKeytabName: options.defaultClientKeytabName,
  };
  if (config.tktEnctypes.length === 0) {
    throw new InvalidArgumentError('no enctype is left for AS requests after applying permitted_enctypes', {
      hint: 'default_tkt_enctypes and permitted_enctypes in krb5.conf share no enctype kerbside supports',
    });
  }
  return Object.freeze(config);
}

/** The client configuration a parsed krb5.conf describes. */
export function clientConfigFromKrb5(conf: Krb5Config): ClientConfig {
  const d = conf.libdefaults();
  const allowWeak = d.allowWeakCrypto;
  const list = (tokens: readonly string[]): number[] => resolveEnctypeList(tokens, DEFAULT_ENCTYPES);
  const realms: Record<string, { kdc: string[]; pkinitAnchors: string[]; pkinitKdcHostnames: string[] }> = {};
  for (const name of conf.realmNames()) {
    const r = conf.realm(name);
    // Several values on one line ("kdc = a b") are not MIT syntax, but split lists are harmless.
    realms[name] = {
      kdc: splitList(r.kdc), pkinitAnchors: [...r.pkinitAnchors],
      pkinitKdcHostnames: conf.profile.getValues(['realms', name, 'pkinit_kdc_hostname']),
    };
  }
  return clientConfig({
    ...(d.defaultRealm !== undefined ? { defaultRealm: d.defaultRealm } : {}),
    realms,
    pkinitAnchors: conf.libdefaultValues('pkinit_anchors'),
    pkinitGroup: pkinitGroupOf(conf.libdefault('pkinit_dh_min_bits')),
    udpPreferenceLimit: d.udpPreferenceLimit,
    dnsLookupKdc: d.dnsLookupKdc,
    permittedEnctypes: list(d.permittedEnctypes),
    tktEnctypes: list(d.defaultTktEnctypes),
    tgsEnctypes: list(d.defaultTgsEnctypes),
    allowWeakCrypto: allowWeak,
    clockSkew: d.clockskew * 1000,
    ticketLifetime: d.ticketLifetime * 1000,
    renewLifetime: d.renewLifetime * 1000,
    forwardable: d.forwardable,
    proxiable: d.proxiable,
    // kerbside's default is false; only an explicit setting turns it on.
    dnsCanonicalizeHostname: conf.libdefault('dns_canonicalize_hostname') === undefined ? false : d.dnsCanonicalizeHostname === true,
    ...(d.defaultCcacheName !== undefined ? { defaultCcacheName: d.defaultCcacheName } : {}),
    ...(d.defaultKeytabName !== undefined ? { defaultKeytabName: d.defaultKeytabName } : {}),
    ...(d.defaultClientKeytabName !== undefined ? { defaultClientKeytabName: d.defaultClientKeytabName } : {}),
  });
}

export type ClientConfigSource =
  /** Path(s) of krb5.conf files. */
  | string | readonly string[]
  /** An already parsed krb5.conf. */
  | Krb5Config
  /** The object form. */
  | ClientConfigOptions;

/**
 * Loads the client configuration: from the given path(s), a parsed krb5.conf
 * or an object; with no source, from KRB5_CONFIG in `env` (else /etc/krb5.conf),
 * as MIT does (missing files are skipped).
 */
export async function loadClientConfig(
  source?: ClientConfigSource, options: { env?: Readonly<Record<string, string | undefined>> } = {},
): Promise<ClientConfig> {
  if (source instanceof Krb5Config) return clientConfigFromKrb5(source);
  if (source === undefined || typeof source === 'string' || Array.isArray(source)) {
    const conf = await Krb5Config.load({
      ...(options.env !== undefined ? { env: options.env } : {}),
      ...(source !== undefined ? { paths: source as string | readonly string[] } : {}),
    });
    const config = clientConfigFromKrb5(conf);
    const named = source === undefined ? (options.env ?? process.env)['KRB5_CONFIG'] : undefined;
    if (named === undefined || named === '') return config;
    const loaded = new Set(conf.profile.files.map((f) => f.path));
    const missing = named.split(':').filter((p) => p !== '' && !loaded.has(p));
    return missing.length === 0 ? config : { ...config, missingConfigFiles: missing };
  }
  return clientConfig(source as ClientConfigOptions);
}

/**
 * For an error caused by missing configuration (no default realm, no KDC): ' (KRB5_CONFIG names
 * /x/krb5.conf, which does not exist)' when that is so, else ''.
 */
export function missingConfigNote(config: ClientConfig): string {
  const m = config.missingConfigFiles ?? [];
  if (m.length === 0) return '';
  return ` (KRB5_CONFIG names ${m.join(', ')}, which ${m.length === 1 ? 'does' : 'do'} not exist)`;
}

/**
 * MIT pkinit_dh_min_bits: 2048 (default) or 4096 MODP bits; krb5 1.22 also
 * takes P-256 / P-384 for ECDH. Smaller MODP groups are not offered (RFC 8636 §4
 * retires 1024-bit groups).
 */
function pkinitGroupOf(value: string | undefined): PkinitGroup {
  if (value === undefined) return 'modp2048';
  const v = value.trim();
  if (v === 'P-256' || v === 'P-384') return v;
  const bits = Number(v);
  if (!Number.isInteger(bits)) {
    throw new InvalidArgumentError(`pkinit_dh_min_bits = "${value}" is not a number of bits, P-256 or P-384`, {
      hint: 'use 2048 or 4096 (MIT 1.20), or P-256 / P-384 (ECDH)',
    });
  }
  return bits > 2048 ? 'modp4096' : 'modp2048';
}

/** MIT's order: the realm's pkinit_anchors, else [libdefaults] pkinit_anchors. */
export function pkinitAnchorsFor(config: ClientConfig, realm: string): readonly string[] {
  const own = config.realms[realm]?.pkinitAnchors;
  return own !== undefined && own.length > 0 ? own : config.pkinitAnchors;
}
