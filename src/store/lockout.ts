/**
 * Lockout arithmetic shared by every LockoutStore backend, after MIT's
 * kdb_lockout.c semantics: failures older than the window (counted from the
 * last failure) no longer count, an expired lock starts a fresh count, and
 * reaching maxFailures locks for lockoutDurationMs (0 = until unlocked).
 */

import type { Clock } from '../core/clock.js';
import { InvalidArgumentError } from '../core/errors.js';
import { StoreClosedError } from './errors.js';
import type { LockoutPolicy, LockoutState, LockoutStore, SourceLockoutState } from './types.js';

export const NO_LOCKOUT_STATE: LockoutState = Object.freeze({ failures: 0 });

/**
 * The key of the failures of `principal` from one source (an address, or an
 * IPv6 /64). Store names end in '@REALM' and realm names have no '|', so a
 * source key never equals a principal's key.
 */
export function sourceLockoutKey(principal: string, source: string): string {
  return `${principal}|${source}`;
}

/** The source part of a source key of `principal`, or undefined for any other key. */
export function sourceOfKey(principal: string, key: string): string | undefined {
  const prefix = `${principal}|`;
  return key.startsWith(prefix) && key.length > prefix.length ? key.slice(prefix.length) : undefined;
}

/** True while the principal is locked out at `now`. */
export function isLockedOut(state: LockoutState, now: number): boolean {
  return state.lockedUntil !== undefined && now < state.lockedUntil;
}

function checkPolicy(p: LockoutPolicy): void {
  for (const k of ['maxFailures', 'failureWindowMs', 'lockoutDurationMs'] as const) {
    if (!Number.isSafeInteger(p[k]) || p[k] < 0) throw new InvalidArgumentError(`lockout policy ${k} must be a non-negative integer`);
  }
}

/** The state after one more failure at `now`. */
export function afterFailure(state: LockoutState, policy: LockoutPolicy, now: number): LockoutState {
  checkPolicy(policy);
  const active = isLockedOut(state, now);
  const windowOver = policy.failureWindowMs > 0 && state.lastFailure !== undefined && now - state.lastFailure >= policy.failureWindowMs;
  const lockOver = state.lockedUntil !== undefined && now >= state.lockedUntil;
  const fresh = !active && (windowOver || lockOver || state.failures === 0);
  const failures = fresh ? 1 : state.failures + 1;
  const locked = policy.maxFailures > 0 && failures >= policy.maxFailures;
  const lockedUntil = active ? state.lockedUntil
    : locked ? (policy.lockoutDurationMs > 0 ? now + policy.lockoutDurationMs : Number.POSITIVE_INFINITY)
      : undefined;
  return withOptional({
    failures,
    firstFailure: fresh ? now : state.firstFailure,
    lastFailure: now,
    lockedUntil,
    lastSuccess: state.lastSuccess,
  });
}

/** The state after a success at `now`: the count is cleared, an active lock stays. */
export function afterSuccess(state: LockoutState, now: number): LockoutState {
  return withOptional({
    failures: 0,
    lastFailure: state.lastFailure,
    lockedUntil: isLockedOut(state, now) ? state.lockedUntil : undefined,
    lastSuccess: now,
  });
}

/** The state after an administrator unlock. */
export function afterUnlock(state: LockoutState): LockoutState {
  return withOptional({ failures: 0, lastFailure: state.lastFailure, lastSuccess: state.lastSuccess });
}

type Loose = { failures: number } & { [K in Exclude<keyof LockoutState, 'failures'>]?: number | undefined };

/** Drops undefined properties (exactOptionalPropertyTypes) and freezes. */
export function withOptional(s: Loose): LockoutState {
  const out: Record<string, number> = { failures: s.failures };
  for (const k of ['firstFailure', 'lastFailure', 'lockedUntil', 'lastSuccess'] as const) {
    const v = s[k];
    if (v !== undefined) out[k] = v;
  }
  return Object.freeze(out) as unknown as LockoutState;
}

/** An in-memory LockoutStore (tests, and the memory principal store). */
export class MemoryLockoutStore implements LockoutStore {
  readonly #clock: Clock;
  readonly #states: Map<string, LockoutState>;
  #closed = false;

  constructor(clock: Clock, states: Map<string, LockoutState> = new Map()) {
    this.#clock = clock;
    this.#states = states;
  }

  async get(principal: string): Promise<LockoutState> {
    this.#check();
    return this.#states.get(principal) ?? NO_LOCKOUT_STATE;
  }

  async recordFailure(principal: string, policy: LockoutPolicy): Promise<LockoutState> {
    return this.#set(principal, afterFailure(await this.get(principal), policy, this.#clock.now()));
  }

  async recordSuccess(principal: string): Promise<LockoutState> {
    return this.#set(principal, afterSuccess(await this.get(principal), this.#clock.now()));
  }

  async unlock(principal: string): Promise<void> {
    this.#set(principal, afterUnlock(await this.get(principal)));
    for (const key of [...this.#states.keys()]) if (sourceOfKey(principal, key) !== undefined) this.#states.delete(key);
  }

  async forget(principal: string): Promise<void> {
    this.#check();
    this.#states.delete(principal);
    for (const key of [...this.#states.keys()]) if (sourceOfKey(principal, key) !== undefined) this.#states.delete(key);
  }

  async sources(principal: string): Promise<readonly SourceLockoutState[]> {
    this.#check();
    const out: SourceLockoutState[] = [];
    for (const [key, state] of this.#states) {
      const source = sourceOfKey(principal, key);
      if (source !== undefined) out.push({ source, state });
    }
    return out.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  }

  /** Marks this handle closed (the memory store does this when it closes). */
  close(): void {
    this.#closed = true;
  }

  #set(principal: string, state: LockoutState): LockoutState {
    this.#states.set(principal, state);
    return state;
  }

  #check(): void {
    if (this.#closed) throw new StoreClosedError('the lockout store');
  }
}
