/**
 * krb5.conf (MIT krb5.conf(5)): the profile tree plus typed accessors for what
 * the client needs, with MIT's defaults and value syntaxes (booleans as
 * profile_parse_boolean, integers as strtol base 0, durations as
 * krb5_string_to_deltat). A libdefaults tag may be overridden per realm in
 * `[libdefaults] REALM = { tag = … }`, as MIT's krb5int_libdefault_* allow.
 */

import { InvalidArgumentError } from '../core/errors.js';
import { DEFAULT_ENCTYPES, enctypesFromName } from '../crypto/index.js';
import { parseDuration } from './deltat.js';
import { ProfileValueError } from './errors.js';
import {
  formatProfile, loadProfile, nodeProfileReader, parseProfile, Profile,
  type ProfileInput, type ProfileReader, type ProfileRelation, type ProfileTree,
} from './profile.js';

/** MIT's compiled-in default configuration path (KRB5_CONFIG replaces it). */
export const DEFAULT_KRB5_CONFIG = '/etc/krb5.conf';

export interface Libdefaults {
  readonly defaultRealm: string | undefined;
  /** true, false or 'fallback' (MIT 1.18+: try as given, then canonicalised). Default true. */
  readonly dnsCanonicalizeHostname: boolean | 'fallback';
  readonly dnsLookupKdc: boolean;
  readonly dnsLookupRealm: boolean;
  /** Messages larger than this go over TCP first. Default 1465. */
  readonly udpPreferenceLimit: number;
  /** Enctype names as written (DEFAULT, families, +/- prefixes kept; ['DEFAULT'] when absent); see resolveEnctypeList. */
  readonly permittedEnctypes: readonly string[];
  readonly defaultTktEnctypes: readonly string[];
  readonly defaultTgsEnctypes: readonly string[];
  /** Seconds. Default 300. */
  readonly clockskew: number;
  /** Seconds. Default 1 day. */
  readonly ticketLifetime: number;
  /** Seconds; 0 = do not ask for renewable tickets. Default 0. */
  readonly renewLifetime: number;
  readonly forwardable: boolean;
  readonly proxiable: boolean;
  readonly noaddresses: boolean;
  readonly rdns: boolean;
  readonly kdcTimesync: boolean;
  readonly allowWeakCrypto: boolean;
  readonly canonicalize: boolean;
  readonly ignoreAcceptorHostname: boolean;
  readonly verifyApReqNofail: boolean;
  readonly defaultCcacheName: string | undefined;
  readonly defaultKeytabName: string | undefined;
  readonly defaultClientKeytabName: string | undefined;
}

export interface RealmConfig {
  readonly name: string;
  readonly kdc: readonly string[];
  /** master_kdc and its 1.19+ name primary_kdc. */
  readonly primaryKdc: readonly string[];
  readonly adminServer: readonly string[];
  readonly kpasswdServer: readonly string[];
  readonly defaultDomain: string | undefined;
  readonly authToLocal: readonly string[];
  readonly httpAnchors: readonly string[];
  readonly pkinitAnchors: readonly string[];
}

const TRUE_WORDS = new Set(['y', 'yes', 'true', 't', '1', 'on']);
const FALSE_WORDS = new Set(['n', 'no', 'false', 'nil', '0', 'off']);

function where(r: ProfileRelation): string {
  return `${r.file}:${r.line}`;
}

/** MIT profile_parse_boolean. */
export function parseBoolean(text: string): boolean | undefined {
  const t = text.toLowerCase();
  return TRUE_WORDS.has(t) ? true : FALSE_WORDS.has(t) ? false : undefined;
}

/** MIT profile_get_integer: strtol base 0 (decimal, 0x hex, leading-0 octal), blanks allowed after. */
export function parseInteger(text: string): number | undefined {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)\s*$/.exec(text);
  if (m === null) return undefined;
  const digits = m[2]!;
  const n = /^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16) : digits.length > 1 && digits.startsWith('0') ? parseInt(digits, 8) : Number(digits);
  const v = m[1] === '-' ? -n : n;
  return v >= -0x80000000 && v <= 0x7fffffff ? v : undefined;
}

/** Splits an enctype list value on blanks and commas (several relations are joined). */
export function splitList(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(/[\s,]+/)).filter((t) => t !== '');
}

/**
 * Resolves an enctype list the way MIT's krb5int_parse_enctype_list does:
 * DEFAULT expands to `defaults`; family names (aes, aes-sha1, aes-sha2, rc4, …)
 * expand; a `-` prefix removes, `+` or none adds; names of enctypes kerbside
 * does not implement are ignored. Weak enctypes are kept: the caller applies
 * allow_weak_crypto.
 */
export function resolveEnctypeList(tokens: readonly string[], defaults: readonly number[] = DEFAULT_ENCTYPES): number[] {
  let out: number[] = [];
  for (const raw of tokens) {
    const remove = raw.startsWith('-');
    const name = raw.replace(/^[+-]/, '');
    const found = name.toUpperCase() === 'DEFAULT' ? defaults : enctypesFromName(name);
    if (remove) out = out.filter((e) => !found.includes(e));
    else for (const e of found) if (!out.includes(e)) out.push(e);
  }
  return out;
}

export class Krb5Config {
  constructor(readonly profile: Profile) {}

  /** Parses krb5.conf text (includes are read through `reader`). */
  static async parse(text: string, options: { file?: string; reader?: ProfileReader } = {}): Promise<Krb5Config> {
    return new Krb5Config(new Profile([await parseProfile(text, options)]));
  }

  /**
   * Loads the files MIT would: `KRB5_CONFIG` from `env` (colon-separated,
   * missing files skipped), else /etc/krb5.conf.
   */
  static async load(options: { env?: Readonly<Record<string, string | undefined>>; paths?: string | readonly string[]; reader?: ProfileReader } = {}): Promise<Krb5Config> {
    const env = options.env ?? process.env;
    const paths = options.paths ?? (env['KRB5_CONFIG'] || DEFAULT_KRB5_CONFIG);
    return new Krb5Config(await loadProfile(paths, options.reader ?? nodeProfileReader));
  }

  /** The merged configuration as plain data. */
  toTree(): ProfileTree {
    return this.profile.toTree();
  }

  #libdefaultRelation(tag: string, realm?: string): ProfileRelation | undefined {
    const realmName = realm ?? this.profile.getValue(['libdefaults', 'default_realm']);
    if (realmName !== undefined) {
      const r = this.profile.relations(['libdefaults', realmName, tag])[0];
      if (r !== undefined) return r;
    }
    return this.profile.relations(['libdefaults', tag])[0];
  }

  /** A [libdefaults] value, the realm's own subsection first. */
  libdefault(tag: string, realm?: string): string | undefined {
    return this.#libdefaultRelation(tag, realm)?.value;
  }

  /** All values of a [libdefaults] tag (the realm's subsection first, if it has any). */
  libdefaultValues(tag: string, realm?: string): string[] {
    const realmName = realm ?? this.profile.getValue(['libdefaults', 'default_realm']);
    if (realmName !== undefined) {
      const v = this.profile.getValues(['libdefaults', realmName, tag]);
      if (v.length > 0) return v;
    }
    return this.profile.getValues(['libdefaults', tag]);
  }

  #typed<T>(tag: string, fallback: T, parse: (text: string) => T | undefined, kind: string, realm?: string): T {
    const r = this.#libdefaultRelation(tag, realm);
    if (r === undefined) return fallback;
    const v = parse(r.value);
    if (v === undefined) {
      throw new ProfileValueError(`${where(r)}: ${tag} = "${r.value}" is not ${kind}`, {
        detail: { tag, file: r.file, line: r.line },
      });
    }
    return v;
  }

  libdefaultBoolean(tag: string, fallback: boolean, realm?: string): boolean {
    return this.#typed(tag, fallback, parseBoolean, 'a boolean (true/false, yes/no, on/off, 1/0)', realm);
  }

  libdefaultInteger(tag: string, fallback: number, realm?: string): number {
    return this.#typed(tag, fallback, parseInteger, 'an integer', realm);
  }

  /** A duration in seconds ("10h", "1d 2h", "36000", "h:m:s"). */
  libdefaultDuration(tag: string, fallback: number, realm?: string): number {
    return this.#typed(tag, fallback, (t) => {
      try {
        return parseDuration(t);
      } catch {
        return undefined;
      }
    }, 'a duration (e.g. "10h", "7d", "1d 2h", "36000")', realm);
  }

  /** Typed [libdefaults] with MIT's defaults, for `realm` (default: default_realm). */
  libdefaults(realm?: string): Libdefaults {
    const str = (tag: string): string | undefined => this.libdefault(tag, realm);
    // MIT reads only the first value of an enctype list tag; absent means DEFAULT.
    const enctypes = (tag: string): string[] => splitList([str(tag) ?? 'DEFAULT']);
    // dns_fallback is the default of both dns_lookup_* tags when it is set.
    const dnsFallback = this.#libdefaultRelation('dns_fallback', realm) === undefined ? undefined : this.libdefaultBoolean('dns_fallback', true, realm);
    const canon = this.#typed<boolean | 'fallback'>('dns_canonicalize_hostname', true,
      (t) => (t.toLowerCase() === 'fallback' ? 'fallback' : parseBoolean(t)), 'true, false or fallback', realm);
    return {
      defaultRealm: this.profile.getValue(['libdefaults', 'default_realm']),
      dnsCanonicalizeHostname: canon,
      dnsLookupKdc: this.libdefaultBoolean('dns_lookup_kdc', dnsFallback ?? true, realm),
      dnsLookupRealm: this.libdefaultBoolean('dns_lookup_realm', dnsFallback ?? false, realm),
      udpPreferenceLimit: this.libdefaultInteger('udp_preference_limit', 1465, realm),
      permittedEnctypes: enctypes('permitted_enctypes'),
      defaultTktEnctypes: enctypes('default_tkt_enctypes'),
      defaultTgsEnctypes: enctypes('default_tgs_enctypes'),
      clockskew: this.libdefaultDuration('clockskew', 300, realm),
      ticketLifetime: this.libdefaultDuration('ticket_lifetime', 86_400, realm),
      renewLifetime: this.libdefaultDuration('renew_lifetime', 0, realm),
      forwardable: this.libdefaultBoolean('forwardable', false, realm),
      proxiable: this.libdefaultBoolean('proxiable', false, realm),
      noaddresses: this.libdefaultBoolean('noaddresses', true, realm),
      rdns: this.libdefaultBoolean('rdns', true, realm),
      kdcTimesync: this.libdefaultBoolean('kdc_timesync', true, realm),
      allowWeakCrypto: this.libdefaultBoolean('allow_weak_crypto', false, realm),
      canonicalize: this.libdefaultBoolean('canonicalize', false, realm),
      ignoreAcceptorHostname: this.libdefaultBoolean('ignore_acceptor_hostname', false, realm),
      verifyApReqNofail: this.libdefaultBoolean('verify_ap_req_nofail', false, realm),
      defaultCcacheName: str('default_ccache_name'),
      defaultKeytabName: str('default_keytab_name'),
      defaultClientKeytabName: str('default_client_keytab_name'),
    };
  }

  /**
   * An enctype list tag (permitted_enctypes, default_tkt_enctypes,
   * default_tgs_enctypes) resolved to numbers, DEFAULT when absent.
   */
  enctypes(tag: 'permitted_enctypes' | 'default_tkt_enctypes' | 'default_tgs_enctypes', realm?: string): number[] {
    return resolveEnctypeList(splitList([this.libdefault(tag, realm) ?? 'DEFAULT']));
  }

  /** Realms that have a subsection under [realms]. */
  realmNames(): string[] {
    return this.profile.subsectionNames(['realms']);
  }

  /** One realm's [realms] entry (empty lists when the realm is not configured). */
  realm(name: string): RealmConfig {
    const values = (tag: string): string[] => this.profile.getValues(['realms', name, tag]);
    return {
      name,
      kdc: values('kdc'),
      primaryKdc: [...values('primary_kdc'), ...values('master_kdc')],
      adminServer: values('admin_server'),
      kpasswdServer: values('kpasswd_server'),
      defaultDomain: values('default_domain')[0],
      authToLocal: values('auth_to_local'),
      httpAnchors: values('http_anchors'),
      pkinitAnchors: values('pkinit_anchors'),
    };
  }

  /** [domain_realm] as host-or-.domain → realm (the earliest value of each wins). */
  domainRealm(): Record<string, string> {
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    const tree = this.profile.toTree(['domain_realm']);
    for (const [k, v] of Object.entries(tree)) {
      const first = v.find((x): x is string => typeof x === 'string');
      if (first !== undefined) out[k] = first;
    }
    return out;
  }

  /**
   * The realm [domain_realm] maps `host` to, as MIT's profile host-realm module
   * searches: the host itself, then each parent domain with a leading dot
   * (".sub.example.com", ".example.com", ".com"). Undefined when none matches.
   */
  realmForHost(host: string): string | undefined {
    return searchHostRealm(host, (key) => this.profile.getValue(['domain_realm', key]));
  }
}

/**
 * MIT's host-realm search over a [domain_realm]-style lookup: the host (lower
 * case, without a trailing dot), then each parent domain with a leading dot
 * (".sub.example.com", ".example.com", ".com"). The first realm found wins.
 */
export function searchHostRealm(host: string, lookup: (key: string) => string | undefined): string | undefined {
  let h = host.toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  for (let p: string | undefined = h; p !== undefined;) {
    const realm = lookup(p);
    if (realm !== undefined) return realm;
    const next = p.indexOf('.', p.startsWith('.') ? 1 : 0);
    p = next < 0 ? undefined : p.slice(next);
  }
  return undefined;
}

/** Loads the KDC's profile as MIT's krb5kdc does: KRB5_KDC_PROFILE, else the given default. */
export async function loadKdcProfile(options: { env?: Readonly<Record<string, string | undefined>>; defaultPath: string; reader?: ProfileReader }): Promise<Profile> {
  const env = options.env ?? process.env;
  return loadProfile(env['KRB5_KDC_PROFILE'] || options.defaultPath, options.reader ?? nodeProfileReader);
}

export interface SimpleKrb5Conf {
  readonly defaultRealm?: string;
  /** Extra [libdefaults] tags (snake_case, as in the file). */
  readonly libdefaults?: ProfileInput;
  /** Realm name → its relations (kdc, admin_server, …). */
  readonly realms?: Readonly<Record<string, ProfileInput>>;
  /** Host or .domain → realm. */
  readonly domainRealm?: Readonly<Record<string, string>>;
  /** Other sections, written verbatim after the standard ones. */
  readonly sections?: Readonly<Record<string, ProfileInput>>;
}

/** Writes a krb5.conf for simple setups (tests, `realm init` snippets). */
export function formatKrb5Conf(conf: SimpleKrb5Conf): string {
  const sections: Record<string, ProfileInput> = {};
  const libdefaults: ProfileInput = { ...(conf.defaultRealm === undefined ? {} : { default_realm: conf.defaultRealm }), ...conf.libdefaults };
  if (Object.keys(libdefaults).length > 0) sections['libdefaults'] = libdefaults;
  if (conf.realms !== undefined) sections['realms'] = conf.realms;
  if (conf.domainRealm !== undefined) sections['domain_realm'] = conf.domainRealm;
  for (const [name, body] of Object.entries(conf.sections ?? {})) {
    if (name in sections) throw new InvalidArgumentError(`section [${name}] is given twice`);
    sections[name] = body;
  }
  return formatProfile(sections);
}

/**
 * A krb5.conf that sends clients of `realm` to a fixed KDC address with no DNS
 * or reverse-DNS lookups: what a test realm, a demo realm or `realm init`
 * hands to MIT tools and to kerbside's client.
 */
export function clientKrb5Conf(options: {
  readonly realm: string;
  /** 'host:port' ('[::1]:88' for IPv6). */
  readonly kdc: string;
  /** Further [libdefaults] relations; they override the defaults here. */
  readonly libdefaults?: ProfileInput;
  /** Extra host → realm mappings besides localhost. */
  readonly domainRealm?: Readonly<Record<string, string>>;
}): string {
  return formatKrb5Conf({
    defaultRealm: options.realm,
    libdefaults: {
      dns_lookup_kdc: false,
      dns_lookup_realm: false,
      dns_canonicalize_hostname: false,
      rdns: false,
      ...options.libdefaults,
    },
    realms: { [options.realm]: { kdc: options.kdc } },
    domainRealm: { localhost: options.realm, ...options.domainRealm },
  });
}
