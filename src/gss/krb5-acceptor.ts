/**
 * The Kerberos V5 GSS-API acceptor (RFC 4121 §4.1; checks in the order of
 * MIT's rd_req_dec.c and accept_sec_context.c), sans-IO apart from asking
 * its key source for keys:
 *
 * 1. unframe the AP-REQ (either Kerberos OID), find the service key by
 *    (principal, kvno, enctype) — reloading the keytab once on a miss — and
 *    decrypt the ticket, then the authenticator;
 * 2. client names must match; the authenticator time must be within the
 *    clock skew (KRB_AP_ERR_SKEW) and new to the replay cache
 *    (KRB_AP_ERR_REPEAT) — two distinct errors; the ticket must be current;
 * 3. the 0x8003 checksum gives the flags, the channel bindings (checked by
 *    policy) and a delegated TGT (KRB-CRED in the session key, or
 *    unencrypted as some MIT versions send);
 * 4. with mutual authentication, answer with an AP-REP carrying a fresh
 *    acceptor subkey and sequence number (MIT's CFX behaviour); without it,
 *    number our tokens from the initiator's sequence number.
 *
 * A failure after the AP-REQ was parsed carries a KRB-ERROR token in
 * `error.output` when the initiator asked for mutual authentication (it
 * waits for a reply). The token carries only the error code, never the
 * diagnosis, which may name keytab contents.
 */

import { systemClock, type Clock } from '../core/clock.js';
import { constantTimeEqual } from '../core/bytes.js';
import { systemRandom, type RandomSource } from '../core/random.js';
import {
  decrypt, encrypt, Enctype, generateKey, IntegrityError, KeyUsage, verifyChecksum, type Key,
} from '../crypto/index.js';
import { createEmitter, nullSink, type Emitter, type EventSink } from '../events/index.js';
import { parsePrincipal, principalEquals, principalToString, type Credential, type KeytabEntry, type Principal } from '../files/index.js';
import { MemoryReplayCache, ReplayCacheFullError, type ReplayTuple } from '../store/index.js';
import {
  ApOptions, ApRep, ApReq, Asn1Error, Authenticator, EncApRepPart, EncKrbCredPart, EncTicketPart, ErrorCode,
  KrbCred, KrbError, MessageType, Ticket, TicketFlags,
} from '../messages/index.js';
import { findTicketKeys, type AcceptorKeySource } from './acceptor-keys.js';
import { decodeGssChecksum, GSS_CHECKSUM_TYPE } from './authenticator-checksum.js';
import {
  channelBindingsHash, isZeroBindingsHash, type ChannelBindingPolicy, type ChannelBindings,
} from './channel-bindings.js';
import {
  AuthenticatorReplayError, ReplayCacheFullGssError, BadBindingsError, ClockSkewError, CredentialsExpiredError, DefectiveTokenError, GssError,
  GssFailureError, GssUnavailableError, NoContextError, TicketIntegrityError, withOutput, AcceptorKeyError,
} from './errors.js';
import { decodeKrb5Token, encodeKrb5Token, Krb5TokenId, krb5TokenName } from './framing.js';
import { Krb5Context } from './krb5-context.js';
import type { StepResult } from './krb5-initiator.js';
import { GssFlags } from './oids.js';
import { fromPrincipalName, toKey } from './principals.js';

/** A replay cache the acceptor can use; a shared store may answer asynchronously. */
export interface AcceptorReplayCache {
  /** True if the tuple was seen before (a replay); records it otherwise. */
  seen(tuple: ReplayTuple, now: number): boolean | Promise<boolean>;
}
export type { ReplayTuple };

/** What every acceptor (Kerberos, NTLM) takes besides its credential. */
export interface AcceptorPolicyOptions {
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly events?: EventSink;
  /** Default: an in-memory cache bounded by 2 × skew and 100 000 entries. */
  readonly replayCache?: AcceptorReplayCache;
  /** Allowed clock skew (default 5 minutes): authenticator time (Kerberos), NTLMv2 timestamp (NTLM). */
  readonly clockSkewMs?: number;
  /** Channel binding policy (default 'allow'). */
  readonly channelBindingPolicy?: ChannelBindingPolicy;
}

export interface Krb5AcceptorOptions extends AcceptorPolicyOptions {
  readonly keys: AcceptorKeySource;
  /**
   * Service principal(s) this acceptor answers for ('HTTP/web.example.test@EXAMPLE.TEST').
   * Default: any principal the keys hold (MIT's GSS_C_NO_NAME acceptor). A name without a realm
   * ('HTTP/web.example.test') gets `defaultRealm`, as MIT's krb5_parse_name appends the default realm;
   * with no default realm, the one realm the keys hold that name in (refused when none or several).
   */
  readonly principal?: string | Principal | readonly (string | Principal)[];
  /** The realm for `principal` names given without one, asked once on the first ticket (e.g. krb5.conf's default_realm). */
  readonly defaultRealm?: string | (() => Promise<string | undefined>);
  /** Accept rc4-hmac tickets (default false). */
  readonly allowWeakEnctypes?: boolean;
}

export interface AcceptContextOptions {
  /** This connection's channel bindings (e.g. tlsServerEndPoint(cert)); absent for plain connections. */
  readonly channelBindings?: ChannelBindings;
}

const DEFAULT_SKEW_MS = 5 * 60_000;
const PASSED_FLAGS = GssFlags.INTEG | GssFlags.CONF | GssFlags.MUTUAL | GssFlags.REPLAY | GssFlags.SEQUENCE
  | GssFlags.IDENTIFY | GssFlags.EXTENDED_ERROR;
const KRB_ERR_GENERIC = 60;

/** Same name components, any realm (name types differ between keytabs and tickets, as principalEquals allows). */
function sameName(a: Principal, b: Principal): boolean {
  return a.components.length === b.components.length && a.components.every((c, i) => c === b.components[i]);
}

/** The acceptor's credential and policy: long-lived, shared by all contexts. */
export class Krb5Acceptor {
  readonly #o: Krb5AcceptorOptions;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #emit: Emitter;
  readonly #replay: AcceptorReplayCache;
  readonly #skewMs: number;
  readonly #principals: readonly Principal[];
  /** Names given without a realm (realm ''), resolved into #resolved on the first ticket. */
  readonly #realmless: readonly Principal[];
  #resolved: readonly Principal[] | undefined;

  constructor(options: Krb5AcceptorOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock();
    this.#random = options.random ?? systemRandom();
    this.#emit = createEmitter(options.events ?? nullSink(), this.#clock);
    this.#skewMs = options.clockSkewMs ?? DEFAULT_SKEW_MS;
    this.#replay = options.replayCache ?? new MemoryReplayCache({ clockSkewSeconds: this.#skewMs / 1000, maxEntries: 100_000 });
    const list = options.principal === undefined ? [] : Array.isArray(options.principal) ? options.principal : [options.principal];
    const parsed = (list as readonly (string | Principal)[]).map((p) => {
      if (typeof p !== 'string') return p;
      if (!p.includes('@')) return { ...parsePrincipal(p, { defaultRealm: 'X' }), realm: '' };
      return parsePrincipal(p);
    });
    this.#principals = parsed.filter((p) => p.realm !== '');
    this.#realmless = parsed.filter((p) => p.realm === '');
    if (this.#realmless.length === 0) this.#resolved = this.#principals;
  }

  /**
   * The principals served, with realmless names completed (MIT krb5_parse_name: the default realm;
   * without one, the keys' only realm for that name). Empty: any principal in the keys.
   */
  async servedPrincipals(): Promise<readonly Principal[]> {
    if (this.#resolved !== undefined) return this.#resolved;
    const d = this.#o.defaultRealm;
    const realm = typeof d === 'function' ? await d() : d;
    const out = [...this.#principals];
    let entries: readonly KeytabEntry[] | undefined;
    for (const p of this.#realmless) {
      if (realm !== undefined && realm !== '') {
        out.push({ ...p, realm });
        continue;
      }
      entries ??= await this.#o.keys.keys();
      const realms = [...new Set(entries.filter((e) => sameName(e.principal, p)).map((e) => e.principal.realm))].sort();
      const name = principalToString({ ...p, realm: '' }).replace(/@$/, '');
      if (realms.length !== 1) {
        throw new AcceptorKeyError(
          `acceptor principal "${name}" has no realm, no default realm is configured, and ${this.#o.keys.description} holds it in ${realms.length === 0 ? 'no realm' : `several realms (${realms.join(', ')})`}`,
          {
            // The server's configuration is at fault, not the ticket: reported like an unusable keytab.
            krbCode: ErrorCode.KRB_AP_ERR_NOT_US, problem: 'keytab-unavailable',
            hint: `name the realm (${name}@REALM), or set default_realm in krb5.conf's [libdefaults] (KRB5_CONFIG, else /etc/krb5.conf)`,
            detail: { principal: name, keytabRealms: realms },
          },
        );
      }
      out.push({ ...p, realm: realms[0]! });
    }
    return this.#resolved = out;
  }

  /** A context for one connection / handshake. */
  newContext(options: AcceptContextOptions = {}): Krb5AcceptorContext {
    return new Krb5AcceptorContext(this, options);
  }

  /** @internal One AP-REQ in, the context (and AP-REP) out. */
  async accept(input: Uint8Array, bindings: ChannelBindings | undefined): Promise<{ output?: Uint8Array; context: Krb5Context }> {
    const token = decodeKrb5Token(input);
    if (token.tokenId !== Krb5TokenId.AP_REQ) {
      throw new DefectiveTokenError(`expected an AP-REQ token, got ${krb5TokenName(token.tokenId)}`);
    }
    let apReq: ApReq;
    try {
      apReq = ApReq.decode(token.message);
    } catch (err) {
      if (err instanceof Asn1Error) throw new DefectiveTokenError(`the AP-REQ is malformed: ${err.message}`, { cause: err });
      throw err;
    }
    try {
      return await this.#accept(apReq, token.mechOid, bindings);
    } catch (err) {
      if (!(err instanceof GssError) || (apReq.apOptions & ApOptions.mutualRequired) === 0) throw err;
      throw withOutput(err, this.#errorToken(apReq, err.krbCode ?? KRB_ERR_GENERIC, token.mechOid));
    }
  }

  async #accept(apReq: ApReq, mechOid: string, bindings: ChannelBindings | undefined): Promise<{ output?: Uint8Array; context: Krb5Context }> {
    if ((apReq.apOptions & ApOptions.useSessionKey) !== 0) {
      throw new GssFailureError('user-to-user AP-REQs (use-session-key) are not supported', { krbCode: ErrorCode.KDC_ERR_BADOPTION });
    }
    const server = fromPrincipalName(apReq.ticket.sname, apReq.ticket.realm);
    const serverName = principalToString(server);
    const ticket = await this.#decryptTicket(apReq, server);
    const sessionKey = toKey({ enctype: ticket.key.keytype, keyvalue: ticket.key.keyvalue });
    const client = fromPrincipalName(ticket.cname, ticket.crealm);
    const clientName = principalToString(client);

    let auth: Authenticator;
    try {
      auth = Authenticator.decode(decrypt(sessionKey, KeyUsage.AP_REQ_AUTH, apReq.authenticator.cipher));
    } catch (err) {
      if (err instanceof IntegrityError) {
        throw new GssFailureError(`the authenticator from ${clientName} does not decrypt with the ticket's session key`, {
          krbCode: ErrorCode.KRB_AP_ERR_BAD_INTEGRITY, hint: 'the AP-REQ was altered or assembled from parts of different requests', cause: err,
        });
      }
      if (err instanceof Asn1Error) throw new DefectiveTokenError(`the authenticator from ${clientName} is malformed: ${err.message}`, { cause: err });
      throw err;
    }
    if (!principalEquals(fromPrincipalName(auth.cname, auth.crealm), client)) {
      throw new GssFailureError(`the authenticator names ${principalToString(fromPrincipalName(auth.cname, auth.crealm))}, but the ticket was issued to ${clientName}`, {
        krbCode: ErrorCode.KRB_AP_ERR_BADMATCH,
      });
    }

    const now = this.#clock.now();
    const ctimeMs = auth.ctime.getTime() + Math.floor(auth.cusec / 1000);
    const skew = Math.abs(now - ctimeMs);
    if (skew > this.#skewMs) {
      this.#emit.emit('acceptor.skew', `clock skew ${formatSpan(skew)} between ${clientName} and this host exceeds ${formatSpan(this.#skewMs)}`, {
        client: clientName, server: serverName, skewSeconds: Math.round(skew / 1000), allowedSeconds: this.#skewMs / 1000,
      });
      throw new ClockSkewError(`clock skew ${formatSpan(skew)} between ${clientName} and this host exceeds ${formatSpan(this.#skewMs)}`, {
        hint: `the client's clock is ${now > ctimeMs ? 'behind' : 'ahead of'} this host's: check NTP on both`,
        detail: { client: clientName, server: serverName, skewMs: skew, allowedMs: this.#skewMs },
      });
    }
    let replayed: boolean;
    try {
      replayed = await this.#replay.seen({
        client: clientName, server: serverName, ctime: auth.ctime.getTime(), cusec: auth.cusec, authenticator: apReq.authenticator.cipher,
      }, now);
    } catch (err) {
      if (!(err instanceof ReplayCacheFullError)) throw err;
      throw new ReplayCacheFullGssError(`the authenticator from ${clientName} for ${serverName} was refused: ${err.message}`, {
        ...(err.hint === undefined ? {} : { hint: err.hint }), detail: { client: clientName, server: serverName, ...err.detail }, cause: err,
      });
    }
    if (replayed) {
      this.#emit.emit('acceptor.replay', `an authenticator from ${clientName} for ${serverName} was presented again and rejected`, {
        client: clientName, server: serverName, ctime: auth.ctime.toISOString(),
      });
      throw new AuthenticatorReplayError(`the authenticator from ${clientName} for ${serverName} was already used (replay)`, {
        hint: 'a token was sent twice — by an attacker, or by a client or proxy that retries a request with the same Authorization header',
        detail: { client: clientName, server: serverName },
      });
    }
    const start = (ticket.starttime ?? ticket.authtime).getTime();
    if (start - this.#skewMs > now) {
      throw new GssFailureError(`the ticket of ${clientName} for ${serverName} is not valid before ${new Date(start).toISOString()}`, {
        krbCode: ErrorCode.KRB_AP_ERR_TKT_NYV,
      });
    }
    if ((ticket.flags & TicketFlags.invalid) !== 0) {
      throw new GssFailureError(`the ticket of ${clientName} for ${serverName} is marked invalid (a postdated ticket not yet validated)`, {
        krbCode: ErrorCode.KRB_AP_ERR_TKT_NYV,
      });
    }
    if (ticket.endtime.getTime() <= now) {
      throw new CredentialsExpiredError(`the ticket of ${clientName} for ${serverName} expired at ${ticket.endtime.toISOString()}`, {
        krbCode: ErrorCode.KRB_AP_ERR_TKT_EXPIRED, hint: 'the client must get a new service ticket',
      });
    }

    const initiatorSubkey = auth.subkey === undefined ? undefined : toKey({ enctype: auth.subkey.keytype, keyvalue: auth.subkey.keyvalue });
    let flags: number;
    let delegated: Credential | undefined;
    const cksum = auth.cksum;
    if (cksum === undefined) {
      throw new GssFailureError(`the authenticator from ${clientName} has no checksum`, { krbCode: ErrorCode.KRB_AP_ERR_INAPP_CKSUM });
    }
    if (cksum.cksumtype === GSS_CHECKSUM_TYPE) {
      const gss = decodeGssChecksum(cksum.checksum);
      if ((gss.flags & GssFlags.DCE_STYLE) !== 0) throw new GssUnavailableError('DCE-style contexts are not supported');
      this.#checkBindings(gss.bnd, bindings, clientName);
      flags = gss.flags & PASSED_FLAGS;
      if (gss.delegation !== undefined) {
        delegated = readDelegation(gss.delegation, sessionKey, initiatorSubkey, client, clientName);
        flags |= GssFlags.DELEG;
      }
    } else {
      // Samba and some Java initiators send a plain keyed checksum over nothing (MIT accepts it).
      let ok: boolean;
      try {
        ok = verifyChecksum(cksum.cksumtype, sessionKey, KeyUsage.AP_REQ_AUTH_CKSUM, new Uint8Array(0), cksum.checksum, {
          allowWeak: this.#o.allowWeakEnctypes ?? false,
        });
      } catch (err) {
        throw new GssFailureError(`the authenticator checksum from ${clientName} (type ${cksum.cksumtype}) cannot be checked`, {
          krbCode: ErrorCode.KRB_AP_ERR_INAPP_CKSUM, cause: err,
        });
      }
      if (!ok) throw new GssFailureError(`the authenticator checksum from ${clientName} does not verify`, { krbCode: ErrorCode.KRB_AP_ERR_MODIFIED });
      if (this.#o.channelBindingPolicy === 'require') {
        throw new BadBindingsError(`${clientName} sent no channel bindings (no GSS-API checksum), and this acceptor requires them`);
      }
      flags = GssFlags.MUTUAL | GssFlags.REPLAY | GssFlags.SEQUENCE;
    }

    const recvSeq = auth.seqNumber ?? 0;
    const mutual = (apReq.apOptions & ApOptions.mutualRequired) !== 0 || (flags & GssFlags.MUTUAL) !== 0;
    let sendSeq = recvSeq;
    let acceptorSubkey: Key | undefined;
    let output: Uint8Array | undefined;
    if (mutual) {
      flags |= GssFlags.MUTUAL;
      sendSeq = this.#random.int(0x40000000);
      const base = initiatorSubkey ?? sessionKey;
      // RFC 1964/4757 (rc4) tokens cannot say which key they use, so no acceptor subkey there (as MIT).
      if (base.enctype !== Enctype.RC4_HMAC) acceptorSubkey = generateKey(base.enctype, this.#random);
      const enc = EncApRepPart.encode({
        ctime: auth.ctime,
        cusec: auth.cusec,
        ...(acceptorSubkey === undefined ? {} : { subkey: { keytype: acceptorSubkey.enctype, keyvalue: acceptorSubkey.keyvalue } }),
        seqNumber: sendSeq,
      });
      const apRep = ApRep.encode({
        pvno: 5, msgType: MessageType.KRB_AP_REP,
        encPart: { etype: sessionKey.enctype, cipher: encrypt(sessionKey, KeyUsage.AP_REP_ENCPART, enc, this.#random) },
      });
      output = encodeKrb5Token(Krb5TokenId.AP_REP, apRep, mechOid);
    }
    const context = new Krb5Context({
      role: 'acceptor',
      mechOid,
      initiatorName: client,
      acceptorName: server,
      flags: flags | GssFlags.TRANS | GssFlags.PROT_READY,
      expiresAt: ticket.endtime,
      authtime: ticket.authtime,
      ticketFlags: ticket.flags,
      sessionKey,
      ...(initiatorSubkey === undefined ? {} : { initiatorSubkey }),
      ...(acceptorSubkey === undefined ? {} : { acceptorSubkey }),
      sendSeq,
      recvSeq,
      clock: this.#clock,
      random: this.#random,
      ...(delegated === undefined ? {} : { delegatedCredential: delegated }),
      ...(ticket.authorizationData === undefined ? {} : { authorizationData: ticket.authorizationData }),
    });
    return output === undefined ? { context } : { output, context };
  }

  /** Finds the service key and decrypts the ticket, re-reading the keys once on a miss or a failed decrypt. */
  async #decryptTicket(apReq: ApReq, server: Principal): Promise<EncTicketPart> {
    const enc = apReq.ticket.encPart;
    const query = { server, enctype: enc.etype, ...(enc.kvno === undefined ? {} : { kvno: enc.kvno }) };
    const lookup = { principals: await this.servedPrincipals(), allowWeak: this.#o.allowWeakEnctypes ?? false, description: this.#o.keys.description };
    let found = findTicketKeys(await this.#o.keys.keys(), query, lookup);
    let refreshed = false;
    if (!found.ok && found.error.problem !== 'weak-enctype') {
      found = findTicketKeys(await this.#o.keys.refresh(), query, lookup);
      refreshed = true;
    }
    if (!found.ok) throw this.#keyMiss(found.error);
    let plain = tryDecrypt(found.candidates, enc.cipher);
    if (plain === undefined && !refreshed) {
      found = findTicketKeys(await this.#o.keys.refresh(), query, lookup);
      if (!found.ok) throw this.#keyMiss(found.error);
      plain = tryDecrypt(found.candidates, enc.cipher);
    }
    const tsname = principalToString(server);
    if (plain === undefined && found.unmatched !== undefined) throw found.unmatched;
    if (plain === undefined) {
      const kvno = enc.kvno === undefined ? found.candidates[0]?.kvno : enc.kvno;
      throw new TicketIntegrityError(
        `keytab key for ${tsname} kvno ${kvno} does not decrypt the ticket: the keytab is out of date or the password was changed without a new keytab`,
        {
          hint: `export a new keytab for ${tsname} from the KDC (without changing the key again) and install it`,
          detail: { server: tsname, ...(enc.kvno === undefined ? {} : { ticketKvno: enc.kvno }), enctype: enc.etype },
        },
      );
    }
    try {
      return EncTicketPart.decode(plain);
    } catch (err) {
      if (err instanceof Asn1Error) throw new DefectiveTokenError(`the ticket for ${tsname} decrypts but is malformed: ${err.message}`, { cause: err });
      throw err;
    }
  }

  #keyMiss(error: AcceptorKeyError): AcceptorKeyError {
    if (error.problem === 'ticket-out-of-date' || error.problem === 'keytab-out-of-date') {
      const d = error.detail;
      this.#emit.emit('acceptor.kvno_miss', error.message, {
        server: d['server'] as string,
        ticketKvno: (d['ticketKvno'] as number | undefined) ?? null,
        keytabKvnos: (d['keytabKvnos'] as string[] | undefined) ?? [],
        outOfDate: d['outOfDate'] as string,
        source: this.#o.keys.description,
      });
    }
    return error;
  }

  #checkBindings(bnd: Uint8Array, bindings: ChannelBindings | undefined, client: string): void {
    const policy = this.#o.channelBindingPolicy ?? 'allow';
    if (policy === 'none') return;
    const sent = !isZeroBindingsHash(bnd);
    if (policy === 'require') {
      if (bindings === undefined) {
        throw new BadBindingsError('channel bindings are required, but this connection has none to compare (not TLS?)', {
          hint: 'serve Negotiate over TLS and pass tlsServerEndPoint(certificate), or relax the channel binding policy',
        });
      }
      if (!sent) {
        throw new BadBindingsError(`${client} sent no channel bindings, and this acceptor requires them (Extended Protection)`, {
          hint: 'the client does not support channel binding, or a TLS-terminating proxy sits between client and server',
        });
      }
    }
    if (!sent || bindings === undefined) return;
    if (!constantTimeEqual(bnd, channelBindingsHash(bindings))) {
      throw new BadBindingsError(`the channel bindings from ${client} do not match this connection`, {
        hint: 'the client saw another TLS certificate (a TLS-intercepting proxy, or a man in the middle)',
      });
    }
  }

  #errorToken(apReq: ApReq, code: number, mechOid: string): Uint8Array {
    const now = this.#clock.now();
    const err = KrbError.encode({
      pvno: 5, msgType: MessageType.KRB_ERROR,
      stime: new Date(now - (now % 1000)), susec: (now % 1000) * 1000,
      errorCode: code >= 0 && code <= 127 ? code : KRB_ERR_GENERIC,
      realm: apReq.ticket.realm, sname: apReq.ticket.sname,
    });
    return encodeKrb5Token(Krb5TokenId.KRB_ERROR, err, mechOid);
  }
}

/** One handshake: the krb5 mechanism completes in a single step. */
export class Krb5AcceptorContext {
  readonly #acceptor: Krb5Acceptor;
  readonly #bindings: ChannelBindings | undefined;
  #context: Krb5Context | undefined;
  #used = false;

  /** @internal Use Krb5Acceptor.newContext(). */
  constructor(acceptor: Krb5Acceptor, options: AcceptContextOptions) {
    this.#acceptor = acceptor;
    this.#bindings = options.channelBindings;
  }

  get complete(): boolean {
    return this.#context !== undefined;
  }

  get context(): Krb5Context {
    if (this.#context === undefined) throw new NoContextError('the Kerberos acceptor context is not established');
    return this.#context;
  }

  /** GSS_Accept_sec_context: the initiator's AP-REQ token in; the AP-REP (with mutual authentication) out. */
  async acceptSecContext(input: Uint8Array): Promise<StepResult> {
    if (this.#used) throw new DefectiveTokenError('this Kerberos acceptor context has already processed its token');
    this.#used = true;
    const r = await this.#acceptor.accept(input, this.#bindings);
    this.#context = r.context;
    return r.output === undefined ? { complete: true } : { output: r.output, complete: true };
  }
}

function tryDecrypt(candidates: readonly KeytabEntry[], cipher: Uint8Array): Uint8Array | undefined {
  for (const entry of candidates) {
    try {
      return decrypt({ enctype: entry.enctype, keyvalue: entry.key }, KeyUsage.KDC_REP_TICKET, cipher);
    } catch (err) {
      if (!(err instanceof IntegrityError)) throw err;
    }
  }
  return undefined;
}

/** The delegated TGT: KRB-CRED in the session key, the initiator subkey, or unencrypted (etype 0). */
function readDelegation(bytes: Uint8Array, sessionKey: Key, subkey: Key | undefined, client: Principal, clientName: string): Credential {
  try {
    const cred = KrbCred.decode(bytes);
    let plain: Uint8Array | undefined;
    if (cred.encPart.etype === 0) {
      plain = cred.encPart.cipher;
    } else {
      for (const key of subkey === undefined ? [sessionKey] : [sessionKey, subkey]) {
        if (key.enctype !== cred.encPart.etype) continue;
        try {
          plain = decrypt(key, KeyUsage.KRB_CRED_ENCPART, cred.encPart.cipher);
          break;
        } catch (err) {
          if (!(err instanceof IntegrityError)) throw err;
        }
      }
    }
    if (plain === undefined) throw new GssFailureError(`the credentials ${clientName} delegated do not decrypt with the session key or subkey`, { krbCode: ErrorCode.KRB_AP_ERR_BAD_INTEGRITY });
    const part = EncKrbCredPart.decode(plain);
    const info = part.ticketInfo[0];
    const ticket = cred.tickets[0];
    if (info === undefined || ticket === undefined) throw new DefectiveTokenError(`the KRB-CRED ${clientName} delegated holds no ticket`);
    const epoch = new Date(0);
    return {
      client: info.pname === undefined ? client : fromPrincipalName(info.pname, info.prealm ?? client.realm),
      server: info.sname === undefined ? fromPrincipalName(ticket.sname, ticket.realm) : fromPrincipalName(info.sname, info.srealm ?? ticket.realm),
      key: { enctype: info.key.keytype, keyvalue: info.key.keyvalue },
      authtime: info.authtime ?? epoch,
      ...(info.starttime === undefined ? {} : { starttime: info.starttime }),
      endtime: info.endtime ?? epoch,
      ...(info.renewTill === undefined ? {} : { renewTill: info.renewTill }),
      isSkey: false,
      ticketFlags: info.flags ?? 0,
      addresses: info.caddr ?? [],
      authdata: [],
      ticket: Ticket.encode(ticket),
      secondTicket: new Uint8Array(0),
    };
  } catch (err) {
    if (err instanceof GssError) throw err;
    if (err instanceof Asn1Error) throw new DefectiveTokenError(`the credentials ${clientName} delegated are malformed: ${err.message}`, { cause: err });
    throw err;
  }
}

/** '7m12s', '5m', '800ms'. */
function formatSpan(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 || total === 0 ? `${s}s` : ''}`;
}
