/**
 * The Kerberos client: configuration + clock + random + transport driving the
 * sans-IO AS and TGS exchanges. It remembers the KDC time offset it learns
 * (KRB_AP_ERR_SKEW) so later requests use the KDC's time; callers persist it
 * in the ccache header.
 */

import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { systemRandom, type RandomSource } from '../core/random.js';
import { InvalidArgumentError, KerbsideError } from '../core/errors.js';
import { createEmitter, diagnosticsChannelSink, type Emitter, type EventSink } from '../events/index.js';
import { ErrorCode, errorCodeName, KrbError } from '../messages/index.js';
import { principalEquals, readKeytab, type Credential, type Principal } from '../files/index.js';
import { AsExchange, ClientReferralError, anonymousProbe, anonymousProbeError, type ClientKey, type ClientKeySource, type InitialCredential } from './as-exchange.js';
import type { CertificateKeySource } from './pkinit.js';
import { TgsExchange } from './tgs-exchange.js';
import { missingConfigNote, type ClientConfig } from './config.js';
import { KeytabKeyMissingError, KdcError, NoKdcConfiguredError } from './errors.js';
import { enterprisePrincipal, isTgsPrincipal, principal as parseName, showPrincipal } from './names.js';
import { sendToKdc, type KdcReply, type KdcTransport, type ReplyClass } from './send-to-kdc.js';
import { socketTransport } from './socket-transport.js';
import { formatKdcAddress, type KdcAddress } from './kdc-address.js';
import { dnsSrvResolver, lookupKdcsInDns, type SrvResolver } from './kdc-srv.js';

export interface KerberosClientOptions {
  readonly config: ClientConfig;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly transport?: KdcTransport;
  /** DNS for SRV lookups of KDCs (dns_lookup_kdc); default node:dns. */
  readonly dns?: SrvResolver;
  /** KDC time − local time, ms (e.g. from a ccache header). */
  readonly timeOffset?: number;
  /**
   * Where `client.ticket_obtained` / `client.request_failed` go. Default: node:diagnostics_channel
   * ('kerbside:client.*' and 'kerbside:events'), which costs nothing past a check while nobody subscribes.
   */
  readonly events?: EventSink;
}

export interface InitialCredentialOptions {
  readonly client: Principal | string;
  /** One of password, keys, keytab, certificate. */
  readonly password?: string;
  readonly keys?: readonly ClientKey[];
  /** Where `keys` came from, for messages ("keytab /etc/krb5.keytab"). */
  readonly keysFrom?: string;
  /** A keytab name (FILE:/path or a path); its keys for `client` are used. */
  readonly keytab?: string;
  /** PKINIT (RFC 4556): a signer (software key or token), its chain and the trust anchors for the KDC's certificate. */
  readonly certificate?: Omit<CertificateKeySource, 'kind'>;
  /** Lifetime, ms (default: config ticket_lifetime). */
  readonly lifetime?: number;
  /** Renewable lifetime, ms (default: config renew_lifetime; 0: not renewable). */
  readonly renewLifetime?: number;
  readonly forwardable?: boolean;
  readonly proxiable?: boolean;
  /** Ask for this service instead of krbtgt/REALM (kinit -S). */
  readonly service?: Principal | string;
  /** RFC 6806 CANONICALIZE (kinit -C): accept the client's canonical name from the KDC. */
  readonly canonicalize?: boolean;
  /**
   * `client` (a string) is an enterprise name (RFC 6806 §5, kinit -E): `alice@ad.test` is sent as one
   * NT-ENTERPRISE component to the default realm's KDC (or `alice@ad.test@REALM`'s), with CANONICALIZE;
   * the ticket is the canonical principal's, and a client referral (WRONG_REALM) is followed.
   */
  readonly enterprise?: boolean;
  /** A postdated ticket (kinit -s) starting at this local time, ms. */
  readonly startTime?: number;
}

/** One diagnostics_channel sink for every client without an `events` option. */
const DEFAULT_EVENTS: EventSink = diagnosticsChannelSink();

/** At most this many round trips per exchange (pre-authentication, skew retry). */
const MAX_ROUNDS = 4;

/** Client referrals followed in one AS exchange (MIT's KRB5_REFERRAL_MAXHOPS is 10). */
const MAX_REFERRALS = 5;

export class KerberosClient {
  readonly config: ClientConfig;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly transport: KdcTransport;
  readonly events: EventSink;
  readonly #emit: Emitter;
  readonly #dns: SrvResolver | undefined;
  #offset: number;

  constructor(options: KerberosClientOptions) {
    this.config = options.config;
    this.clock = options.clock ?? systemClock();
    this.random = options.random ?? systemRandom();
    this.transport = options.transport ?? socketTransport();
    this.#dns = options.dns;
    this.#offset = options.timeOffset ?? 0;
    this.events = options.events ?? DEFAULT_EVENTS;
    this.#emit = createEmitter(this.events, this.clock);
  }

  #obtained(exchange: 'AS' | 'TGS' | 'renew', credential: Credential, kdc: KdcReply | undefined): void {
    const client = showPrincipal(credential.client);
    const service = showPrincipal(credential.server);
    this.#emit.emit('client.ticket_obtained', `${client} got a ticket for ${service} (${exchange})`, {
      exchange, client, service, realm: credential.server.realm, endTime: credential.endtime.toISOString(),
      kdc: kdc === undefined ? null : formatKdcAddress(kdc.address, kdc.protocol),
    }, 'info');
  }

  #failed(exchange: 'AS' | 'TGS' | 'renew', client: string, service: string, realm: string, err: unknown): void {
    const e = err instanceof KerbsideError ? err : undefined;
    this.#emit.emit('client.request_failed', `${exchange} request of ${client} for ${service} failed: ${err instanceof Error ? err.message : String(err)}`, {
      exchange, client, service, realm, code: e?.code ?? null, krbError: e?.krbCode === undefined ? null : errorCodeName(e.krbCode),
    }, 'warning');
  }

  /** KDC time − local time, ms, as last learned. */
  get timeOffset(): number {
    return this.#offset;
  }

  set timeOffset(ms: number) {
    this.#offset = ms;
  }

  /** `name[@REALM]` with the configured default realm. */
  principal(text: string | Principal): Principal {
    if (typeof text !== 'string') return text;
    const note = missingConfigNote(this.config);
    if (note !== '' && this.config.defaultRealm === undefined && !text.includes('@')) {
      throw new InvalidArgumentError(`principal name "${text}" has no realm and there is no default realm${note}`, {
        hint: 'point KRB5_CONFIG at an existing krb5.conf (or unset it to use /etc/krb5.conf), or name the realm (name@REALM)',
        detail: { missingConfigFiles: [...this.config.missingConfigFiles!] },
      });
    }
    return parseName(text, this.config.defaultRealm);
  }

  /** AS exchange: a TGT (or the `service` ticket) for `client` from a password, keys or a keytab. */
  async getInitialCredentials(options: InitialCredentialOptions): Promise<InitialCredential> {
    const client = options.enterprise === true && typeof options.client === 'string'
      ? enterprisePrincipal(options.client, this.config.defaultRealm) : this.principal(options.client);
    let result: InitialCredential | { referral: string } = await this.#asExchange(client, options);
    const seen = [client.realm];
    while ('referral' in result) {
      const realm = result.referral;
      if (seen.includes(realm) || seen.length > MAX_REFERRALS) {
        throw new KdcError(`client referrals for ${showPrincipal(client)} loop or go too far (${[...seen, realm].join(' → ')})`, {
          detail: { client: showPrincipal(client), realms: [...seen, realm] }, hint: 'check the enterprise name and the realms\' trust configuration',
        });
      }
      seen.push(realm);
      result = await this.#asExchange({ ...client, realm }, options);
    }
    return result;
  }

  async #asExchange(client: Principal, options: InitialCredentialOptions): Promise<InitialCredential | { referral: string }> {
    const keySource = await this.#keySource(client, options);
    const lifetime = options.lifetime ?? this.config.ticketLifetime;
    const renewLifetime = options.renewLifetime ?? this.config.renewLifetime;
    const forwardable = options.forwardable ?? this.config.forwardable;
    const proxiable = options.proxiable ?? this.config.proxiable;
    const serviceName = options.service !== undefined ? showPrincipal(this.principal(options.service)) : `krbtgt/${client.realm}@${client.realm}`;
    const exchange = new AsExchange({
      client,
      ...(options.service !== undefined ? { server: this.principal(options.service) } : {}),
      keySource,
      etypes: this.config.tktEnctypes,
      lifetime,
      ...(renewLifetime > 0 ? { renewLifetime } : {}),
      forwardable,
      proxiable,
      allowWeak: this.config.allowWeakCrypto,
      ...(options.canonicalize === true ? { canonicalize: true } : {}),
      ...(options.startTime !== undefined ? { startTime: options.startTime + this.#offset } : {}),
    }, { now: () => this.clock.now(), random: this.random, offset: this.#offset });
    let request = exchange.request();
    try {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const sent = await this.send(client.realm, request);
        const step = await exchange.handle(sent.reply);
        this.#offset = exchange.offset;
        if (step.kind === 'done') {
          this.#obtained('AS', step.result.credential, sent);
          return step.result;
        }
        request = step.request;
      }
      throw new KdcError(`the AS exchange for ${showPrincipal(client)} did not finish in ${MAX_ROUNDS} round trips`, { detail: { client: showPrincipal(client) } });
    } catch (err) {
      // A referral is followed (getInitialCredentials) unless a service of this realm was asked for (kinit -S).
      if (err instanceof ClientReferralError && options.service === undefined) return { referral: err.realm };
      this.#failed('AS', showPrincipal(client), serviceName, client.realm, err);
      throw err;
    }
  }

  /**
   * kinit -n: anonymous PKINIT (RFC 8062). Asks the KDC of `realm` and always
   * fails with AnonymousUnsupportedError saying whether the KDC offers it
   * (kerbside's client does not implement the unsigned PKINIT request yet).
   */
  async getAnonymousCredentials(realm: string): Promise<never> {
    const request = anonymousProbe(realm, { now: () => this.clock.now(), random: this.random, offset: this.#offset },
      this.config.ticketLifetime, this.config.tktEnctypes);
    const { reply } = await this.send(realm, request);
    throw anonymousProbeError(reply, realm);
  }

  /** TGS exchange: a ticket for `service` using `tgt`. */
  async getServiceTicket(tgt: Credential, service: Principal | string): Promise<Credential> {
    const server = this.principal(service);
    const tgtRealm = tgt.server.components[1] ?? tgt.server.realm;
    if (!isTgsPrincipal(tgt.server)) {
      throw new InvalidArgumentError(`a service ticket needs a TGT; ${showPrincipal(tgt.server)} is not one`);
    }
    if (server.realm !== tgtRealm) {
      throw new KdcError(`${showPrincipal(server)} is in realm ${server.realm}, but the TGT is for ${tgtRealm}; cross-realm requests are not supported`, {
        detail: { client: showPrincipal(tgt.client), service: showPrincipal(server) },
        hint: 'get a TGT in the service\'s realm, or name the service in the TGT\'s realm',
      });
    }
    return this.#tgs(tgt, server, false);
  }

  /** Renews a renewable ticket (usually the TGT) with the RENEW option. */
  renew(ticket: Credential): Promise<Credential> {
    return this.#tgs(ticket, ticket.server, true);
  }

  /** Validates a postdated ticket whose start time has come (KDC option VALIDATE, kinit -v). */
  validate(ticket: Credential): Promise<Credential> {
    return this.#tgs(ticket, ticket.server, false, true);
  }

  async #tgs(tgt: Credential, server: Principal, renew: boolean, validate = false): Promise<Credential> {
    const exchange = new TgsExchange({ tgt, server, etypes: this.config.tgsEnctypes, renew, ...(validate ? { validate } : {}) },
      { now: () => this.clock.now(), random: this.random, offset: this.#offset });
    const realm = tgt.server.realm;
    let request = exchange.request();
    const kind = renew ? 'renew' : 'TGS';
    try {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const sent = await this.send(realm, request);
        const step = exchange.handle(sent.reply);
        this.#offset = exchange.offset;
        if (step.kind === 'done') {
          this.#obtained(kind, step.credential, sent);
          return step.credential;
        }
        request = step.request;
      }
      throw new KdcError(`the TGS exchange for ${showPrincipal(server)} did not finish in ${MAX_ROUNDS} round trips`);
    } catch (err) {
      this.#failed(kind, showPrincipal(tgt.client), showPrincipal(server), realm, err);
      throw err;
    }
  }

  /** Sends one request to the realm's KDCs (failover, UDP/TCP as configured). */
  async send(realm: string, request: Uint8Array): Promise<KdcReply> {
    const kdcs = this.config.realms[realm]?.kdcs ?? [];
    const note = missingConfigNote(this.config);
    if (kdcs.length === 0 && note !== '') {
      throw new NoKdcConfiguredError(`no KDC is configured for realm ${realm}${note}`, {
        hint: 'point KRB5_CONFIG at an existing krb5.conf (or unset it to use /etc/krb5.conf)',
        detail: { realm, missingConfigFiles: [...this.config.missingConfigFiles!] },
      });
    }
    return sendToKdc(request, {
      realm,
      kdcs: kdcs.length > 0 ? kdcs : await this.#kdcsFromDns(realm),
      transport: this.transport,
      clock: this.clock,
      udpPreferenceLimit: this.config.udpPreferenceLimit,
      timeout: this.config.kdcTimeout,
      classify: classifyReply,
    });
  }

  /** Nothing configured: SRV records when dns_lookup_kdc is on (kdc-srv.ts). */
  async #kdcsFromDns(realm: string): Promise<KdcAddress[]> {
    if (!this.config.dnsLookupKdc) return [];
    const found = await lookupKdcsInDns(realm, this.#dns ?? dnsSrvResolver(), this.random);
    if (found.length === 0) {
      throw new NoKdcConfiguredError(`no KDC is configured for realm ${realm}, and DNS has no _kerberos._udp.${realm} or _kerberos._tcp.${realm} SRV records`, {
        hint: `add "kdc = host:port" to [realms] ${realm} in krb5.conf, or publish the SRV records (an AD domain controller does) in the DNS this host uses`,
        detail: { realm, dnsLookupKdc: true },
      });
    }
    return found;
  }

  async #keySource(client: Principal, o: InitialCredentialOptions): Promise<ClientKeySource> {
    const given = [o.password, o.keys, o.keytab, o.certificate].filter((x) => x !== undefined).length;
    if (given !== 1) throw new InvalidArgumentError('give exactly one of password, keys, keytab or certificate');
    if (o.certificate !== undefined) {
      const hosts = this.config.realms[client.realm]?.pkinitKdcHostnames;
      return {
        kind: 'certificate', group: this.config.pkinitGroup, ...o.certificate,
        ...(o.certificate.kdcHostnames === undefined && hosts !== undefined ? { kdcHostnames: hosts } : {}),
      };
    }
    if (o.password !== undefined) return { kind: 'password', password: o.password };
    if (o.keys !== undefined) return { kind: 'keys', keys: o.keys, description: o.keysFrom ?? 'the given keys' };
    return { kind: 'keys', keys: await keytabKeys(o.keytab!, client), description: `keytab ${o.keytab}` };
  }
}

/** The keys `keytab` holds for `client` (all kvnos); KeytabKeyMissingError when there are none. */
export async function keytabKeys(keytab: string, client: Principal): Promise<ClientKey[]> {
  const entries = await readKeytab(keytab);
  const keys = entries.filter((e) => principalEquals(e.principal, client))
    .map((e) => ({ enctype: e.enctype, keyvalue: e.key, kvno: e.kvno }));
  if (keys.length === 0) {
    throw new KeytabKeyMissingError(`Keytab contains no suitable keys for ${showPrincipal(client)}`, {
      detail: { client: showPrincipal(client), keytab },
      hint: `add a key for ${showPrincipal(client)} to ${keytab} (kadmin ktadd, or kerbside ktutil add)`,
    });
  }
  return keys;
}

/** KRB_ERR_RESPONSE_TOO_BIG → retry over TCP; KDC_ERR_SVC_UNAVAILABLE → next KDC. */
export function classifyReply(reply: Uint8Array): ReplyClass {
  if (reply[0] !== 0x7e) return 'ok';
  try {
    const e = KrbError.decode(reply);
    if (e.errorCode === ErrorCode.KRB_ERR_RESPONSE_TOO_BIG) return 'response_too_big';
    if (e.errorCode === ErrorCode.KDC_ERR_SVC_UNAVAILABLE) return 'try_next_kdc';
  } catch {
    // Let the exchange report the undecodable reply.
  }
  return 'ok';
}

