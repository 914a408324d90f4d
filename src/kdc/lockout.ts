/**
 * Account lockout around the LockoutStore (MIT kdb lockout.c, the klmdb
 * model): the AS exchange asks `check` before anything else (a locked client
 * gets KDC_ERR_CLIENT_REVOKED even with the right password, as in MIT), and
 * reports pre-authentication failures and successes. The writes are not
 * awaited by the exchange (they stay off the reply path); a later check for
 * the same principal waits for its pending writes, so counting is exact.
 */

import { ErrorCode } from '../messages/index.js';
import type { LockoutPolicy, LockoutState, LockoutStore } from '../store/index.js';
import { KdcRequestError } from './errors.js';

export interface LockoutEvents {
  /** The principal just became locked. */
  locked(principal: string, state: LockoutState): void;
  /** A write to the lockout store failed (the request itself was answered). */
  storeFailed(principal: string, err: unknown): void;
}

export class LockoutGate {
  readonly #store: LockoutStore;
  readonly #policy: LockoutPolicy;
  readonly #events: LockoutEvents;
  readonly #recordSuccess: boolean;
  readonly #pending = new Map<string, Promise<unknown>>();

  constructor(store: LockoutStore, policy: LockoutPolicy, events: LockoutEvents, options: { recordLastSuccess?: boolean } = {}) {
    this.#store = store;
    this.#policy = policy;
    this.#events = events;
    this.#recordSuccess = options.recordLastSuccess ?? false;
  }

  /** The current state; throws KDC_ERR_CLIENT_REVOKED while the principal is locked. */
  async check(principal: string, now: number): Promise<LockoutState> {
    await this.#pending.get(principal);
    const state = await this.#store.get(principal);
    if (state.lockedUntil !== undefined && now < state.lockedUntil) {
      const until = state.lockedUntil === Infinity ? 'an administrator unlocks it' : new Date(state.lockedUntil).toISOString();
      throw new KdcRequestError(ErrorCode.KDC_ERR_CLIENT_REVOKED, 'Client\'s credentials have been revoked', {
        reason: `${principal} is locked out after ${state.failures} pre-authentication failures, until ${until}`,
      });
    }
    return state;
  }

  failed(principal: string): void {
    this.#enqueue(principal, async () => {
      const before = await this.#store.get(principal);
      const after = await this.#store.recordFailure(principal, this.#policy);
      if (after.lockedUntil !== undefined && before.lockedUntil !== after.lockedUntil) this.#events.locked(principal, after);
    });
  }

  /** Clears the failure count after a success (and records the time when configured to). */
  succeeded(principal: string, state: LockoutState): void {
    if (state.failures === 0 && !this.#recordSuccess) return;
    this.#enqueue(principal, () => this.#store.recordSuccess(principal));
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
