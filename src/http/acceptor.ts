/**
 * The acceptor side of HTTP Negotiate (RFC 4559 §4): a SPNEGO (RFC 4178)
 * negotiation carrying the Kerberos V5 mechanism (RFC 4121), or a bare
 * Kerberos token as some older clients send it. With an NtlmAcceptor it also
 * takes NTLM (MS-NLMP): inside SPNEGO, as a raw NTLMSSP token under
 * `Negotiate`, and under `Authorization: NTLM` (IIS's provider list).
 *
 * Downgrade rule (docs/ntlm.md "HTTP"): a connection whose Kerberos attempt
 * failed and that then switches to NTLM is refused with NtlmDowngradeError
 * and a `spnego.downgrade_refused` event, unless `allowNtlmAfterKerberosFailure`
 * (then each such logon emits `spnego.downgrade_allowed`).
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
import { createEmitter, nullSink, type Emitter, type EventSink } from '../events/index.js';
import { principalToString, type Credential } from '../files/index.js';
import { MemoryReplayCache } from '../store/index.js';
import {
  decodeSpnegoToken, DefectiveTokenError, emitDowngradeRefused, GssError, isKerberosMech, isNtlmToken, Krb5Acceptor, looksFramed, MechOid,
  NtlmContext, NtlmMessageType, ntlmMessageType, NtlmNotEnabledError, PendingContexts, SpnegoAcceptor,
  type AcceptorKeySource, type AcceptorReplayCache, type ChannelBindingPolicy, type ChannelBindings, type NtlmAcceptor,
  type NtlmAcceptorContext, type SpnegoAcceptorContext,
} from '../gss/index.js';
import { NtlmDowngradeError } from './errors.js';
import { serviceDefaultRealm } from './service-realm.js';

/** Who authenticated, as the HTTP layer hands it to the application (`req.auth`). */
export interface NegotiateIdentity {
  /** 'alice@EXAMPLE.TEST'. */
  readonly principal: string;
  readonly realm: string;
  /** 'spnego/kerberos', 'spnego/ntlm', 'kerberos' for a bare Kerberos token, 'ntlm' for raw NTLMSSP. */
  readonly mechanism: string;
  /** The authentication package, whatever the framing: 'kerberos' or 'ntlm' (Windows' "Authentication Package"). */
  readonly package: 'kerberos' | 'ntlm';
  /** NTLM logons: the names as the client sent them (the principal is what the validator mapped them to). */
  readonly ntlm?: { readonly user: string; readonly domain: string; readonly workstation: string };
  /** GSS-API context flags (RFC 2744 §3.9). */
  readonly flags: number;
  /** The ticket's end time: the identity is not valid after it (NTLM: the logon time plus `ntlmLogonLifetimeMs`). */
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
  /** The HTTP scheme the token came under (default 'negotiate'); 'ntlm' for `Authorization: NTLM` (raw NTLMSSP only). */
  readonly scheme?: 'negotiate' | 'ntlm';
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
  /**
   * Service principal(s) served; default: any principal the keytab holds. A name without a realm
   * ('HTTP/web.example.test') takes krb5.conf's default_realm, else the keytab's only realm for it.
   */
  readonly principal?: string | readonly string[];
  /** The realm for `principal` names without one; default krb5.conf's default_realm (see `krb5Config`). */
  readonly defaultRealm?: string;
  /** krb5.conf path(s) for the default realm; default KRB5_CONFIG, else /etc/krb5.conf. */
  readonly krb5Config?: string | readonly string[];
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
  /** NTLM beside Kerberos (off when absent): raw, under Negotiate, and inside SPNEGO. */
  readonly ntlm?: NtlmAcceptor;
  /** Accept NTLM on a connection whose Kerberos attempt failed (legacy sites; each one logged as a warning). Default false. */
  readonly allowNtlmAfterKerberosFailure?: boolean;
  /** How long an NTLM identity counts as valid (its `ticketEndTime`, for session cookies). Default 10 hours. */
  readonly ntlmLogonLifetimeMs?: number;
}

/** A handshake in progress on a connection. */
type Pending =
  | { readonly kind: 'spnego'; readonly ctx: SpnegoAcceptorContext }
  | { readonly kind: 'ntlm'; readonly ctx: NtlmAcceptorContext; readonly scheme: 'negotiate' | 'ntlm' };

/** A Negotiate acceptor for Kerberos V5 through SPNEGO (and bare Kerberos tokens), and NTLM when `ntlm` is given. */
export function kerberosAcceptor(options: KerberosAcceptorOptions): NegotiateAcceptor {
  const clock = options.clock ?? systemClock();
  const random = options.random ?? systemRandom();
  const skewMs = options.clockSkewMs ?? 5 * 60_000;
  const builtInReplay = options.replayCache === undefined
    ? new MemoryReplayCache({ clockSkewSeconds: skewMs / 1000, maxEntries: options.maxReplayEntries ?? 100_000 })
    : undefined;
  const krb5 = new Krb5Acceptor({
    keys: options.keys,
    ...(options.principal === undefined ? {} : {
      principal: options.principal,
      defaultRealm: serviceDefaultRealm({
        ...(options.defaultRealm === undefined ? {} : { defaultRealm: options.defaultRealm }),
        ...(options.krb5Config === undefined ? {} : { krb5Config: options.krb5Config }),
      }),
    }),
    clock, random,
    ...(options.events === undefined ? {} : { events: options.events }),
    replayCache: options.replayCache ?? builtInReplay!,
    clockSkewMs: skewMs,
    ...(options.channelBindingPolicy === undefined ? {} : { channelBindingPolicy: options.channelBindingPolicy }),
  });
  const ttlMs = options.pendingTtlMs ?? 60_000;
  const ntlm = options.ntlm;
  const spnego = new SpnegoAcceptor({
    krb5, clock, handshakeTimeoutMs: ttlMs, ...(options.events === undefined ? {} : { events: options.events }),
    ...(ntlm === undefined ? {} : { ntlm }),
  });
  const emit: Emitter = createEmitter(options.events ?? nullSink(), clock);
  const pending = new PendingContexts<object, Pending>({ clock, maxEntries: options.maxPendingContexts ?? 10_000, ttlMs });
  // Connections whose last Kerberos attempt failed (the downgrade rule); weak, so a closed socket leaves nothing behind.
  const kerberosFailed = new WeakMap<object, unknown>();
  const ntlmLifetimeMs = options.ntlmLogonLifetimeMs ?? 10 * 60 * 60_000;

  /** The downgrade rule, checked when a connection starts NTLM. */
  function checkDowngrade(connectionId: object, offered: readonly string[]): void {
    if (!kerberosFailed.has(connectionId)) return;
    const failure = kerberosFailed.get(connectionId);
    if (options.allowNtlmAfterKerberosFailure === true) {
      const code = failure instanceof GssError ? failure.krbCode : undefined;
      emit.emit('spnego.downgrade_allowed', `NTLM accepted on a connection whose Kerberos attempt failed (allowNtlmAfterKerberosFailure is set); Kerberos failure: ${failure instanceof Error ? failure.message : String(failure)}`, {
        side: 'acceptor', failureCode: code ?? null, failure: failure instanceof Error ? failure.message : String(failure), offeredMechs: [...offered],
      }, 'warning');
      return;
    }
    emitDowngradeRefused(emit, 'acceptor', undefined, failure, offered);
    throw new NtlmDowngradeError('the client switched to NTLM after its Kerberos attempt on this connection failed: refused as a downgrade', {
      hint: 'fix the Kerberos failure logged just before (the client\'s ticket, the keytab, the clocks); set allowNtlmAfterKerberosFailure only for legacy clients',
      ...(failure instanceof GssError && failure.krbCode !== undefined ? { krbCode: failure.krbCode } : {}),
      detail: { kerberosFailure: failure instanceof Error ? failure.message : String(failure) },
    });
  }

  function ntlmIdentity(c: NtlmContext, mechanism: string): NegotiateIdentity {
    const at = c.initiator.lastIndexOf('@');
    return {
      principal: c.initiator,
      realm: at < 0 ? c.domain.toUpperCase() : c.initiator.slice(at + 1),
      mechanism, package: 'ntlm', flags: 0,
      ticketEndTime: new Date(clock.now() + ntlmLifetimeMs),
      service: c.acceptor ?? ntlm!.service,
      ntlm: { user: c.user, domain: c.domain, workstation: c.workstation },
    };
  }

  async function acceptNtlm(token: Uint8Array, o: AcceptStepOptions, scheme: 'negotiate' | 'ntlm', previous: Pending | undefined): Promise<AcceptStep> {
    if (ntlm === undefined) {
      throw new NtlmNotEnabledError(`the client sent a bare NTLM token${scheme === 'ntlm' ? ' (Authorization: NTLM)' : ''}, and NTLM is not enabled`, {
        hint: 'the client has no Kerberos ticket for this service (no TGT, the KDC is unreachable, or it used an IP address instead of the host name); NTLM fallback is off',
      });
    }
    let ctx: NtlmAcceptorContext;
    if (ntlmMessageType(token) === NtlmMessageType.NEGOTIATE) {
      checkDowngrade(o.connectionId, [MechOid.NTLMSSP]);
      ctx = ntlm.newContext(o.channelBindings === undefined ? {} : { channelBindings: o.channelBindings });
    } else if (previous?.kind === 'ntlm' && previous.scheme === scheme) {
      ctx = previous.ctx;
    } else {
      throw new DefectiveTokenError('an NTLM AUTHENTICATE arrived, but no NTLM handshake is in progress on this connection (it timed out, or the client switched connections)');
    }
    const step = await ctx.acceptSecContext(token);
    const out = step.output === undefined ? {} : { outputToken: step.output };
    if (!step.complete) {
      pending.set(o.connectionId, { kind: 'ntlm', ctx, scheme });
      return { complete: false, ...out };
    }
    return { complete: true, identity: ntlmIdentity(ctx.context, 'ntlm'), ...out };
  }

  async function accept(token: Uint8Array, o: AcceptStepOptions): Promise<AcceptStep> {
    const scheme = o.scheme ?? 'negotiate';
    const previous = pending.take(o.connectionId);
    if (isNtlmToken(token)) return acceptNtlm(token, o, scheme, previous);
    if (scheme === 'ntlm') throw new DefectiveTokenError('an Authorization: NTLM header must carry an NTLMSSP message');
    // An initial token (RFC 2743 framing) starts a new handshake; a NegTokenResp continues the connection's.
    let ctx: SpnegoAcceptorContext;
    if (looksFramed(token)) {
      if (ntlm !== undefined && kerberosFailed.has(o.connectionId)) {
        const mechs = offeredMechs(token);
        // The acceptor selects the first mechanism it supports (MS-SPNG): NTLM when it comes before any Kerberos OID.
        const selected = mechs?.find((m) => isKerberosMech(m) || m === MechOid.NTLMSSP);
        if (mechs !== undefined && selected === MechOid.NTLMSSP) checkDowngrade(o.connectionId, mechs);
      }
      ctx = spnego.newContext(o.channelBindings === undefined ? {} : { channelBindings: o.channelBindings });
    } else if (previous?.kind === 'spnego') {
      ctx = previous.ctx;
    } else {
      throw new DefectiveTokenError('a SPNEGO continuation token arrived, but no handshake is in progress on this connection (it timed out, or the client switched connections)');
    }
    let step;
    try {
      step = await ctx.acceptSecContext(token);
    } catch (err) {
      // Remember a Kerberos failure for the downgrade rule (an NTLM failure inside SPNEGO is not one).
      if (!isNtlmFailure(err)) kerberosFailed.set(o.connectionId, err);
      throw err;
    }
    const out = step.output === undefined ? {} : { outputToken: step.output };
    if (!step.complete) {
      pending.set(o.connectionId, { kind: 'spnego', ctx });
      return { complete: false, ...out };
    }
    const c = ctx.context;
    if (c instanceof NtlmContext) return { complete: true, identity: ntlmIdentity(c, 'spnego/ntlm'), ...out };
    kerberosFailed.delete(o.connectionId);
    const identity: NegotiateIdentity = {
      principal: principalToString(c.initiatorName),
      realm: c.initiatorName.realm,
      mechanism: ctx.rawKerberos ? 'kerberos' : 'spnego/kerberos',
      package: 'kerberos',
      flags: c.flags,
      ticketEndTime: c.expiresAt,
      service: principalToString(c.acceptorName),
      ...(c.delegatedCredential === undefined ? {} : { delegated: c.delegatedCredential }),
    };
    return { complete: true, identity, ...out };
  }

  return {
    accept,
    connectionClosed(connectionId) {
      pending.delete(connectionId);
      kerberosFailed.delete(connectionId);
    },
    stats() {
      return {
        pendingContexts: pending.size,
        ...(builtInReplay === undefined ? {} : { replayCacheEntries: builtInReplay.size }),
      };
    },
  };
}

/** The mechanism list of a NegTokenInit, or undefined when the token is not one (a bare Kerberos token, garbage). */
function offeredMechs(token: Uint8Array): readonly string[] | undefined {
  try {
    const t = decodeSpnegoToken(token);
    return t.type === 'init' ? t.value.mechTypes : undefined;
  } catch {
    return undefined;
  }
}

/** An NTLM refusal (its errors' codes start with ERR_NTLM), as opposed to a Kerberos one. */
function isNtlmFailure(err: unknown): boolean {
  return err instanceof GssError && err.code.startsWith('ERR_NTLM');
}
