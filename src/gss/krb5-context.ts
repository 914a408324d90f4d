/**
 * An established Kerberos V5 GSS-API security context (RFC 4121): the
 * agreed keys, sequence numbers and flags, and the per-message calls
 * GSS_GetMIC, GSS_VerifyMIC, GSS_Wrap and GSS_Unwrap over the CFX tokens of
 * cfx.ts. The context lives until the ticket's end time; after it, every
 * per-message call fails with GSS_S_CONTEXT_EXPIRED (as MIT's does).
 */

import type { Clock } from '../core/clock.js';
import type { RandomSource } from '../core/random.js';
import type { Key } from '../crypto/index.js';
import { principalToString, type Credential, type Principal } from '../files/index.js';
import type { AuthorizationData } from '../messages/index.js';
import { makeMicToken, makeWrapToken, unwrapToken, verifyMicToken, type CfxReceiver, type CfxSender, type WrapOptions } from './cfx.js';
import { ContextExpiredError, DuplicateTokenError, OldTokenError } from './errors.js';
import { GssFlags } from './oids.js';
import { SequenceWindow } from './sequence-window.js';

/** Non-fatal sequence information about a verified token (RFC 2743 §1.2.3 supplementary status). */
export type SequenceStatus = 'ok' | 'gap' | 'unseq';

export interface VerifyResult {
  readonly status: SequenceStatus;
}

export interface UnwrapMessage {
  readonly message: Uint8Array;
  /** The token was encrypted. */
  readonly conf: boolean;
  readonly status: SequenceStatus;
}

/** @internal What the initiator and acceptor state machines hand over once established. */
export interface Krb5ContextParams {
  readonly role: 'initiator' | 'acceptor';
  readonly mechOid: string;
  readonly initiatorName: Principal;
  readonly acceptorName: Principal;
  readonly flags: number;
  readonly expiresAt: Date;
  readonly authtime?: Date;
  readonly ticketFlags: number;
  readonly sessionKey: Key;
  readonly initiatorSubkey?: Key;
  readonly acceptorSubkey?: Key;
  readonly sendSeq: number;
  readonly recvSeq: number;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly delegatedCredential?: Credential;
  readonly authorizationData?: AuthorizationData;
}

export class Krb5Context {
  readonly role: 'initiator' | 'acceptor';
  /** The OID the peer used (Kerberos or Microsoft's alias). */
  readonly mechOid: string;
  /** The client principal (the authenticated user on the acceptor side). */
  readonly initiatorName: Principal;
  /** The service principal the ticket was issued for. */
  readonly acceptorName: Principal;
  /** GssFlags mask of the services in effect. */
  readonly flags: number;
  /** Ticket end time: the context's lifetime. */
  readonly expiresAt: Date;
  readonly authtime: Date | undefined;
  /** TicketFlags mask of the ticket (acceptor: from the decrypted ticket; initiator: from the credential). */
  readonly ticketFlags: number;
  /** A forwarded TGT the initiator delegated (acceptor side), as a ccache credential. */
  readonly delegatedCredential: Credential | undefined;
  /** The ticket's authorization data (PAC etc.), acceptor side. */
  readonly authorizationData: AuthorizationData | undefined;

  readonly #clock: Clock;
  readonly #sender: CfxSender;
  readonly #receiver: CfxReceiver;
  readonly #window: SequenceWindow;
  #sendSeq: bigint;

  /** @internal Created by the initiator and acceptor state machines. */
  constructor(p: Krb5ContextParams) {
    this.role = p.role;
    this.mechOid = p.mechOid;
    this.initiatorName = p.initiatorName;
    this.acceptorName = p.acceptorName;
    this.flags = p.flags;
    this.expiresAt = p.expiresAt;
    this.authtime = p.authtime;
    this.ticketFlags = p.ticketFlags;
    this.delegatedCredential = p.delegatedCredential;
    this.authorizationData = p.authorizationData;
    this.#clock = p.clock;
    const base = p.initiatorSubkey ?? p.sessionKey;
    const isAcceptor = p.role === 'acceptor';
    this.#sender = {
      key: p.acceptorSubkey ?? base,
      sentByAcceptor: isAcceptor,
      acceptorSubkey: p.acceptorSubkey !== undefined,
      random: p.random,
    };
    this.#receiver = {
      key: base,
      ...(p.acceptorSubkey === undefined ? {} : { acceptorSubkey: p.acceptorSubkey }),
      expectSentByAcceptor: !isAcceptor,
    };
    this.#window = new SequenceWindow(p.recvSeq, {
      replay: (p.flags & GssFlags.REPLAY) !== 0,
      sequence: (p.flags & GssFlags.SEQUENCE) !== 0,
    });
    this.#sendSeq = BigInt(p.sendSeq >>> 0);
  }

  /** 'alice@EXAMPLE.TEST' */
  get initiator(): string {
    return principalToString(this.initiatorName);
  }

  get acceptor(): string {
    return principalToString(this.acceptorName);
  }

  /** Milliseconds until the context expires (0 when it has). */
  lifetimeMs(): number {
    return Math.max(0, this.expiresAt.getTime() - this.#clock.now());
  }

  /** GSS_GetMIC. */
  getMic(message: Uint8Array): Uint8Array {
    this.#checkExpiry();
    return makeMicToken(this.#sender, this.#nextSeq(), message);
  }

  /** GSS_VerifyMIC: throws BadMicError, DuplicateTokenError, OldTokenError; returns gap/out-of-order information. */
  verifyMic(message: Uint8Array, token: Uint8Array): VerifyResult {
    this.#checkExpiry();
    return { status: this.#order(verifyMicToken(this.#receiver, message, token)) };
  }

  /** GSS_Wrap: encrypts unless `{ conf: false }`. */
  wrap(message: Uint8Array, options: WrapOptions = {}): Uint8Array {
    this.#checkExpiry();
    return makeWrapToken(this.#sender, this.#nextSeq(), message, options);
  }

  /** GSS_Unwrap. */
  unwrap(token: Uint8Array): UnwrapMessage {
    this.#checkExpiry();
    const r = unwrapToken(this.#receiver, token);
    return { message: r.message, conf: r.conf, status: this.#order(r.seq) };
  }

  #nextSeq(): bigint {
    const seq = this.#sendSeq;
    this.#sendSeq = (seq + 1n) & 0xffffffffffffffffn;
    return seq;
  }

  #order(seq: bigint): SequenceStatus {
    const verdict = this.#window.check(seq);
    if (verdict === 'duplicate') {
      throw new DuplicateTokenError(`a per-message token with sequence number ${seq} was already received (replayed token)`, {
        detail: { seq: seq.toString() },
      });
    }
    if (verdict === 'old') {
      throw new OldTokenError(`a per-message token with sequence number ${seq} is too old to be checked for replay`, {
        detail: { seq: seq.toString() },
      });
    }
    return verdict;
  }

  #checkExpiry(): void {
    if (this.#clock.now() > this.expiresAt.getTime()) {
      throw new ContextExpiredError(`the security context between ${this.initiator} and ${this.acceptor} expired at ${this.expiresAt.toISOString()} (the ticket's end time)`, {
        hint: 'establish a new context with a fresh service ticket',
      });
    }
  }
}
