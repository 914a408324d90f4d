/**
 * The acceptor side of HTTP Negotiate (RFC 4559 §4): a SPNEGO (RFC 4178)
 * negotiation carrying the Kerberos V5 mechanism (RFC 4121), or a bare
 * Kerberos token as some older clients send it.
 *
 * The HTTP layer talks to a small `NegotiateAcceptor` interface; the
 * implementation here drives gss/'s SpnegoAcceptor over its Krb5Acceptor.
 * Multi-leg state (a NegTokenInit without an optimistic Kerberos token, a
 * pending mechListMIC) lives in a bounded table keyed by the connection, and
 * is dropped when the connection closes (docs/lessons.md "Connections").
 *
 * Keys are never held here: every AP-REQ asks the key source (a watched
 * keytab) for its current keys (docs/lessons.md "Never cache acceptor keys").
 */

import { systemClock, type Clock } from '../core/clock.js';
import { systemRandom, type RandomSource } from '../core/random.js';
import type { EventSink } from '../events/index.js';
import { principalToString, type Credential } from '../files/index.js';
import { MemoryReplayCache } from '../store/index.js';
import {
  DefectiveTokenError, Krb5Acceptor, Krb5Context, looksFramed, NtlmNotEnabledError, PendingContexts, SpnegoAcceptor,
  type AcceptorKeySource, type AcceptorReplayCache, type ChannelBindingPolicy, type ChannelBindings, type SpnegoAcceptorContext,
} from '../gss/index.js';

/** Who authenticated, as the HTTP layer hands it to the application (`req.auth`). */
export interface NegotiateIdentity {
  /** 'alice@EXAMPLE.TEST'. */
  readonly principal: string;
  readonly realm: string;
  /** 'spnego/kerberos', or 'kerberos' for a bare Kerberos token. */
  readonly mechanism: string;
  /** GSS-API context flags (RFC 2744 §3.9). */
  readonly flags: number;
  /** The ticket's end time: the identity is not valid after it. */
  readonly ticketEndTime: Date;
  /** The service principal the ticket was for. */
  readonly service: string;
  /** A TGT the client delegated (forwarded), if any. */
  readonly delegated?: Credential;
}

export interface AcceptStep {
  /** Token for the client (the SPNEGO reply, with the AP-REP), if any. */
  readonly outputToken?: Uint8Array;
  readonly complete: boolean;
  /** Set when complete. */
  readonly identity?: NegotiateIdentity;
}

export interface AcceptStepOptions {
  /** Identity of the connection (the socket): multi-leg state is bound to it. */
  readonly connectionId: object;
  readonly channelBindings?: ChannelBindings;
}

export interface AcceptorStats {
  /** Handshakes waiting for another leg. */
  readonly pendingContexts: number;
  /** Entries in the authenticator replay cache (when it is the built-in one). */
  readonly replayCacheEntries?: number;
}

/** What the HTTP server needs from an acceptor. */
export interface NegotiateAcceptor {
  accept(token: Uint8Array, options: AcceptStepOptions): Promise<AcceptStep>;
  /** Drops the connection's pending state. */
  connectionClosed(connectionId: object): void;
  stats(): AcceptorStats;
}

export interface KerberosAcceptorOptions {
  /** The service keys: a watched keytab (gss keytabKeys) — never a copy of its keys. */
  readonly keys: AcceptorKeySource;
  /** Service principal(s) served; default: any principal the keytab holds. */
  readonly principal?: string | readonly string[];
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly events?: EventSink;
  /** Default 5 minutes. */
  readonly clockSkewMs?: number;
  readonly channelBindingPolicy?: ChannelBindingPolicy;
  /**
   * Default: in memory, bounded by 2 × skew and `maxReplayEntries` (refusing, never evicting, when full).
   * openSqliteReplayCache({ path, … }) from kerbside/store keeps it across restarts.
   */
  readonly replayCache?: AcceptorReplayCache;
  /** Default 100 000. */
  readonly maxReplayEntries?: number;
  /** Bounds of the per-connection handshake table (default 10 000 entries, 60 s). */
  readonly maxPendingContexts?: number;
  readonly pendingTtlMs?: number;
}

const NTLMSSP_SIGNATURE = [0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00]; // "NTLMSSP\0"

/** A Negotiate acceptor for Kerberos V5 through SPNEGO (and bare Kerberos tokens). NTLM is not offered. */
export function kerberosAcceptor(options: KerberosAcceptorOptions): NegotiateAcceptor {
  const clock = options.clock ?? systemClock();
  const random = options.random ?? systemRandom();
  const skewMs = options.clockSkewMs ?? 5 * 60_000;
  const builtInReplay = options.replayCache === undefined
    ? new MemoryReplayCache({ clockSkewSeconds: skewMs / 1000, maxEntries: options.maxReplayEntries ?? 100_000 })
    : undefined;
  const krb5 = new Krb5Acceptor({
    keys: options.keys,
    ...(options.principal === undefined ? {} : { principal: options.principal }),
    clock, random,
    ...(options.events === undefined ? {} : { events: options.events }),
    replayCache: options.replayCache ?? builtInReplay!,
    clockSkewMs: skewMs,
    ...(options.channelBindingPolicy === undefined ? {} : { channelBindingPolicy: options.channelBindingPolicy }),
  });
  const ttlMs = options.pendingTtlMs ?? 60_000;
  const spnego = new SpnegoAcceptor({
    krb5, clock, handshakeTimeoutMs: ttlMs, ...(options.events === undefined ? {} : { events: options.events }),
  });
  const pending = new PendingContexts<object, SpnegoAcceptorContext>({ clock, maxEntries: options.maxPendingContexts ?? 10_000, ttlMs });

  return {
    async accept(token, o) {
      if (token.length >= 8 && NTLMSSP_SIGNATURE.every((b, i) => token[i] === b)) {
        pending.delete(o.connectionId);
        throw new NtlmNotEnabledError('the client sent a bare NTLM token, and NTLM is not enabled', {
          hint: 'the client has no Kerberos ticket for this service (no TGT, the KDC is unreachable, or it used an IP address instead of the host name); NTLM fallback is off',
        });
      }
      // An initial token (RFC 2743 framing) starts a new handshake; a NegTokenResp continues the connection's.
      let ctx = pending.take(o.connectionId);
      if (looksFramed(token)) {
        ctx = spnego.newContext(o.channelBindings === undefined ? {} : { channelBindings: o.channelBindings });
      } else if (ctx === undefined) {
        throw new DefectiveTokenError('a SPNEGO continuation token arrived, but no handshake is in progress on this connection (it timed out, or the client switched connections)');
      }
      const step = await ctx.acceptSecContext(token);
      const out = step.output === undefined ? {} : { outputToken: step.output };
      if (!step.complete) {
        pending.set(o.connectionId, ctx);
        return { complete: false, ...out };
      }
      const c = ctx.context;
      // This acceptor passes no NtlmAcceptor to SPNEGO, so the context is Kerberos.
      if (!(c instanceof Krb5Context)) throw new DefectiveTokenError('internal: SPNEGO completed with a mechanism other than Kerberos');
      const identity: NegotiateIdentity = {
        principal: principalToString(c.initiatorName),
        realm: c.initiatorName.realm,
        mechanism: ctx.rawKerberos ? 'kerberos' : 'spnego/kerberos',
        flags: c.flags,
        ticketEndTime: c.expiresAt,
        service: principalToString(c.acceptorName),
        ...(c.delegatedCredential === undefined ? {} : { delegated: c.delegatedCredential }),
      };
      return { complete: true, identity, ...out };
    },
    connectionClosed(connectionId) {
      pending.delete(connectionId);
    },
    stats() {
      return {
        pendingContexts: pending.size,
        ...(builtInReplay === undefined ? {} : { replayCacheEntries: builtInReplay.size }),
      };
    },
  };
}
