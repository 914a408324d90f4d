/**
 * NTLM (MS-NLMP) as a GSS-API mechanism, sans-IO, shaped like the Kerberos
 * classes of src/gss so SPNEGO and HTTP treat both alike:
 *
 * - `NtlmInitiator`: NEGOTIATE out, CHALLENGE in, AUTHENTICATE (with MIC,
 *   channel bindings and MsvAvTargetName) out;
 * - `NtlmAcceptor` / `NtlmAcceptorContext`: NEGOTIATE in, CHALLENGE out,
 *   AUTHENTICATE in, checked in this order: the `NtlmValidator` (NTLMv2
 *   proof, SessionBaseKey) → MIC → channel bindings → NTLMv2 timestamp →
 *   MsvAvTargetName → replay. Each refusal has its own error class;
 * - `NtlmContext`: GSS_GetMIC / VerifyMIC (the §3.4.4 message signature) and
 *   GSS_Wrap / Unwrap (seal / unseal, signature first as gss-ntlmssp frames it).
 *
 * Reflection protection (MS08-068): every server challenge an acceptor of
 * this process issues is remembered in a bounded registry, and an initiator
 * refuses a CHALLENGE that carries one of them.
 */

import { systemClock, type Clock } from '../../core/clock.js';
import { constantTimeEqual, toHex } from '../../core/bytes.js';
import { InvalidArgumentError } from '../../core/errors.js';
import { systemRandom, type RandomSource } from '../../core/random.js';
import { createEmitter, nullSink, type Emitter } from '../../events/index.js';
import { MemoryReplayCache, ReplayCacheFullError } from '../../store/index.js';
import { channelBindingsHash, type ChannelBindingPolicy, type ChannelBindings } from '../channel-bindings.js';
import { DefectiveTokenError, GssError, NoContextError, ReplayCacheFullGssError } from '../errors.js';
import type { AcceptContextOptions, AcceptorPolicyOptions, AcceptorReplayCache } from '../krb5-acceptor.js';
import type { StepResult } from '../krb5-initiator.js';
import type { UnwrapMessage, VerifyResult } from '../krb5-context.js';
import { MechOid } from '../oids.js';
import {
  buildAuthenticate, filetimeFromUnixMs, finishAcceptAuthenticate, NtlmSessionSecurity, sentChannelBindings, SIGNATURE_LENGTH,
  type NtlmRole, type NtlmSecret,
} from './crypto.js';
import {
  NtlmChannelBindingsError, NtlmLogonFailureError, NtlmNegotiationError, NtlmReflectionError,
  NtlmReplayError, NtlmTargetNameError, NtlmTimestampError,
} from './errors.js';
import {
  avString, avTimestamp, decodeAuthenticate, decodeChallenge, decodeNegotiate, encodeChallenge, encodeNegotiate, hasFlag, MsvAv,
  NegotiateFlags, ntlmAccountName, type AvPair, type DecodedAuthenticateMessage, type NtlmVersion,
} from './messages.js';
import type { NtlmValidator } from './validator.js';

const F = NegotiateFlags;

/** VERSION (§2.2.2.10) sent for debugging only: 10.0, build 0, NTLMSSP_REVISION_W2K3. */
const VERSION: NtlmVersion = { major: 10, minor: 0, build: 0, revision: 15 };

/** What the initiator asks for: NTLMv2 with extended session security, 128-bit keys and key exchange. */
export const INITIATOR_NEGOTIATE_FLAGS = (F.UNICODE | F.REQUEST_TARGET | F.SIGN | F.SEAL | F.NTLM | F.ALWAYS_SIGN
  | F.EXTENDED_SESSIONSECURITY | F.TARGET_INFO | F.VERSION | F.NEGOTIATE_128 | F.KEY_EXCH) >>> 0;

/** Flags the acceptor echoes when the client asked for them (§3.2.5.1.1). */
const ACCEPTOR_ECHOED_FLAGS = (F.UNICODE | F.REQUEST_TARGET | F.SIGN | F.SEAL | F.NTLM | F.ALWAYS_SIGN | F.EXTENDED_SESSIONSECURITY
  | F.IDENTIFY | F.VERSION | F.NEGOTIATE_128 | F.KEY_EXCH | F.NEGOTIATE_56) >>> 0;

// ------------------------------------------------------------ reflection registry

/**
 * The server challenges this process's acceptors issued most recently
 * (a bounded FIFO, no timers: the oldest is forgotten when it is full). A
 * CHALLENGE is answered within seconds, so the last few thousand suffice.
 * Acceptors and initiators share `NtlmChallengeRegistry.process` unless
 * given another (tests that run both sides in one process do).
 */
export class NtlmChallengeRegistry {
  /** The registry of this process: the default of every NtlmAcceptor and NtlmInitiator. */
  static readonly process = new NtlmChallengeRegistry(4096);

  readonly #set = new Set<string>();
  readonly #max: number;

  constructor(max = 4096) {
    this.#max = max;
  }

  add(challenge: Uint8Array): void {
    const key = toHex(challenge);
    this.#set.delete(key);
    this.#set.add(key);
    if (this.#set.size > this.#max) this.#set.delete(this.#set.values().next().value!);
  }

  has(challenge: Uint8Array): boolean {
    return this.#set.has(toHex(challenge));
  }
}


// ------------------------------------------------------------ the context

/** @internal What the initiator and acceptor hand over once established. */
export interface NtlmContextParams {
  readonly role: NtlmRole;
  readonly flags: number;
  readonly exportedSessionKey: Uint8Array;
  readonly user: string;
  readonly domain: string;
  readonly workstation: string;
  /** The Kerberos-style principal the validator mapped the user to (acceptor side). */
  readonly principal?: string;
  readonly target?: string;
}

/** An established NTLM security context (MS-NLMP §3.4 session security). */
export class NtlmContext {
  readonly role: 'initiator' | 'acceptor';
  readonly mechOid: string = MechOid.NTLMSSP;
  /** The negotiated NEGOTIATE flags (of the AUTHENTICATE message). */
  readonly flags: number;
  /** The user and domain names as the client sent them. */
  readonly user: string;
  readonly domain: string;
  readonly workstation: string;
  /** 'DOMAIN\\user' (or 'user' with an empty domain). */
  readonly account: string;
  /** The authenticated principal on the acceptor side ('alice@EXAMPLE.TEST'); `account` on the initiator side. */
  readonly initiator: string;
  /** The service ('HTTP/web.example.test@EXAMPLE.TEST' on the acceptor; the target name, if any, on the initiator). */
  readonly acceptor: string | undefined;

  readonly #security: NtlmSessionSecurity;

  /** @internal Created by NtlmInitiator and NtlmAcceptorContext. */
  constructor(p: NtlmContextParams) {
    this.role = p.role === 'client' ? 'initiator' : 'acceptor';
    this.flags = p.flags;
    this.user = p.user;
    this.domain = p.domain;
    this.workstation = p.workstation;
    this.account = ntlmAccountName(p.user, p.domain);
    this.initiator = p.principal ?? this.account;
    this.acceptor = p.target;
    this.#security = new NtlmSessionSecurity(p.flags, p.exportedSessionKey, p.role);
  }

  /** NTLM contexts do not expire (there is no ticket); the HTTP layer bounds their use. */
  lifetimeMs(): number {
    return Number.POSITIVE_INFINITY;
  }

  /** GSS_GetMIC: the 16-octet NTLMSSP_MESSAGE_SIGNATURE (§2.2.2.9.1). */
  getMic(message: Uint8Array): Uint8Array {
    return this.#security.sign(message);
  }

  /** GSS_VerifyMIC: throws NtlmIntegrityError unless the signature is the next one in sequence. */
  verifyMic(message: Uint8Array, token: Uint8Array): VerifyResult {
    this.#security.verify(message, token);
    return { status: 'ok' };
  }

  /** GSS_Wrap: signature (16 octets) followed by the sealed message, as gss-ntlmssp and SSPI's EncryptMessage lay it out. */
  wrap(message: Uint8Array): Uint8Array {
    this.#requireSeal();
    const { sealed, signature } = this.#security.seal(message);
    const out = new Uint8Array(SIGNATURE_LENGTH + sealed.length);
    out.set(signature, 0);
    out.set(sealed, SIGNATURE_LENGTH);
    return out;
  }

  /** GSS_Unwrap of a token made by wrap(). */
  unwrap(token: Uint8Array): UnwrapMessage {
    this.#requireSeal();
    if (token.length < SIGNATURE_LENGTH) {
      throw new DefectiveTokenError(`an NTLM wrap token of ${token.length} octets is shorter than its 16-octet signature`);
    }
    const message = this.#security.unseal(token.subarray(SIGNATURE_LENGTH), token.subarray(0, SIGNATURE_LENGTH));
    return { message, conf: true, status: 'ok' };
  }

  /** @internal MS-SPNG §3.3.5.1: SPNEGO calls this after signing (outbound) or verifying (inbound) its mechListMIC. */
  resetCryptoAfterMechListMic(direction: 'outbound' | 'inbound'): void {
    this.#security.resetRc4(direction);
  }

  #requireSeal(): void {
    if (!hasFlag(this.flags, F.SEAL)) {
      throw new NtlmNegotiationError('NTLM sealing (wrap/unwrap) was not negotiated (NTLMSSP_NEGOTIATE_SEAL)', {
        hint: 'the peer did not agree to confidentiality; use getMic/verifyMic, or a peer that negotiates SEAL',
      });
    }
  }
}

// ------------------------------------------------------------ initiator

export interface NtlmCredential {
  readonly user: string;
  /** The NetBIOS or DNS domain name the account is known under ('' for a local account). */
  readonly domain: string;
  readonly secret: NtlmSecret;
}

export interface NtlmInitiatorOptions {
  readonly credential: NtlmCredential;
  /** The SPN the client means to reach, sent as MsvAvTargetName: 'HTTP/web.example.test'. */
  readonly targetName?: string;
  /** This connection's channel bindings (tlsServerEndPoint(cert)); sent hashed as MsvAvChannelBindings. */
  readonly channelBindings?: ChannelBindings;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  /** The client's NetBIOS machine name sent in AUTHENTICATE (default ''). */
  readonly workstation?: string;
  /** Server challenges to refuse as reflected (default NtlmChallengeRegistry.process). */
  readonly issuedChallenges?: NtlmChallengeRegistry;
}

type InitiatorState = 'start' | 'challenge' | 'complete' | 'failed';

/** One NTLM handshake as initiator: two calls to initSecContext. */
export class NtlmInitiator {
  readonly #o: NtlmInitiatorOptions;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  #state: InitiatorState = 'start';
  #negotiate: Uint8Array | undefined;
  #context: NtlmContext | undefined;
  #error: GssError | undefined;

  constructor(options: NtlmInitiatorOptions) {
    if (typeof options.credential?.user !== 'string' || options.credential.user === '') {
      throw new InvalidArgumentError('an NTLM initiator needs a user name (anonymous NTLM is not supported)');
    }
    this.#o = options;
    this.#clock = options.clock ?? systemClock();
    this.#random = options.random ?? systemRandom();
  }

  get complete(): boolean {
    return this.#state === 'complete';
  }

  get context(): NtlmContext {
    if (this.#context === undefined) throw new NoContextError('the NTLM initiator context is not established');
    return this.#context;
  }

  /** GSS_Init_sec_context: no input → NEGOTIATE; the CHALLENGE → AUTHENTICATE (complete). */
  initSecContext(input?: Uint8Array): StepResult {
    if (this.#state === 'failed') throw this.#error!;
    if (this.#state === 'complete') throw new DefectiveTokenError('the NTLM initiator context is already complete');
    try {
      if (this.#state === 'start') {
        if (input !== undefined && input.length > 0) throw new DefectiveTokenError('the first call to initSecContext takes no input token');
        this.#negotiate = encodeNegotiate({ flags: INITIATOR_NEGOTIATE_FLAGS, version: VERSION });
        this.#state = 'challenge';
        return { output: this.#negotiate, complete: false };
      }
      if (input === undefined) throw new DefectiveTokenError('the acceptor\'s NTLM CHALLENGE is required to continue');
      const output = this.#answer(input);
      this.#state = 'complete';
      return { output, complete: true };
    } catch (err) {
      this.#state = 'failed';
      if (err instanceof GssError) this.#error = err;
      throw err;
    }
  }

  #answer(input: Uint8Array): Uint8Array {
    const challenge = decodeChallenge(input);
    const target = this.#o.targetName ?? 'the NTLM acceptor';
    const missing = ([
      [F.EXTENDED_SESSIONSECURITY, 'extended session security'], [F.TARGET_INFO, 'target information'], [F.NEGOTIATE_128, '128-bit keys'],
      [F.UNICODE, 'Unicode'],
    ] as const).filter(([flag]) => !hasFlag(challenge.flags, flag)).map(([, name]) => name);
    if (challenge.targetInfo === undefined && !missing.includes('target information')) missing.push('target information');
    if (missing.length > 0) {
      throw new NtlmNegotiationError(`${target} answered with a CHALLENGE without ${missing.join(', ')}: refused (NTLMv2 with extended session security only)`, {
        hint: 'the server is an NTLMv1-era or misconfigured NTLM implementation, or the CHALLENGE was altered to downgrade the exchange',
        detail: { flags: challenge.flags >>> 0, missing },
      });
    }
    if (hasFlag(challenge.flags, F.DATAGRAM)) {
      throw new NtlmNegotiationError(`${target} selected connectionless (datagram) NTLM, which was not asked for`);
    }
    if ((this.#o.issuedChallenges ?? NtlmChallengeRegistry.process).has(challenge.serverChallenge)) {
      throw new NtlmReflectionError(`${target} sent a CHALLENGE whose server challenge an NTLM acceptor of this process issued: a reflection attack, refused`, {
        hint: 'the peer relayed this host\'s own NTLM challenge back to it (MS08-068); do not authenticate to that peer',
      });
    }
    const cred = this.#o.credential;
    const workstation = this.#o.workstation ?? '';
    const built = buildAuthenticate({
      negotiate: this.#negotiate!, challenge: input, user: cred.user, domain: cred.domain, workstation, secret: cred.secret,
      timestamp: filetimeFromUnixMs(this.#clock.now()), random: this.#random,
      ...(this.#o.channelBindings === undefined ? {} : { channelBindingsHash: channelBindingsHash(this.#o.channelBindings) }),
      ...(this.#o.targetName === undefined ? {} : { targetName: this.#o.targetName }),
      version: VERSION,
    });
    this.#context = new NtlmContext({
      role: 'client', flags: built.flags, exportedSessionKey: built.exportedSessionKey, user: cred.user, domain: cred.domain, workstation,
      ...(this.#o.targetName === undefined ? {} : { target: this.#o.targetName }),
    });
    return built.authenticate;
  }
}

// ------------------------------------------------------------ acceptor

export interface NtlmAcceptorOptions extends AcceptorPolicyOptions {
  readonly validator: NtlmValidator;
  /** The acceptor principal: 'HTTP/web.example.test@EXAMPLE.TEST'. Its host and realm give the CHALLENGE's target information. */
  readonly service: string;
  /** Where issued server challenges are recorded for reflection protection (default NtlmChallengeRegistry.process). */
  readonly issuedChallenges?: NtlmChallengeRegistry;
  /**
   * Refuse an AUTHENTICATE without a MIC (default false). A client that
   * announces a MIC (MsvAvFlags MIC_PRESENT, inside the NTProofStr-protected
   * blob, so it cannot be stripped in transit) always has it verified; raw
   * NTLM clients such as curl, Samba's ntlm_auth and gss-ntlmssp outside
   * SPNEGO send none. Inside SPNEGO the mechListMIC is required regardless.
   */
  readonly requireMic?: boolean;
}

const DEFAULT_SKEW_MS = 5 * 60_000;

/** The names the CHALLENGE's target information carries, derived from 'HTTP/host@REALM'. */
interface ServiceNames {
  readonly spn: string;
  readonly nbComputer: string;
  readonly nbDomain: string;
  readonly dnsComputer: string;
  readonly dnsDomain: string;
}

function serviceNames(service: string): ServiceNames {
  const m = /^([^/@]+)\/([^/@]+)@([^/@]+)$/.exec(service);
  if (m === null) {
    throw new InvalidArgumentError(`NTLM acceptor service "${service}" must be a service principal with a realm, e.g. HTTP/web.example.test@EXAMPLE.TEST`);
  }
  const [, svc, host, realm] = m as unknown as [string, string, string, string];
  // NetBIOS names: first label, upper case, at most 15 characters (MS-NLMP §2.2.2.1 "NetBIOS computer name").
  const netbios = (name: string): string => (name.split('.')[0] ?? name).toUpperCase().slice(0, 15);
  return { spn: `${svc}/${host}`, nbComputer: netbios(host), nbDomain: netbios(realm), dnsComputer: host.toLowerCase(), dnsDomain: realm.toLowerCase() };
}

/** The acceptor's credential and policy: long-lived, shared by all contexts. */
export class NtlmAcceptor {
  /** @internal */ readonly validator: NtlmValidator;
  /** @internal */ readonly service: string;
  /** @internal */ readonly names: ServiceNames;
  /** @internal */ readonly clock: Clock;
  /** @internal */ readonly random: RandomSource;
  /** @internal */ readonly emit: Emitter;
  /** @internal */ readonly replay: AcceptorReplayCache;
  /** @internal */ readonly skewMs: number;
  /** @internal */ readonly policy: ChannelBindingPolicy;
  /** @internal */ readonly requireMic: boolean;
  /** @internal */ readonly issued: NtlmChallengeRegistry;

  constructor(options: NtlmAcceptorOptions) {
    this.validator = options.validator;
    this.service = options.service;
    this.names = serviceNames(options.service);
    this.clock = options.clock ?? systemClock();
    this.random = options.random ?? systemRandom();
    this.emit = createEmitter(options.events ?? nullSink(), this.clock);
    this.skewMs = options.clockSkewMs ?? DEFAULT_SKEW_MS;
    this.replay = options.replayCache ?? new MemoryReplayCache({ clockSkewSeconds: this.skewMs / 1000, maxEntries: 100_000 });
    this.policy = options.channelBindingPolicy ?? 'allow';
    this.requireMic = options.requireMic ?? false;
    this.issued = options.issuedChallenges ?? NtlmChallengeRegistry.process;
  }

  /** A context for one connection / handshake. */
  newContext(options: AcceptContextOptions = {}): NtlmAcceptorContext {
    return new NtlmAcceptorContext(this, options);
  }

  /** @internal The CHALLENGE answering a NEGOTIATE (§3.2.5.1.1). */
  challenge(negotiate: Uint8Array): Uint8Array {
    const n = decodeNegotiate(negotiate);
    if (!hasFlag(n.flags, F.EXTENDED_SESSIONSECURITY)) {
      throw new NtlmNegotiationError('the NTLM client did not ask for extended session security (NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY): refused', {
        hint: 'the client is configured for NTLMv1 or LM; set it to send NTLMv2 only, or use Kerberos',
        detail: { flags: n.flags >>> 0 },
      });
    }
    let flags = (n.flags & ACCEPTOR_ECHOED_FLAGS) | F.TARGET_INFO | F.TARGET_TYPE_DOMAIN | F.NTLM;
    if (!hasFlag(n.flags, F.UNICODE)) flags |= F.OEM;
    // With both 128 and 56 asked for, 128 wins (§3.2.5.1.1 "the strongest").
    if (hasFlag(flags, F.NEGOTIATE_128)) flags &= ~F.NEGOTIATE_56;
    flags >>>= 0;
    const serverChallenge = this.random.bytes(8);
    const names = this.names;
    const pairs: AvPair[] = [
      avString(MsvAv.NbDomainName, names.nbDomain), avString(MsvAv.NbComputerName, names.nbComputer),
      avString(MsvAv.DnsDomainName, names.dnsDomain), avString(MsvAv.DnsComputerName, names.dnsComputer),
      avString(MsvAv.DnsTreeName, names.dnsDomain), avTimestamp(filetimeFromUnixMs(this.clock.now())),
    ];
    const challenge = encodeChallenge({
      flags, serverChallenge, targetName: names.nbDomain, targetInfo: { pairs },
      ...(hasFlag(flags, F.VERSION) ? { version: VERSION } : {}),
    });
    this.issued.add(serverChallenge);
    return challenge;
  }

  /** @internal AUTHENTICATE in: validator → MIC → channel bindings → timestamp → target name → replay. */
  async authenticate(negotiate: Uint8Array, challenge: Uint8Array, authenticate: Uint8Array, bindings: ChannelBindings | undefined): Promise<NtlmContext> {
    const message = decodeAuthenticate(authenticate);
    const who = ntlmAccountName(message.user, message.domain);
    const fields = { user: message.user, domain: message.domain, workstation: message.workstation, service: this.service };
    const failed = (err: unknown, cause: string): unknown => {
      this.emit.emit('ntlm.validation', `NTLM logon of ${who} to ${this.service} refused: ${cause}`, { ...fields, status: 'failure', cause }, 'warning');
      return err;
    };
    let result;
    try {
      if (message.ntlmv2 === undefined) {
        throw new NtlmNegotiationError(`anonymous NTLM authentication (empty NT response) to ${this.service} is not accepted`, {
          hint: 'the client sent no credentials; configure it with a user name and password',
        });
      }
      result = await this.validator.validate({ challenge, authenticate, service: this.service });
    } catch (err) {
      const cause = err instanceof NtlmLogonFailureError ? String(err.detail['cause'] ?? 'logon_failure')
        : err instanceof GssError ? err.code : 'validator_failed';
      throw failed(err, cause);
    }
    try {
      const ntlmv2 = message.ntlmv2!;
      if (!hasFlag(message.flags, F.EXTENDED_SESSIONSECURITY)) {
        throw new NtlmNegotiationError(`the AUTHENTICATE of ${who} drops extended session security`, { hint: 'the client is not NTLMv2-capable for session security' });
      }
      const exportedSessionKey = finishAcceptAuthenticate(negotiate, challenge, authenticate, message, result.sessionBaseKey, this.requireMic);
      this.#checkBindings(message, bindings, who);
      const now = this.clock.now();
      const sentMs = Number((ntlmv2.timestamp - 116_444_736_000_000_000n) / 10_000n);
      if (Math.abs(now - sentMs) > this.skewMs) {
        throw new NtlmTimestampError(`the NTLMv2 response of ${who} is timestamped ${Math.round((sentMs - now) / 1000)} s from this host's clock, beyond the ${this.skewMs / 1000} s allowed`, {
          hint: 'the AUTHENTICATE is stale (replayed, or the handshake took too long), or the clocks of client and server differ: check NTP',
          detail: { user: message.user, domain: message.domain, skewMs: sentMs - now, allowedMs: this.skewMs },
        });
      }
      const target = ntlmv2.targetInfo.targetName;
      if (target !== undefined && target !== '' && !this.#isOwnName(target)) {
        throw new NtlmTargetNameError(`the NTLM logon of ${who} names the service ${target}, not ${this.names.spn}`, {
          hint: 'the client authenticated to another service (a relayed authentication), or reached this server under a name it does not know itself by',
          detail: { user: message.user, domain: message.domain, targetName: target, service: this.service },
        });
      }
      await this.#checkReplay(message, result.principal, sentMs, now, who);
      const context = new NtlmContext({
        role: 'server', flags: message.flags, exportedSessionKey, user: message.user, domain: message.domain,
        workstation: message.workstation, principal: result.principal, target: this.service,
      });
      this.emit.emit('ntlm.validation', `NTLM logon of ${who} (${result.principal}) to ${this.service} succeeded`, { ...fields, status: 'success', cause: null });
      return context;
    } catch (err) {
      throw failed(err, err instanceof GssError ? err.code : 'internal_error');
    }
  }

  #isOwnName(target: string): boolean {
    const t = target.toLowerCase();
    return t === this.names.spn.toLowerCase() || t === this.service.toLowerCase();
  }

  #checkBindings(message: DecodedAuthenticateMessage, bindings: ChannelBindings | undefined, who: string): void {
    if (this.policy === 'none') return;
    const sent = sentChannelBindings(message);
    if (this.policy === 'require') {
      if (bindings === undefined) {
        throw new NtlmChannelBindingsError('channel bindings are required, but this connection has none to compare (not TLS?)', {
          hint: 'serve NTLM over TLS and pass tlsServerEndPoint(certificate), or relax the channel binding policy',
        });
      }
      if (sent === undefined) {
        throw new NtlmChannelBindingsError(`${who} sent no channel bindings (MsvAvChannelBindings), and this acceptor requires them (Extended Protection)`, {
          hint: 'the client does not support Extended Protection for Authentication, or a TLS-terminating proxy sits between client and server',
        });
      }
    }
    if (sent === undefined || bindings === undefined) return;
    if (!constantTimeEqual(sent, channelBindingsHash(bindings))) {
      throw new NtlmChannelBindingsError(`the channel bindings from ${who} do not match this connection`, {
        hint: 'the client saw another TLS certificate (a TLS-intercepting proxy), or the authentication was relayed from another connection',
      });
    }
  }

  async #checkReplay(message: DecodedAuthenticateMessage, principal: string, sentMs: number, now: number, who: string): Promise<void> {
    let replayed: boolean;
    try {
      // NTProofStr is an HMAC over the server challenge and the whole blob: equal only for the same response.
      replayed = await this.replay.seen({ client: principal, server: this.service, ctime: sentMs, cusec: 0, authenticator: message.ntlmv2!.ntProofStr }, now);
    } catch (err) {
      if (!(err instanceof ReplayCacheFullError)) throw err;
      throw new ReplayCacheFullGssError(`the NTLM logon of ${who} to ${this.service} was refused: ${err.message}`, {
        ...(err.hint === undefined ? {} : { hint: err.hint }), detail: { user: message.user, domain: message.domain, ...err.detail }, cause: err,
      });
    }
    if (replayed) {
      throw new NtlmReplayError(`the NTLMv2 response of ${who} for ${this.service} was already used (replay)`, {
        hint: 'an AUTHENTICATE message was sent twice: by an attacker, or by a client or proxy that retries a request with the same Authorization header',
        detail: { user: message.user, domain: message.domain },
      });
    }
  }
}

type AcceptorState = 'negotiate' | 'authenticate' | 'complete' | 'failed';

/** One NTLM handshake as acceptor: NEGOTIATE, then AUTHENTICATE. */
export class NtlmAcceptorContext {
  readonly #a: NtlmAcceptor;
  readonly #bindings: ChannelBindings | undefined;
  #state: AcceptorState = 'negotiate';
  #negotiate: Uint8Array | undefined;
  #challenge: Uint8Array | undefined;
  #context: NtlmContext | undefined;
  #error: unknown;

  /** @internal Use NtlmAcceptor.newContext(). */
  constructor(acceptor: NtlmAcceptor, options: AcceptContextOptions) {
    this.#a = acceptor;
    this.#bindings = options.channelBindings;
  }

  get complete(): boolean {
    return this.#state === 'complete';
  }

  get context(): NtlmContext {
    if (this.#context === undefined) throw new NoContextError('the NTLM acceptor context is not established');
    return this.#context;
  }

  /** GSS_Accept_sec_context: NEGOTIATE → CHALLENGE (continue), then AUTHENTICATE → complete (no output). */
  async acceptSecContext(input: Uint8Array): Promise<StepResult> {
    if (this.#state === 'failed') throw this.#error;
    if (this.#state === 'complete') throw new DefectiveTokenError('the NTLM acceptor context is already complete');
    try {
      if (this.#state === 'negotiate') {
        this.#negotiate = input.slice();
        this.#challenge = this.#a.challenge(this.#negotiate);
        this.#state = 'authenticate';
        return { output: this.#challenge, complete: false };
      }
      this.#context = await this.#a.authenticate(this.#negotiate!, this.#challenge!, input, this.#bindings);
      this.#state = 'complete';
      return { complete: true };
    } catch (err) {
      this.#state = 'failed';
      this.#error = err;
      throw err;
    }
  }
}
