/**
 * Account lockout around the LockoutStore (MIT kdb_lockout.c semantics for
 * maxfailure, failurecountinterval and lockoutduration; the klmdb model of a
 * separate store). What kerbside adds is described in docs/lockout.md:
 *
 *  - Failures are counted per (principal, source) and per principal. A source
 *    is an IPv4 address or an IPv6 /64. A source that reaches `maxFailures`
 *    is locked for that principal only; the principal is locked everywhere
 *    at `maxFailuresAllSources`, counting only failures from sources that
 *    were not locked, so one address cannot lock a user out everywhere.
 *    Once the principal is locked, every failure counts for it.
 *  - A lock is not visible without the password: the AS exchange still
 *    answers PREAUTH_REQUIRED and PREAUTH_FAILED as usual, and only a correct
 *    pre-authentication gets KDC_ERR_CLIENT_REVOKED. So that this is no
 *    password oracle, a locked source or principal checks at most
 *    `maxFailures` more guesses (in all); past that every pre-authenticated
 *    request is refused with CLIENT_REVOKED without being checked.
 *
 * The writes are not awaited by the exchange (they stay off the reply path);
 * a later check for the same principal waits for its pending writes, so
 * counting is exact within one KDC process.
 */

import { isIP } from 'node:net';
import { ErrorCode } from '../messages/index.js';
import { sourceLockoutKey, type LockoutPolicy, type LockoutState, type LockoutStore } from '../store/index.js';
import { KdcRequestError } from './errors.js';

/** The realm's lockout policy: MIT's three settings (per source here) and the principal-wide threshold. */
export interface KdcLockoutPolicy extends LockoutPolicy {
  /**
   * Failures from all sources together (not counting sources already locked)
   * that lock the principal for every source; 0 = no principal-wide lock.
   */
  readonly maxFailuresAllSources: number;
}

export type LockoutScope = 'source' | 'principal';

export interface LockoutEvents {
  /** The principal just became locked, for one source or everywhere. */
  locked(principal: string, scope: LockoutScope, source: string | undefined, state: LockoutState): void;
  /** A write to the lockout store failed (the request itself was answered). */
  storeFailed(principal: string, err: unknown): void;
}

/** What the gate found for one AS request, before pre-authentication. */
export interface LockoutAssessment {
  readonly principal: string;
  /** The request's source (see lockoutSource), undefined when the transport gave no address. */
  readonly source: string | undefined;
  readonly principalState: LockoutState;
  readonly sourceState: LockoutState | undefined;
  /** The lock in force at the request's time, if any (the principal-wide one first). */
  readonly lock: { readonly scope: LockoutScope; readonly until: number; readonly failures: number } | undefined;
  /** Locked and past the verification budget: refuse any pre-authentication unchecked. */
  readonly exhausted: boolean;
}

/**
 * The source a failure is counted against: an IPv4 address as is (an
 * IPv4-mapped IPv6 address as its IPv4 address), an IPv6 address by its /64,
 * since one host or LAN usually holds a whole /64 and can pick any address in it.
 */
export function lockoutSource(address: string): string {
  const bare = address.replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (mapped !== null) return mapped[1]!;
  if (isIP(bare) !== 6) return bare;
  const [head = '', tail] = bare.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail ('::1.2.3.4') is two groups; it never reaches the first four.
  const rightGroups = right.flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - rightGroups.length).fill('0'), ...rightGroups];
  const prefix = groups.slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16));
  // Compress trailing zero groups as RFC 5952 does for the network part: 2001:db8:: rather than 2001:db8:0:0::.
  while (prefix.length > 0 && prefix[prefix.length - 1] === '0') prefix.pop();
  return `${prefix.join(':')}::/64`;
}

function activeLock(state: LockoutState, now: number): number | undefined {
  return state.lockedUntil !== undefined && now < state.lockedUntil ? state.lockedUntil : undefined;
}

export class LockoutGate {
  readonly #store: LockoutStore;
  readonly #sourcePolicy: LockoutPolicy;
  readonly #principalPolicy: LockoutPolicy;
  readonly #events: LockoutEvents;
  readonly #recordSuccess: boolean;
  readonly #pending = new Map<string, Promise<unknown>>();

  constructor(store: LockoutStore, policy: KdcLockoutPolicy, events: LockoutEvents, options: { recordLastSuccess?: boolean } = {}) {
    this.#store = store;
    this.#sourcePolicy = { maxFailures: policy.maxFailures, failureWindowMs: policy.failureWindowMs, lockoutDurationMs: policy.lockoutDurationMs };
    this.#principalPolicy = { ...this.#sourcePolicy, maxFailures: policy.maxFailures === 0 ? 0 : policy.maxFailuresAllSources };
    this.#events = events;
    this.#recordSuccess = options.recordLastSuccess ?? false;
  }

  /**
   * The principal-wide state; throws KDC_ERR_CLIENT_REVOKED while the
   * principal is locked everywhere. For requests whose client has already
   * proven its key (a TGS request with a TGT), so the refusal leaks nothing.
   */
  async check(principal: string, now: number): Promise<LockoutState> {
    await this.#pending.get(principal);
    const state = await this.#store.get(principal);
    const until = activeLock(state, now);
    if (until !== undefined) throw lockedOut(principal, 'principal', undefined, until, state.failures);
    return state;
  }

  /** The AS exchange's look before pre-authentication; never throws for a lock (see `refusal`). */
  async assess(principal: string, address: string | undefined, now: number): Promise<LockoutAssessment> {
    await this.#pending.get(principal);
    const source = address === undefined || address === '' ? undefined : lockoutSource(address);
    const principalState = await this.#store.get(principal);
    const sourceState = source === undefined ? undefined : await this.#store.get(sourceLockoutKey(principal, source));
    const principalUntil = activeLock(principalState, now);
    const sourceUntil = sourceState === undefined ? undefined : activeLock(sourceState, now);
    let lock: LockoutAssessment['lock'];
    let exhausted = false;
    // Checked while locked: the failures up to the lock plus maxFailures more.
    if (principalUntil !== undefined) {
      lock = { scope: 'principal', until: principalUntil, failures: principalState.failures };
      exhausted = principalState.failures >= this.#principalPolicy.maxFailures + this.#sourcePolicy.maxFailures;
    }
    if (sourceUntil !== undefined && sourceState !== undefined) {
      lock ??= { scope: 'source', until: sourceUntil, failures: sourceState.failures };
      exhausted ||= sourceState.failures >= 2 * this.#sourcePolicy.maxFailures;
    }
    return { principal, source, principalState, sourceState, lock, exhausted };
  }

  /** KDC_ERR_CLIENT_REVOKED for a locked assessment, with a hint for the account's owner. */
  refusal(a: LockoutAssessment): KdcRequestError {
    const lock = a.lock ?? { scope: 'principal' as const, until: Number.POSITIVE_INFINITY, failures: a.principalState.failures };
    return lockedOut(a.principal, lock.scope, a.source, lock.until, lock.failures);
  }

  /**
   * Counts a pre-authentication failure: for the source, and for the
   * principal unless only the source was already locked.
   */
  failed(a: LockoutAssessment, now: number): void {
    const sourceLocked = a.sourceState !== undefined && activeLock(a.sourceState, now) !== undefined;
    const countPrincipal = !sourceLocked || activeLock(a.principalState, now) !== undefined;
    this.#enqueue(a.principal, async () => {
      if (a.source !== undefined) {
        const key = sourceLockoutKey(a.principal, a.source);
        const after = await this.#store.recordFailure(key, this.#sourcePolicy);
        if (newlyLocked(a.sourceState, after, now)) this.#events.locked(a.principal, 'source', a.source, after);
      }
      if (countPrincipal) {
        const after = await this.#store.recordFailure(a.principal, this.#principalPolicy);
        if (newlyLocked(a.principalState, after, now)) this.#events.locked(a.principal, 'principal', a.source, after);
      }
    });
  }

  /** Clears the failure counts of the principal and of this source after a success (and records the time when configured to). */
  succeeded(a: LockoutAssessment): void {
    const principalDirty = a.principalState.failures > 0 || this.#recordSuccess;
    const sourceDirty = a.source !== undefined && a.sourceState !== undefined && a.sourceState.failures > 0;
    if (!principalDirty && !sourceDirty) return;
    this.#enqueue(a.principal, async () => {
      if (principalDirty) await this.#store.recordSuccess(a.principal);
      // The source row goes: rows of addresses that log on again do not pile up.
      if (sourceDirty) await this.#store.forget(sourceLockoutKey(a.principal, a.source!));
    });
  }

  /** Resolves when every pending write has finished (for shutdown and tests). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending.values());
  }

  #enqueue(principal: string, write: () => Promise<unknown>): void {
    const previous = this.#pending.get(principal) ?? Promise.resolve();
    const next = previous.then(write).catch((err: unknown) => this.#events.storeFailed(principal, err));
    this.#pending.set(principal, next);
    void next.then(() => { if (this.#pending.get(principal) === next) this.#pending.delete(principal); });
  }
}

function newlyLocked(before: LockoutState | undefined, after: LockoutState, now: number): boolean {
  return activeLock(after, now) !== undefined && (before === undefined || activeLock(before, now) === undefined);
}

function lockedOut(principal: string, scope: LockoutScope, source: string | undefined, until: number, failures: number): KdcRequestError {
  const when = until === Number.POSITIVE_INFINITY ? 'until an administrator unlocks it' : `until ${new Date(until).toISOString()}`;
  const where = scope === 'source' ? ` from ${source ?? 'this address'}` : '';
  return new KdcRequestError(ErrorCode.KDC_ERR_CLIENT_REVOKED,
    `Client's credentials have been revoked: locked out${where} after repeated pre-authentication failures, ${when}; an administrator can unlock it (kerbside principal modify --unlock)`, {
      reason: `${principal} is locked out${where} after ${failures} pre-authentication failures, ${when}`,
    });
}
