/**
 * The KDC request processor (RFC 4120 §3.1, §3.3, §7.2; MIT dispatch.c,
 * Heimdal process.c): bytes in, bytes (or silence) out. It answers
 * retransmits from the lookaside cache, dispatches AS-REQ and TGS-REQ, turns
 * every refusal into a KRB-ERROR, and emits one 'kdc.request' event per
 * request. Anything that is not a KDC request gets no answer, so two KDCs
 * can never bounce errors at each other; neither does a request that does not
 * decode (MIT dispatch.c), so a forged datagram cannot make the KDC amplify it.
 * Nothing a peer sends can make it throw.
 */

import { systemClock, type Clock } from '../core/clock.js';
import { systemRandom, type RandomSource } from '../core/random.js';
import { enctypeName } from '../crypto/index.js';
import { createEmitter, nullSink, type Emitter, type EventSink } from '../events/index.js';
import {
  ErrorCode, KrbError, decodeMessage, errorCodeName, type PrincipalName,
} from '../messages/index.js';
import { ReplayCacheFullError, StoreError } from '../store/index.js';
import type { LockoutStore } from '../store/index.js';
import { handleAsReq } from './as-req.js';
import { resolveRealmPolicy, type RealmPolicy, type RealmPolicyInput } from './config.js';
import { KdcRequestError } from './errors.js';
import { tgsName, type ExchangeContext, type PrincipalLookup, type RequestLog } from './exchange.js';
import type { KeyProtector } from './keys.js';
import { LockoutGate } from './lockout.js';
import { LookasideCache, type LookasideStats } from './lookaside.js';
import { kerberosTime } from './policy.js';
import { DEFAULT_PREAUTH, type PreauthRegistry } from './preauth.js';
import { MemoryReplayCache, type ReplayCache } from '../store/index.js';
import { handleTgsReq } from './tgs-req.js';
import type { KdcPeer, KdcRequestHandler } from './transport.js';

export interface KdcConfig {
  readonly realm: string;
  /** Where principals are read: a PrincipalStore or (better, on a busy KDC) its PrincipalCache. */
  readonly store: PrincipalLookup;
  /** Failure counting and lockout; without it there is no lockout. */
  readonly lockout?: LockoutStore;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly events?: EventSink;
  readonly policy?: RealmPolicyInput;
  /** How stored key bytes become keys: masterKeyProtector, or plainKeysForTests() for in-memory test realms. */
  readonly keys: KeyProtector;
  /** Pre-authentication mechanisms (default: PA-ETYPE-INFO2 hints and PA-ENC-TIMESTAMP). */
  readonly preauth?: PreauthRegistry;
  /** TGS authenticator replay cache (default: in memory, per process). */
  readonly replayCache?: ReplayCache;
  /** Write the last successful AS exchange of every principal to the lockout store (default: only to clear failures). */
  readonly recordLastSuccess?: boolean;
}

export interface Kdc extends KdcRequestHandler {
  readonly realm: string;
  readonly policy: RealmPolicy;
  lookasideStats(): LookasideStats;
  /** Resolves once pending lockout writes are done (for shutdown and tests). */
  settled(): Promise<void>;
}

const AS_REQ_TAG = 0x6a;
const TGS_REQ_TAG = 0x6c;

export function createKdc(config: KdcConfig): Kdc {
  const realm = config.realm;
  const clock = config.clock ?? systemClock();
  const random = config.random ?? systemRandom();
  const policy = resolveRealmPolicy(config.policy);
  const emitter = createEmitter(config.events ?? nullSink(), clock);
  const lookaside = new LookasideCache(clock, policy.lookaside);
  const replay = config.replayCache ?? new MemoryReplayCache({ clockSkewSeconds: policy.clockSkew, maxEntries: policy.replayCacheEntries });
  const lockout = config.lockout === undefined ? undefined : new LockoutGate(config.lockout, policy.lockout, {
    locked: (principal, scope, source, state) => emitter.emit('kdc.lockout',
      scope === 'source'
        ? `${principal} locked out for requests from ${source ?? '?'} after ${state.failures} pre-authentication failures from there`
        : `${principal} locked out for every address after ${state.failures} pre-authentication failures${source === undefined ? '' : ` (the last from ${source})`}`, {
        principal, scope, address: source ?? null, failures: state.failures,
        lockedUntil: state.lockedUntil === undefined || state.lockedUntil === Infinity ? null : state.lockedUntil,
      }),
    storeFailed: (principal, err) => emitter.emit('kdc.request', `lockout store write for ${principal} failed: ${err instanceof Error ? err.message : String(err)}`, { principal, result: 'lockout_store_error' }, 'error'),
  }, { ...(config.recordLastSuccess === undefined ? {} : { recordLastSuccess: config.recordLastSuccess }) });
  /** Replies to failures on our side (database down, bugs): a retransmit should be processed again. */
  const transient = new WeakSet<Uint8Array>();
  const base = {
    realm, policy, random, principals: config.store, keys: config.keys, preauth: config.preauth ?? DEFAULT_PREAUTH, lockout, replay,
  };

  /** A KRB-ERROR outside an exchange (transport limits). */
  function errorNow(code: number, eText: string): Uint8Array {
    const nowMs = clock.now();
    return krbError(realm, kerberosTime(nowMs), (nowMs % 1000) * 1000, code, { eText });
  }

  async function handle(request: Uint8Array, peer: KdcPeer): Promise<Uint8Array | undefined> {
    const nowMs = clock.now();
    const ctx: ExchangeContext = { ...base, now: kerberosTime(nowMs), usec: (nowMs % 1000) * 1000, log: {}, peer, rawRequest: request };
    let names: { cname?: PrincipalName; sname?: PrincipalName } = {};
    try {
      let message: ReturnType<typeof decodeMessage>;
      try {
        message = decodeMessage(request);
      } catch (err) {
        if (request[0] !== AS_REQ_TAG && request[0] !== TGS_REQ_TAG) return silence(emitter, peer, 'not a Kerberos message');
        // No answer, as MIT's dispatch: an error to a forged source address would
        // make the KDC an amplifier (docs/kdc-transport.md); over TCP the connection closes.
        const what = request[0] === AS_REQ_TAG ? 'AS-REQ' : 'TGS-REQ';
        return silence(emitter, peer, `malformed ${what}: ${err instanceof Error ? err.message : String(err)}`, 'warning');
      }
      if (message.type === 'AS-REQ') {
        names = { ...(message.value.reqBody.cname === undefined ? {} : { cname: message.value.reqBody.cname }), ...sname(message.value.reqBody.sname) };
        const reply = await handleAsReq(ctx, message.value);
        report(emitter, ctx.log, peer, undefined);
        return reply;
      }
      if (message.type === 'TGS-REQ') {
        names = sname(message.value.reqBody.sname);
        const reply = await handleTgsReq(ctx, message.value);
        report(emitter, ctx.log, peer, undefined);
        return reply;
      }
      return silence(emitter, peer, `a ${message.type} is not a KDC request`);
    } catch (err) {
      const internal = !(err instanceof KdcRequestError);
      const refusal = internal ? internalError(err) : err;
      report(emitter, ctx.log, peer, refusal, internal ? 'error' : undefined);
      const eData = refusal.eData === undefined ? {} : { eData: refusal.eData };
      let reply: Uint8Array;
      try {
        reply = krbError(realm, ctx.now, ctx.usec, refusal.errorCode, { eText: refusal.message, ...eData, ...names });
      } catch {
        // A name from the request that cannot be re-encoded: answer without it.
        reply = krbError(realm, ctx.now, ctx.usec, refusal.errorCode, eData);
      }
      if (internal) transient.add(reply);
      return reply;
    }
  }

  return {
    realm,
    policy,
    async process(request, peer) {
      try {
        const { reply, hit } = await lookaside.lookup(request, () => handle(request, peer));
        if (reply !== undefined && transient.has(reply)) lookaside.forget(request);
        if (hit) {
          emitter.emit('kdc.request', `retransmitted request answered from the lookaside cache`, {
            result: 'lookaside', address: peer.address, transport: peer.transport,
          }, 'debug');
        }
        if (reply !== undefined && peer.transport === 'udp' && reply.length > policy.maxUdpReply) {
          return errorNow(ErrorCode.KRB_ERR_RESPONSE_TOO_BIG, `reply of ${reply.length} bytes is too big for UDP; retry over TCP`);
        }
        return reply;
      } catch {
        return undefined; // unreachable in practice: handle() turns every failure into a KRB-ERROR
      }
    },
    oversizedRequest(length, peer) {
      emitter.emit('kdc.request', `TCP request of ${length} bytes refused: larger than the transport accepts`, {
        result: errorCodeName(ErrorCode.KRB_ERR_FIELD_TOOLONG), address: peer.address, transport: peer.transport,
      }, 'warning');
      return errorNow(ErrorCode.KRB_ERR_FIELD_TOOLONG, `request of ${length} bytes is larger than this KDC accepts`);
    },
    transportLimit(kind, peer, detail) {
      // Warnings, so the log shows a flood; each names its cause and source for rate limiting.
      emitter.emit('kdc.request', `${peer.transport.toUpperCase()} limit ${kind} from ${peer.address}: ${detail}`, {
        result: 'dropped', reason: kind, detail, address: peer.address, transport: peer.transport,
      }, 'warning');
    },
    lookasideStats: () => lookaside.stats(),
    settled: async () => { await lockout?.settled(); },
  };
}

/** A failure that is not the client's: the database is unreachable (MIT: KDC_ERR_SVC_UNAVAILABLE) or a bug. */
function internalError(err: unknown): KdcRequestError {
  const detail = err instanceof Error ? err.message : String(err);
  if (err instanceof StoreError) {
    // A full replay cache refuses rather than evicting (store/replay-cache.ts): 29 makes MIT clients try another KDC.
    const what = err instanceof ReplayCacheFullError ? 'replay cache full' : 'principal database failure';
    return new KdcRequestError(ErrorCode.KDC_ERR_SVC_UNAVAILABLE, 'A service is not available that is required to process the request', {
      reason: `${what}: ${detail}`, cause: err,
    });
  }
  return new KdcRequestError(ErrorCode.KRB_ERR_GENERIC, 'internal KDC error', { reason: `internal error: ${detail}`, cause: err });
}

function sname(name: PrincipalName | undefined): { sname?: PrincipalName } {
  return name === undefined ? {} : { sname: name };
}

/** RFC 4120 §5.9.1: the KRB-ERROR for a refused request; stime/susec tell the client the KDC's time. */
function krbError(
  realm: string, now: number, usec: number, errorCode: number,
  extra: { eText?: string; eData?: Uint8Array; cname?: PrincipalName; sname?: PrincipalName },
): Uint8Array {
  return KrbError.encode({
    pvno: 5, msgType: 30, stime: new Date(now), susec: usec, errorCode,
    ...(extra.cname === undefined ? {} : { crealm: realm, cname: extra.cname }),
    realm, sname: extra.sname ?? tgsName(realm),
    ...(extra.eText === undefined ? {} : { eText: extra.eText }),
    ...(extra.eData === undefined ? {} : { eData: extra.eData }),
  });
}

function silence(emitter: Emitter, peer: KdcPeer, reason: string, severity: 'debug' | 'warning' = 'debug'): undefined {
  emitter.emit('kdc.request', `request dropped: ${reason}`, { result: 'dropped', reason, address: peer.address, transport: peer.transport }, severity);
  return undefined;
}

function nameOfEnctype(enctype: number | undefined): string | undefined {
  if (enctype === undefined) return undefined;
  try {
    return enctypeName(enctype);
  } catch {
    return String(enctype);
  }
}

/** One 'kdc.request' event (plus 'kdc.preauth_failed' for a wrong password). Never secrets. */
function report(emitter: Emitter, log: RequestLog, peer: KdcPeer, refusal: KdcRequestError | undefined, severity?: 'error'): void {
  const exchange = log.exchange ?? 'KDC';
  const who = `${log.client ?? '(unknown client)'} → ${log.service ?? '(unknown service)'}`;
  const result = refusal === undefined ? 'issued' : errorCodeName(refusal.errorCode);
  const fields = {
    exchange, client: log.client, service: log.service, result,
    errorCode: refusal?.errorCode, reason: refusal?.reason,
    sessionEnctype: nameOfEnctype(log.sessionEnctype), ticketEnctype: nameOfEnctype(log.ticketEnctype),
    replyEnctype: nameOfEnctype(log.replyEnctype), preauth: log.preauth, options: log.options,
    droppedAuthorizationData: log.droppedAuthorizationData?.map(String),
    address: peer.address, port: peer.port, transport: peer.transport,
  };
  const message = refusal === undefined
    ? `${exchange} ${who}: issued (${fields.sessionEnctype ?? '?'})`
    : `${exchange} ${who}: ${result}: ${refusal.reason}`;
  const routine = refusal === undefined || refusal.errorCode === ErrorCode.KDC_ERR_PREAUTH_REQUIRED;
  emitter.emit('kdc.request', message, fields, severity ?? (routine ? 'info' : 'warning'));
  if (refusal?.errorCode === ErrorCode.KDC_ERR_PREAUTH_FAILED) {
    emitter.emit('kdc.preauth_failed', `pre-authentication failed for ${log.client ?? '(unknown)'} from ${peer.address}`, {
      client: log.client, reason: refusal.reason, address: peer.address,
    });
  }
}
