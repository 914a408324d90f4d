/**
 * SPNEGO (RFC 4178) over the Kerberos and NTLM mechanisms: negotiation, multi-leg
 * exchange and the mechListMIC of §5, following MIT's spnego_mech.c
 * (handle_mic) where the RFC leaves room:
 *
 * - the MIC exchange is required when the selected mechanism is not the
 *   initiator's first choice (its optimistic token, if any, is then
 *   discarded) or when the acceptor is configured to demand it; the MIC is
 *   the mechanism's GSS_GetMIC over the DER MechTypeList of the
 *   NegTokenInit, verified on both sides, and a peer that sends a MIC gets
 *   one back;
 * - the acceptor never sends an unsolicited MIC (dittofs#1582) and says
 *   request-mic only in its first reply (pyspnego#7); a MIC field that
 *   merely echoes the response token is ignored (pyspnego#17);
 * - Microsoft's Kerberos OID counts as Kerberos; an initiator that lists it
 *   first gets it back as supportedMech, as Windows and MIT answer;
 * - NTLM (MS-SPNG): the acceptor picks the first mechanism of the
 *   initiator's list it supports, NTLM only when it has an NtlmAcceptor
 *   (NtlmNotEnabledError otherwise); NTLM's NEGOTIATE may be the optimistic
 *   token. Because the NTLM AUTHENTICATE carries a MIC, the mechListMIC
 *   exchange is then required (MS-SPNG §3.1.5.1), and after each mechListMIC
 *   the RC4 state of that direction is reset (§3.3.5.1);
 * - a Kerberos token that fails is never followed by NTLM: a
 *   `spnego.downgrade_refused` event (Windows LsaSrv 40960) names the
 *   Kerberos failure code.
 *
 * As RFC 4178 §3 requires, the mechanism context is offered to callers
 * (`context`) only once the whole negotiation is complete.
 */

import { systemClock, type Clock } from '../core/clock.js';
import { createEmitter, nullSink, type Emitter, type EventSink } from '../events/index.js';
import { principalToString } from '../files/index.js';
import { errorCodeName } from '../messages/index.js';
import {
  BadMechError, ContextExpiredError, DefectiveTokenError, GssError, GssFailureError, NoContextError, NtlmNotEnabledError,
  withOutput,
} from './errors.js';
import { decodeInitialContextToken, decodeKrb5Token, looksFramed, Krb5TokenId } from './framing.js';
import type { Krb5Acceptor, AcceptContextOptions } from './krb5-acceptor.js';
import type { Krb5Context } from './krb5-context.js';
import { Krb5Initiator, rejected, type Krb5InitiatorOptions, type StepResult } from './krb5-initiator.js';
import { NtlmContext, NtlmInitiator, type NtlmAcceptor, type NtlmInitiatorOptions } from './ntlm/context.js';
import { isNtlmToken } from './ntlm/messages.js';
import { describeMech, isKerberosMech, MechOid } from './oids.js';
import {
  decodeSpnegoToken, encodeMechTypes, encodeNegTokenInit, encodeNegTokenResp, NegState, negStateName,
  type NegTokenResp,
} from './spnego-tokens.js';

/** Emits the LsaSrv-40960-style event: Kerberos failed and SPNEGO did not fall back to a weaker mechanism. */
export function emitDowngradeRefused(
  emit: Emitter, side: 'initiator' | 'acceptor', peer: string | undefined, failure: unknown, offered: readonly string[],
): void {
  const code = failure instanceof GssError ? failure.krbCode : undefined;
  const reason = code === undefined ? (failure instanceof Error ? failure.message : String(failure)) : `${errorCodeName(code)} (${code})`;
  emit.emit('spnego.downgrade_refused',
    `Kerberos authentication${peer === undefined ? '' : ` with ${peer}`} failed and SPNEGO did not fall back to another mechanism; failure code: ${reason}`, {
      side,
      ...(peer === undefined ? {} : { peer }),
      failureCode: code ?? null,
      failureName: code === undefined ? null : errorCodeName(code),
      failure: failure instanceof Error ? failure.message : String(failure),
      offeredMechs: [...offered],
    });
}

// ---------------------------------------------------------------- acceptor

export interface SpnegoAcceptorOptions {
  /** The Kerberos acceptor (keys, replay cache, channel binding policy). */
  readonly krb5: Krb5Acceptor;
  /**
   * Accept NTLM (MS-NLMP) with this acceptor when the initiator lists it
   * before Kerberos, or offers nothing else. Absent: NTLM offers are refused
   * with NtlmNotEnabledError. (The HTTP layer's downgrade rule decides
   * whether to pass one; see offersOnlyNtlm.)
   */
  readonly ntlm?: NtlmAcceptor;
  /** Demand the mechListMIC exchange even when Kerberos was the initiator's first choice (default false). */
  readonly requireMic?: boolean;
  /** Abandon a handshake whose next leg comes later than this (default 60 s). */
  readonly handshakeTimeoutMs?: number;
  readonly clock?: Clock;
  readonly events?: EventSink;
}

export class SpnegoAcceptor {
  /** @internal */ readonly krb5: Krb5Acceptor;
  /** @internal */ readonly ntlm: NtlmAcceptor | undefined;
  /** @internal */ readonly requireMic: boolean;
  /** @internal */ readonly handshakeTimeoutMs: number;
  /** @internal */ readonly clock: Clock;
  /** @internal */ readonly emit: Emitter;

  constructor(options: SpnegoAcceptorOptions) {
    this.krb5 = options.krb5;
    this.ntlm = options.ntlm;
    this.requireMic = options.requireMic ?? false;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 60_000;
    this.clock = options.clock ?? systemClock();
    this.emit = createEmitter(options.events ?? nullSink(), this.clock);
  }

  /** A context for one handshake (bind it to the connection that carries it). */
  newContext(options: AcceptContextOptions = {}): SpnegoAcceptorContext {
    return new SpnegoAcceptorContext(this, options);
  }
}

/** Shared MIC bookkeeping of both sides (MIT handle_mic / process_mic). */
interface MicState {
  required: boolean;
  sent: boolean;
  received: boolean;
}

/**
 * RFC 4178 §5 for one pass once the mechanism is complete: verifies `micIn`
 * (a received MIC makes ours due), produces ours when due, and says whether
 * the negotiation is finished. `peerSentLastToken`: the peer's message
 * carried the final mechanism token, so a required MIC must have come with it.
 */
function handleMic(
  mic: MicState, context: MechContext, mechTypesDer: Uint8Array, micIn: Uint8Array | undefined, peerSentLastToken: boolean,
): { micOut?: Uint8Array; done: boolean } {
  if (micIn !== undefined) {
    if (mic.received) throw new DefectiveTokenError('the peer sent a second mechListMIC');
    context.verifyMic(mechTypesDer, micIn);
    if (context instanceof NtlmContext) context.resetCryptoAfterMechListMic('inbound');
    mic.received = true;
    mic.required = true;
  } else if (mic.required && peerSentLastToken) {
    throw new DefectiveTokenError('the mechListMIC exchange is required (RFC 4178 §5), but the peer did not send its MIC with its last token', {
      hint: 'the mechanism list may have been tampered with (downgrade attempt), or the peer does not implement RFC 4178 §5',
    });
  }
  let micOut: Uint8Array | undefined;
  if (mic.required && !mic.sent) {
    micOut = context.getMic(mechTypesDer);
    if (context instanceof NtlmContext) context.resetCryptoAfterMechListMic('outbound');
    mic.sent = true;
  }
  const done = !mic.required || (mic.sent && mic.received);
  return micOut === undefined ? { done } : { micOut, done };
}

type AcceptorState = 'start' | 'negotiating' | 'complete' | 'failed';

/** The established mechanism context SPNEGO hands out. */
export type MechContext = Krb5Context | NtlmContext;

/** One mechanism handshake on the acceptor side (Krb5AcceptorContext, NtlmAcceptorContext). */
interface AcceptorMech {
  acceptSecContext(token: Uint8Array): Promise<StepResult>;
  readonly context: MechContext;
}

/**
 * True when `token` is a SPNEGO NegTokenInit whose mechanism list names NTLM
 * and no Kerberos OID, or a raw NTLMSSP message: the offer the HTTP layer's
 * downgrade rule is about. False for anything else, malformed input included.
 */
export function offersOnlyNtlm(token: Uint8Array): boolean {
  if (isNtlmToken(token)) return true;
  try {
    const t = decodeSpnegoToken(token);
    return t.type === 'init' && t.value.mechTypes.includes(MechOid.NTLMSSP) && !t.value.mechTypes.some(isKerberosMech);
  } catch {
    return false;
  }
}

export class SpnegoAcceptorContext {
  readonly #a: SpnegoAcceptor;
  readonly #options: AcceptContextOptions;
  readonly #deadline: number;
  #state: AcceptorState = 'start';
  #error: GssError | undefined;
  #offered: readonly string[] = [];
  #mechTypesDer: Uint8Array = new Uint8Array(0);
  #supportedMech: string = MechOid.KRB5;
  #mic: MicState = { required: false, sent: false, received: false };
  #mech: AcceptorMech | undefined;
  #context: MechContext | undefined;
  #raw = false;
  #rawNtlm = false;

  /** @internal Use SpnegoAcceptor.newContext(). */
  constructor(acceptor: SpnegoAcceptor, options: AcceptContextOptions) {
    this.#a = acceptor;
    this.#options = options;
    this.#deadline = acceptor.clock.now() + acceptor.handshakeTimeoutMs;
  }

  get complete(): boolean {
    return this.#state === 'complete';
  }

  /** The mechanism's context (Kerberos or NTLM: see `mechOid` / instanceof), once the negotiation is complete. */
  get context(): MechContext {
    if (this.#state !== 'complete' || this.#context === undefined) throw new NoContextError('the SPNEGO negotiation is not complete');
    return this.#context;
  }

  /** The mechanism OID as negotiated (MS Kerberos OID when the initiator preferred it). */
  get negotiatedMech(): string {
    return this.#supportedMech;
  }

  /** True when the initiator sent a bare Kerberos token instead of SPNEGO (accepted too, as IIS and mod_auth_gssapi do). */
  get rawKerberos(): boolean {
    return this.#raw && !this.#rawNtlm;
  }

  /** True when the initiator sent raw NTLMSSP messages instead of SPNEGO (Negotiate with NTLM, as IIS accepts). */
  get rawNtlm(): boolean {
    return this.#rawNtlm;
  }

  /** GSS_Accept_sec_context for SPNEGO (or a bare Kerberos token as the first token). */
  async acceptSecContext(input: Uint8Array): Promise<StepResult> {
    if (this.#state === 'failed') throw this.#error!;
    if (this.#state === 'complete') throw new DefectiveTokenError('the SPNEGO negotiation is already complete');
    try {
      if (this.#a.clock.now() > this.#deadline) {
        throw new ContextExpiredError(`the SPNEGO handshake was not completed within ${this.#a.handshakeTimeoutMs / 1000}s`);
      }
      const r = this.#state === 'start' ? await this.#first(input) : await this.#next(input);
      if (r.complete) this.#state = 'complete';
      else this.#state = 'negotiating';
      return r;
    } catch (err) {
      this.#state = 'failed';
      if (err instanceof GssError) {
        // The mechanism's error token (KRB-ERROR) travels inside the SPNEGO reject.
        this.#error = this.#raw ? err : withOutput(err, encodeNegTokenResp({
          negState: NegState.REJECT, ...(err.output === undefined ? {} : { responseToken: err.output }),
        }));
        throw this.#error;
      }
      throw err;
    }
  }

  async #first(input: Uint8Array): Promise<StepResult> {
    if (looksFramed(input) && isKerberosMech(decodeInitialContextToken(input).mechOid)) {
      // A bare Kerberos token (Negotiate without SPNEGO).
      this.#raw = true;
      const ctx = this.#a.krb5.newContext(this.#options);
      const r = await ctx.acceptSecContext(input);
      this.#context = ctx.context;
      this.#supportedMech = ctx.context.mechOid;
      return r;
    }
    if (isNtlmToken(input)) {
      this.#raw = true;
      this.#rawNtlm = true;
      this.#supportedMech = MechOid.NTLMSSP;
      this.#mech = this.#ntlm([MechOid.NTLMSSP]).newContext(this.#options);
      return this.#mech.acceptSecContext(input);
    }
    const token = decodeSpnegoToken(input);
    if (token.type !== 'init') throw new DefectiveTokenError('the first SPNEGO token must be a NegTokenInit');
    const init = token.value;
    this.#offered = init.mechTypes;
    this.#mechTypesDer = init.mechTypesDer;
    const index = init.mechTypes.findIndex((m) => isKerberosMech(m) || (m === MechOid.NTLMSSP && this.#a.ntlm !== undefined));
    if (index < 0) {
      if (init.mechTypes.includes(MechOid.NTLMSSP)) this.#ntlm(init.mechTypes);
      throw new BadMechError(`the client offered no mechanism this server supports: ${init.mechTypes.map(describeMech).join(', ')}`, {
        detail: { offeredMechs: [...init.mechTypes] },
      });
    }
    this.#supportedMech = init.mechTypes[index]!;
    const ntlm = this.#supportedMech === MechOid.NTLMSSP;
    // §5: the exchange is required when the mechanism was not the initiator's first choice.
    this.#mic.required = index !== 0 || this.#a.requireMic;
    const fits = (t: Uint8Array): boolean => (ntlm ? isNtlmToken(t) : tokenIsKerberos(t));
    const optimistic = index === 0 && init.mechToken !== undefined && fits(init.mechToken) ? init.mechToken : undefined;
    if (init.mechToken !== undefined && optimistic === undefined) this.#mic.required = true;
    if (optimistic === undefined) {
      return {
        output: encodeNegTokenResp({
          negState: this.#mic.required ? NegState.REQUEST_MIC : NegState.ACCEPT_INCOMPLETE,
          supportedMech: this.#supportedMech,
        }),
        complete: false,
      };
    }
    return this.#mechStep(optimistic, init.mechListMIC, true);
  }

  async #next(input: Uint8Array): Promise<StepResult> {
    if (this.#rawNtlm) {
      const r = await this.#mech!.acceptSecContext(input);
      if (r.complete) this.#context = this.#mech!.context;
      return r;
    }
    const token = decodeSpnegoToken(input);
    if (token.type !== 'resp') throw new DefectiveTokenError('expected a NegTokenResp after the first SPNEGO token');
    const resp = token.value;
    if (resp.negState === NegState.REJECT) throw new GssFailureError('the initiator abandoned the SPNEGO negotiation (reject)');
    if (resp.supportedMech !== undefined) throw new DefectiveTokenError('an initiator\'s NegTokenResp must not carry supportedMech');
    if (resp.responseToken === undefined && resp.mechListMIC === undefined) {
      throw new DefectiveTokenError('the NegTokenResp carries neither a mechanism token nor a mechListMIC');
    }
    if (this.#context === undefined) {
      if (resp.responseToken === undefined) throw new DefectiveTokenError(`expected a ${describeMech(this.#supportedMech)} token in the NegTokenResp`);
      return this.#mechStep(resp.responseToken, resp.mechListMIC, false);
    }
    if (resp.responseToken !== undefined) throw new DefectiveTokenError('a mechanism token arrived after the mechanism context was complete');
    return this.#micStep(undefined, resp.mechListMIC, false);
  }

  async #mechStep(mechToken: Uint8Array, micIn: Uint8Array | undefined, first: boolean): Promise<StepResult> {
    const ntlm = this.#supportedMech === MechOid.NTLMSSP;
    this.#mech ??= ntlm ? this.#ntlm(this.#offered).newContext(this.#options) : this.#a.krb5.newContext(this.#options);
    let r: StepResult;
    try {
      r = await this.#mech.acceptSecContext(mechToken);
    } catch (err) {
      if (!ntlm && this.#offered.some((m) => !isKerberosMech(m))) emitDowngradeRefused(this.#a.emit, 'acceptor', undefined, err, this.#offered);
      throw err;
    }
    if (!r.complete) {
      // NTLM's CHALLENGE: the mechanism continues; a MIC cannot be checked yet.
      return {
        output: encodeNegTokenResp({
          negState: first && this.#mic.required ? NegState.REQUEST_MIC : NegState.ACCEPT_INCOMPLETE,
          ...(first ? { supportedMech: this.#supportedMech } : {}),
          ...(r.output === undefined ? {} : { responseToken: r.output }),
        }),
        complete: false,
      };
    }
    this.#context = this.#mech.context;
    // MS-SPNG §3.1.5.1: an NTLM AUTHENTICATE with a MIC (kerbside requires one) makes the mechListMIC mandatory.
    if (ntlm) this.#mic.required = true;
    return this.#micStep(r.output, micIn, first);
  }

  /** The NtlmAcceptor, or NtlmNotEnabledError when this acceptor has none. */
  #ntlm(offered: readonly string[]): NtlmAcceptor {
    if (this.#a.ntlm !== undefined) return this.#a.ntlm;
    throw new NtlmNotEnabledError('the client offered only NTLM, and NTLM is not enabled on this server', {
      hint: 'the client could not use Kerberos (no ticket, unknown SPN, or not domain-joined); NTLM is not enabled for this service',
      detail: { offeredMechs: [...offered] },
    });
  }

  #micStep(mechOut: Uint8Array | undefined, micIn: Uint8Array | undefined, first: boolean): StepResult {
    const context = this.#context!;
    // With request-mic in the first reply and the initiator's last token already processed, our MIC goes first (§5 c IV).
    const peerSentLast = mechOut === undefined && !first;
    const { micOut, done } = handleMic(this.#mic, context, this.#mechTypesDer, micIn, peerSentLast);
    const negState = done ? NegState.ACCEPT_COMPLETED
      : first && this.#mic.required ? NegState.REQUEST_MIC : NegState.ACCEPT_INCOMPLETE;
    if (!first && done && mechOut === undefined && micOut === undefined) return { complete: true };
    return {
      output: encodeNegTokenResp({
        negState,
        ...(first ? { supportedMech: this.#supportedMech } : {}),
        ...(mechOut === undefined ? {} : { responseToken: mechOut }),
        ...(micOut === undefined ? {} : { mechListMIC: micOut }),
      }),
      complete: done,
    };
  }
}

function tokenIsKerberos(token: Uint8Array): boolean {
  try {
    return isKerberosMech(decodeInitialContextToken(token).mechOid);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- initiator

export interface SpnegoInitiatorOptions {
  /** The Kerberos initiator's options (service ticket, flags, channel bindings, delegation). Required when Kerberos is offered. */
  readonly krb5?: Krb5InitiatorOptions;
  /**
   * The NTLM initiator's options (credential, target name, channel bindings).
   * Whether to offer NTLM at all is the caller's decision: kerbside's
   * downgrade rule (offer NTLM only when Kerberos cannot be tried) lives in
   * http/negotiate-fetch, not here. Required when NTLM is offered.
   */
  readonly ntlm?: NtlmInitiatorOptions;
  /**
   * Mechanism OIDs to offer, in order: MechOid.KRB5, MechOid.KRB5_MS and/or
   * MechOid.NTLMSSP, each needing its options. Default: [MechOid.KRB5] with
   * `krb5` (as MIT offers), followed by MechOid.NTLMSSP when `ntlm` is given.
   * The optimistic token is the first mechanism's.
   */
  readonly mechTypes?: readonly string[];
  /**
   * 'always': also send a mechListMIC when it is optional — possible when the
   * initiator sends the last mechanism token (no mutual authentication).
   * Default 'when-required'.
   */
  readonly sendMic?: 'when-required' | 'always';
  /** Names the service in events (default: the ticket's server principal, or NTLM's target name). */
  readonly target?: string;
  readonly events?: EventSink;
  readonly clock?: Clock;
}

type InitiatorState = 'start' | 'first-reply' | 'negotiating' | 'complete' | 'failed';

/** The initiator side of one mechanism: Krb5Initiator or NtlmInitiator. */
interface InitiatorMech {
  initSecContext(input?: Uint8Array): StepResult;
  readonly complete: boolean;
  readonly context: MechContext;
}

export class SpnegoInitiator {
  readonly #o: SpnegoInitiatorOptions;
  readonly #mechTypes: readonly string[];
  readonly #mechTypesDer: Uint8Array;
  readonly #emit: Emitter;
  readonly #target: string | undefined;
  #mech: InitiatorMech | undefined;
  #mechOid: string;
  #state: InitiatorState = 'start';
  #error: GssError | undefined;
  #mic: MicState = { required: false, sent: false, received: false };

  constructor(options: SpnegoInitiatorOptions) {
    this.#o = options;
    this.#mechTypes = options.mechTypes
      ?? [...(options.krb5 === undefined ? [] : [MechOid.KRB5]), ...(options.ntlm === undefined ? [] : [MechOid.NTLMSSP])];
    if (this.#mechTypes.length === 0) throw new BadMechError('the SPNEGO initiator has no mechanism to offer: give krb5 and/or ntlm options');
    for (const m of this.#mechTypes) {
      if (isKerberosMech(m) ? options.krb5 === undefined : m === MechOid.NTLMSSP ? options.ntlm === undefined : true) {
        throw new BadMechError(`the SPNEGO initiator cannot offer ${describeMech(m)}: ${isKerberosMech(m) ? 'no krb5 options' : m === MechOid.NTLMSSP ? 'no ntlm options' : 'only Kerberos and NTLM are implemented'}`);
      }
    }
    this.#mechTypesDer = encodeMechTypes(this.#mechTypes);
    this.#mechOid = this.#mechTypes[0]!;
    this.#target = options.target;
    this.#emit = createEmitter(options.events ?? nullSink(), options.clock ?? options.krb5?.clock ?? options.ntlm?.clock ?? systemClock());
  }

  get complete(): boolean {
    return this.#state === 'complete';
  }

  /** The mechanism's context (Kerberos or NTLM), once the negotiation is complete. */
  get context(): MechContext {
    if (this.#state !== 'complete') throw new NoContextError('the SPNEGO negotiation is not complete');
    return this.#mech!.context;
  }

  /** The mechanism in use: the first offered until the acceptor chose (supportedMech). */
  get negotiatedMech(): string {
    return this.#mechOid;
  }

  /** GSS_Init_sec_context for SPNEGO: no input the first time, then each token from the acceptor. */
  initSecContext(input?: Uint8Array): StepResult {
    if (this.#state === 'failed') throw this.#error!;
    if (this.#state === 'complete') throw new DefectiveTokenError('the SPNEGO negotiation is already complete');
    try {
      if (this.#state === 'start') return this.#start(input);
      if (input === undefined) throw new DefectiveTokenError('the acceptor\'s SPNEGO token is required to continue');
      const r = this.#continue(input);
      this.#state = r.complete ? 'complete' : 'negotiating';
      return r;
    } catch (err) {
      this.#state = 'failed';
      if (err instanceof GssError) this.#error = err;
      throw err;
    }
  }

  #newMech(oid: string): InitiatorMech {
    if (oid === MechOid.NTLMSSP) return new NtlmInitiator(this.#o.ntlm!);
    return new Krb5Initiator(this.#o.krb5!);
  }

  #start(input: Uint8Array | undefined): StepResult {
    if (input !== undefined && input.length > 0) throw new DefectiveTokenError('the first call to initSecContext takes no input token');
    this.#mech = this.#newMech(this.#mechOid);
    const r = this.#mech.initSecContext();
    let mechListMIC: Uint8Array | undefined;
    if (r.complete && this.#o.sendMic === 'always') {
      mechListMIC = this.#micOut();
      this.#mic.required = true;
    }
    this.#state = 'first-reply';
    return {
      output: encodeNegTokenInit(this.#mechTypesDer, { ...(r.output === undefined ? {} : { mechToken: r.output }), ...(mechListMIC === undefined ? {} : { mechListMIC }) }),
      complete: false,
    };
  }

  #micOut(): Uint8Array {
    const context = this.#mech!.context;
    const mic = context.getMic(this.#mechTypesDer);
    if (context instanceof NtlmContext) context.resetCryptoAfterMechListMic('outbound');
    this.#mic.sent = true;
    return mic;
  }

  #continue(input: Uint8Array): StepResult {
    const token = decodeSpnegoToken(input);
    if (token.type !== 'resp') throw new DefectiveTokenError('expected a NegTokenResp from the acceptor');
    const resp = token.value;
    const first = this.#state === 'first-reply';
    if (resp.negState === NegState.REJECT) throw this.#rejected(resp);
    let fresh = false;
    if (first) {
      const mech = resp.supportedMech ?? this.#mechTypes[0]!;
      const index = this.#mechTypes.indexOf(mech);
      if (index < 0) {
        const err = mech === MechOid.NTLMSSP
          ? new NtlmNotEnabledError('the acceptor wants NTLM instead of Kerberos; NTLM was not offered (no fallback from Kerberos)')
          : new BadMechError(`the acceptor selected ${describeMech(mech)}, which was not offered`);
        emitDowngradeRefused(this.#emit, 'initiator', this.#peer(), err, this.#mechTypes);
        throw err;
      }
      if (resp.negState === NegState.REQUEST_MIC) this.#mic.required = true;
      if (index !== 0) {
        // §5: a mechanism other than our first choice; the optimistic token is discarded and the MIC exchange is due.
        this.#mic.required = true;
        if (isKerberosMech(mech) && isKerberosMech(this.#mechOid)) {
          this.#mechOid = mech; // both Kerberos OIDs: the same mechanism, keep its context
        } else {
          this.#mechOid = mech;
          this.#mech = this.#newMech(mech);
          fresh = true;
        }
      }
    } else if (resp.supportedMech !== undefined) {
      throw new DefectiveTokenError('supportedMech may appear only in the acceptor\'s first reply');
    } else if (resp.negState === NegState.REQUEST_MIC) {
      throw new DefectiveTokenError('request-mic may appear only in the acceptor\'s first reply (RFC 4178 §4.2.2)');
    }
    const mech = this.#mech!;
    const name = describeMech(this.#mechOid);
    let mechOut: Uint8Array | undefined;
    if (fresh) {
      mechOut = mech.initSecContext().output;
    } else if (!mech.complete) {
      if (resp.responseToken === undefined) {
        throw new DefectiveTokenError(`the acceptor's ${negStateName(resp.negState ?? NegState.ACCEPT_INCOMPLETE)} reply has no ${name} token`);
      }
      let r: StepResult;
      try {
        r = mech.initSecContext(resp.responseToken);
      } catch (err) {
        if (isKerberosMech(this.#mechOid)) emitDowngradeRefused(this.#emit, 'initiator', this.#peer(), err, this.#mechTypes);
        throw err;
      }
      mechOut = r.output;
      // MS-SPNG §3.1.5.1: our NTLM AUTHENTICATE always carries a MIC, so the mechListMIC is due.
      if (this.#mechOid === MechOid.NTLMSSP) this.#mic.required = true;
    } else if (resp.responseToken !== undefined && resp.responseToken.length > 0) {
      // (An empty token is what old IIS sends in the non-mutual case; MIT accepts it.)
      throw new DefectiveTokenError(`the acceptor sent a ${name} token after the ${name} context was complete`);
    }
    if (!mech.complete) {
      return {
        output: encodeNegTokenResp({ negState: NegState.ACCEPT_INCOMPLETE, ...(mechOut === undefined ? {} : { responseToken: mechOut }) }),
        complete: false,
      };
    }
    const context = mech.context;
    const { micOut, done } = handleMic(this.#mic, context, this.#mechTypesDer, resp.mechListMIC, mechOut === undefined);
    if (!done || micOut !== undefined || mechOut !== undefined) {
      return {
        output: encodeNegTokenResp({
          negState: done ? NegState.ACCEPT_COMPLETED : NegState.ACCEPT_INCOMPLETE,
          ...(mechOut === undefined ? {} : { responseToken: mechOut }),
          ...(micOut === undefined ? {} : { mechListMIC: micOut }),
        }),
        complete: done,
      };
    }
    if (resp.negState !== undefined && resp.negState !== NegState.ACCEPT_COMPLETED) {
      throw new DefectiveTokenError(`the acceptor says ${negStateName(resp.negState)} although ${name} is complete and no MIC is due`);
    }
    return { complete: true };
  }

  #rejected(resp: NegTokenResp): GssError {
    let err: GssError = new GssFailureError(`${this.#peer() ?? 'the acceptor'} rejected the SPNEGO negotiation`);
    if (resp.responseToken !== undefined) {
      try {
        const t = decodeKrb5Token(resp.responseToken);
        if (t.tokenId === Krb5TokenId.KRB_ERROR) err = rejected(t.message, this.#peer() ?? 'the acceptor');
      } catch {
        // not a Kerberos token: keep the generic error
      }
    }
    emitDowngradeRefused(this.#emit, 'initiator', this.#peer(), err, this.#mechTypes);
    return err;
  }

  #peer(): string | undefined {
    if (this.#target !== undefined) return this.#target;
    if (this.#o.krb5 !== undefined) return principalToString(this.#o.krb5.credential.server);
    return this.#o.ntlm?.targetName;
  }
}
