/**
 * A held credential (docs/architecture.md "One idea: every credential has a lifecycle"):
 * a value with a source that can produce it again, a horizon, and a refresh
 * policy applied by one engine driven only by the injected clock.
 *
 * Guarantees:
 * - `get()` never hands out a credential past (or within `minUsable` of) its end;
 * - one refresh at a time: concurrent callers await the same attempt;
 * - renew while renew-till covers the next period, otherwise re-acquire from
 *   the source; if the source cannot act unattended, say so with an event
 *   *before* the credential expires and fail with `CannotRefreshUnattendedError`;
 * - failed refreshes retry with jittered exponential backoff capped before the
 *   end time; a caller holding an expired credential does not wait for the
 *   backoff (only `minRetryInterval` throttles it);
 * - credentials nobody uses are evicted instead of refreshed (when configured).
 */

import type { Clock, TimerHandle } from '../core/clock.js';
import { systemRandom, type RandomSource } from '../core/random.js';
import { KerbsideError } from '../core/errors.js';
import {
  chooseAction, isUsable, refreshTime, resolvePolicy, retryDelay,
  type CredentialHorizon, type RefreshAction, type RefreshPolicy, type RefreshPolicyInput,
} from './policy.js';
import type { EventSink } from '../events/index.js';
import { lifecycleEventForwarder } from './events.js';
import { CannotRefreshUnattendedError, CredentialClosedError, SourceReturnedExpiredError } from './errors.js';

/** Something that can produce the credential (again). */
export interface CredentialSource<T> {
  /** For people: "keytab /etc/krb5.keytab", "password", "external cache FILE:/tmp/krb5cc_1000". */
  readonly description: string;
  /** Whether `acquire` can run without a person (a keytab can; a PIN prompt cannot). */
  readonly unattended: boolean;
  /** A fresh credential. Absent when the source can only renew what it was given. */
  acquire?(): Promise<T>;
  /** An extension of `current` (Kerberos RENEW). */
  renew?(current: T): Promise<T>;
}

export type RefreshHow = 'acquired' | 'renewed' | 'reacquired';

export interface ErrorSummary {
  readonly code: string;
  readonly krbCode?: number;
  readonly message: string;
}

/** Structured lifecycle events; the caller forwards them to its event sink. */
export type LifecycleEvent =
  | { readonly type: 'refreshed'; readonly how: RefreshHow } & EventBase
  | { readonly type: 'renewal_failed'; readonly action: 'renew' | 'reacquire'; readonly failures: number; readonly nextAttemptAt?: number; readonly error: ErrorSummary } & EventBase
  | { readonly type: 'cannot_refresh_unattended'; readonly reason: string } & EventBase
  | { readonly type: 'expiring_soon'; readonly lastError?: ErrorSummary } & EventBase
  | { readonly type: 'evicted'; readonly unusedFor: number } & EventBase
  | { readonly type: 'update_failed'; readonly error: ErrorSummary } & EventBase;

interface EventBase {
  /** Which credential: a principal, "TGT for x@R", "HTTP/host@R for x@R". */
  readonly credential: string;
  readonly source: string;
  /** Clock time of the event, ms. */
  readonly at: number;
  readonly endTime?: number;
  readonly renewTill?: number;
}

export interface HeldCredentialOptions<T> {
  readonly name: string;
  readonly source: CredentialSource<T>;
  readonly horizon: (credential: T) => CredentialHorizon;
  readonly clock: Clock;
  readonly random?: RandomSource;
  readonly policy?: RefreshPolicyInput;
  readonly onEvent?: (event: LifecycleEvent) => void;
  /** The process's event sink: events go there as `credential.*` KerbsideEvents. */
  readonly sink?: EventSink;
  /** Called with each new credential (persist a cache); failures become `update_failed` events. */
  readonly onUpdate?: (credential: T) => void | Promise<void>;
  /** A credential already held (from a cache); otherwise the first `get()` acquires. */
  readonly initial?: T;
}

export type HeldCredentialState = 'empty' | 'valid' | 'refreshing' | 'failing' | 'expired' | 'cannot_refresh' | 'closed';

export interface HeldCredentialStatus {
  readonly name: string;
  readonly source: string;
  readonly unattended: boolean;
  readonly state: HeldCredentialState;
  readonly horizon?: CredentialHorizon;
  readonly nextAttemptAt?: number;
  readonly lastRefreshAt?: number;
  readonly consecutiveFailures: number;
  readonly counts: Readonly<Record<RefreshHow | 'failed', number>>;
  readonly lastError?: ErrorSummary;
}

export interface GetOptions {
  /** A person is present: an attended source may be asked to acquire (prompt for a password/PIN). */
  readonly interactive?: boolean;
  /**
   * The caller needs the credential to stay valid this long (ms), e.g. a job's
   * expected runtime plus a margin: a credential with less left is refreshed
   * first. The result may still fall short when the source cannot give more
   * (realm maximum life, renew-till); check its horizon.
   */
  readonly minRemaining?: number;
}

export class HeldCredential<T> {
  readonly name: string;
  readonly source: CredentialSource<T>;
  readonly policy: RefreshPolicy;
  readonly #horizonOf: (credential: T) => CredentialHorizon;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #onEvent: (event: LifecycleEvent) => void;
  readonly #onUpdate: ((credential: T) => void | Promise<void>) | undefined;

  #cred: T | undefined;
  #h: CredentialHorizon | undefined;
  #inflight: Promise<T> | undefined;
  #nextAttemptAt: number | undefined;
  #timer: TimerHandle | undefined;
  #expiryTimer: TimerHandle | undefined;
  #lastUsed: number;
  #lastRefreshAt: number | undefined;
  #failures = 0;
  #lastError: unknown;
  #lastFailureAt: number | undefined;
  #announcedCannot = false;
  #announcedExpiring = false;
  #closed = false;
  readonly #counts = { acquired: 0, renewed: 0, reacquired: 0, failed: 0 };

  constructor(options: HeldCredentialOptions<T>) {
    this.name = options.name;
    this.source = options.source;
    this.policy = resolvePolicy(options.policy);
    this.#horizonOf = options.horizon;
    this.#clock = options.clock;
    this.#random = options.random ?? systemRandom();
    const forward = options.sink === undefined ? undefined : lifecycleEventForwarder(options.sink, options.clock);
    const listener = options.onEvent;
    this.#onEvent = (e) => { listener?.(e); forward?.(e); };
    this.#onUpdate = options.onUpdate;
    this.#lastUsed = this.#clock.now();
    if (options.initial !== undefined) this.#install(options.initial);
  }

  /**
   * A credential that is valid for at least `minUsable` more. Refreshes first
   * when a refresh is due; if that fails while the current one is still
   * usable, returns the current one (the failure is an event and a retry is
   * scheduled). Throws the cause when no usable credential can be had.
   */
  async get(options: GetOptions = {}): Promise<T> {
    this.#assertOpen();
    const now = this.#clock.now();
    this.#lastUsed = now;
    const usable = this.#h !== undefined && isUsable(this.#h, now, this.policy);
    const due = this.#isDue(now, options);
    if (usable && !due) return this.#cred!;
    if (!usable && this.#inflight === undefined && this.#throttled(now, options)) throw this.#lastError;
    try {
      const fresh = await this.#refresh(options.interactive === true);
      if (isUsable(this.#horizonOf(fresh), this.#clock.now(), this.policy)) return fresh;
    } catch (err) {
      if (!this.#currentUsable()) throw err;
    }
    if (this.#currentUsable()) return this.#cred!;
    throw this.#lastError ?? new SourceReturnedExpiredError(`${this.name}: no usable credential`);
  }

  /** Refreshes now (renew or re-acquire as the policy says), joining a refresh under way. */
  refresh(options: GetOptions = {}): Promise<T> {
    this.#assertOpen();
    return this.#refresh(options.interactive === true);
  }

  /** The credential held right now, even if it is not usable; for display (klist), never for use. */
  peek(): T | undefined {
    return this.#cred;
  }

  /** Installs a credential obtained elsewhere (e.g. a new kinit into this session). */
  replace(credential: T): void {
    this.#assertOpen();
    this.#announcedCannot = false;
    this.#lastError = this.#lastFailureAt = undefined;
    this.#install(credential);
  }

  /** Stops timers; later calls fail with `CredentialClosedError`. */
  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#expiryTimer?.cancel();
    this.#timer = this.#expiryTimer = undefined;
  }

  status(): HeldCredentialStatus {
    const now = this.#clock.now();
    let state: HeldCredentialState;
    if (this.#closed) state = 'closed';
    else if (this.#inflight !== undefined) state = 'refreshing';
    else if (this.#h === undefined) state = this.#nextAttemptAt === Infinity ? 'cannot_refresh' : 'empty';
    else if (!isUsable(this.#h, now, this.policy)) state = this.#nextAttemptAt === Infinity ? 'cannot_refresh' : 'expired';
    else if (this.#nextAttemptAt === Infinity) state = 'cannot_refresh';
    else state = this.#failures > 0 ? 'failing' : 'valid';
    return {
      name: this.name,
      source: this.source.description,
      unattended: this.source.unattended,
      state,
      ...(this.#h !== undefined ? { horizon: this.#h } : {}),
      ...(this.#nextAttemptAt !== undefined && Number.isFinite(this.#nextAttemptAt) ? { nextAttemptAt: this.#nextAttemptAt } : {}),
      ...(this.#lastRefreshAt !== undefined ? { lastRefreshAt: this.#lastRefreshAt } : {}),
      consecutiveFailures: this.#failures,
      counts: { ...this.#counts },
      ...(this.#lastError !== undefined ? { lastError: summarize(this.#lastError) } : {}),
    };
  }

  #assertOpen(): void {
    if (this.#closed) throw new CredentialClosedError(`${this.name} is closed`);
  }

  /**
   * A refresh is due at the policy's time, or early when the caller needs more
   * life than is left — only if a credential as long-lived as this one would
   * do, so a request beyond what the source gives cannot cause a refresh storm.
   */
  #isDue(now: number, options: GetOptions): boolean {
    if (this.#nextAttemptAt !== undefined && now >= this.#nextAttemptAt) return true;
    const h = this.#h;
    const need = options.minRemaining;
    if (need === undefined || h === undefined || h.endTime - now >= need || h.endTime - h.startTime < need) return false;
    return this.#nextAttemptAt !== Infinity && (this.#lastFailureAt === undefined || now - this.#lastFailureAt >= this.policy.minRetryInterval);
  }

  #currentUsable(): boolean {
    return this.#h !== undefined && isUsable(this.#h, this.#clock.now(), this.policy);
  }

  /** A caller with nothing usable does not hammer a failing KDC more often than `minRetryInterval`. */
  #throttled(now: number, options: GetOptions): boolean {
    if (this.#lastError === undefined || this.#lastFailureAt === undefined) return false;
    if (this.#nextAttemptAt === Infinity) return options.interactive !== true || this.source.acquire === undefined;
    return now - this.#lastFailureAt < this.policy.minRetryInterval;
  }

  #refresh(interactive: boolean): Promise<T> {
    if (this.#inflight !== undefined) return this.#inflight;
    const attempt = this.#attempt(interactive).finally(() => { this.#inflight = undefined; });
    this.#inflight = attempt;
    return attempt;
  }

  async #attempt(interactive: boolean): Promise<T> {
    const now = this.#clock.now();
    const canReacquire = this.source.acquire !== undefined && (this.source.unattended || interactive);
    const action = chooseAction(this.#h, now, { renew: this.source.renew !== undefined, reacquire: canReacquire }, this.policy);
    if (action === 'none' || action === 'renew-tail') this.#announceCannot(action);
    if (action === 'none') {
      this.#nextAttemptAt = Infinity;
      this.#timer?.cancel();
      const err = this.#cannotRefreshError();
      this.#lastError = err;
      this.#lastFailureAt = now;
      this.#scheduleExpiring();
      throw err;
    }
    const how: RefreshHow = action === 'reacquire' ? (this.#h === undefined && this.#counts.acquired === 0 ? 'acquired' : 'reacquired') : 'renewed';
    let next: T;
    try {
      next = action === 'reacquire' ? await this.source.acquire!() : await this.source.renew!(this.#cred!);
      const h = this.#horizonOf(next);
      if (h.endTime <= this.#clock.now()) {
        throw new SourceReturnedExpiredError(`${this.source.description} returned a credential for ${this.name} that had already expired`, {
          hint: 'check the clocks of this host and the KDC (NTP)',
          detail: { credential: this.name, endTime: h.endTime },
        });
      }
    } catch (err) {
      this.#failed(action === 'reacquire' ? 'reacquire' : 'renew', err);
      throw err;
    }
    if (this.#closed) return next;
    this.#counts[how]++;
    this.#failures = 0;
    this.#lastError = undefined;
    this.#lastFailureAt = undefined;
    this.#lastRefreshAt = this.#clock.now();
    if (action === 'reacquire') this.#announcedCannot = false;
    this.#install(next);
    this.#emit({ type: 'refreshed', how });
    if (this.#onUpdate !== undefined) {
      try {
        await this.#onUpdate(next);
      } catch (err) {
        this.#emit({ type: 'update_failed', error: summarize(err) });
      }
    }
    return next;
  }

  #install(credential: T): void {
    this.#cred = credential;
    this.#h = this.#horizonOf(credential);
    this.#announcedExpiring = false;
    this.#failures = 0;
    this.#nextAttemptAt = refreshTime(this.#h, this.policy);
    this.#schedule();
    this.#scheduleExpiring();
  }

  #failed(action: 'renew' | 'reacquire', err: unknown): void {
    const now = this.#clock.now();
    this.#failures++;
    this.#counts.failed++;
    this.#lastError = err;
    this.#lastFailureAt = now;
    if (this.#closed) return;
    this.#nextAttemptAt = now + retryDelay(this.#failures, this.#h, now, this.policy, this.#random);
    this.#emit({ type: 'renewal_failed', action, failures: this.#failures, nextAttemptAt: this.#nextAttemptAt, error: summarize(err) });
    this.#schedule();
    this.#checkExpiring();
  }

  #schedule(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (!this.policy.proactive || this.#closed) return;
    const at = this.#nextAttemptAt;
    if (at === undefined || !Number.isFinite(at)) return;
    this.#timer = this.#clock.setTimer(at - this.#clock.now(), () => { this.#onTimer(); });
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const now = this.#clock.now();
    const evictAfter = this.policy.evictAfter;
    if (evictAfter !== undefined && now - this.#lastUsed >= evictAfter) {
      this.#evict(now - this.#lastUsed);
      return;
    }
    // Errors were recorded and emitted by #failed; the retry is already scheduled.
    this.#refresh(false).catch(() => {});
  }

  #evict(unusedFor: number): void {
    this.#emit({ type: 'evicted', unusedFor });
    this.#cred = undefined;
    this.#h = undefined;
    this.#nextAttemptAt = undefined;
    this.#expiryTimer?.cancel();
    this.#expiryTimer = undefined;
  }

  #scheduleExpiring(): void {
    this.#expiryTimer?.cancel();
    this.#expiryTimer = undefined;
    if (!this.policy.proactive || this.#closed || this.#h === undefined || this.#announcedExpiring) return;
    const at = this.#h.endTime - this.policy.expiringSoon;
    // Only meaningful when no refresh will happen before then; #install reschedules on success.
    this.#expiryTimer = this.#clock.setTimer(at - this.#clock.now(), () => {
      this.#expiryTimer = undefined;
      this.#checkExpiring();
    });
  }

  /** `expiring_soon` once per credential, when it is near its end and has not been refreshed. */
  #checkExpiring(): void {
    if (this.#h === undefined || this.#announcedExpiring || this.#closed) return;
    const now = this.#clock.now();
    if (this.#h.endTime - now > this.policy.expiringSoon || this.#h.endTime <= now) return;
    const refreshing = this.#failures === 0 && this.#nextAttemptAt !== Infinity && (this.#nextAttemptAt ?? Infinity) > now;
    if (refreshing && this.#nextAttemptAt! < this.#h.endTime) return;
    this.#announcedExpiring = true;
    this.#emit({ type: 'expiring_soon', ...(this.#lastError !== undefined ? { lastError: summarize(this.#lastError) } : {}) });
  }

  #announceCannot(action: RefreshAction): void {
    if (this.#announcedCannot) return;
    this.#announcedCannot = true;
    const reason = this.source.acquire === undefined
      ? `${this.source.description} can only be renewed and renewal cannot extend it further`
      : `${this.source.description} cannot act without a person and renewal cannot extend it further`;
    this.#emit({ type: 'cannot_refresh_unattended', reason: action === 'renew-tail' ? `${reason} than its renew-till` : reason });
  }

  #cannotRefreshError(): CannotRefreshUnattendedError {
    const h = this.#h;
    const until = h === undefined ? 'no credential is held'
      : h.endTime > this.#clock.now() ? `it expires at ${iso(h.endTime)}` : `it expired at ${iso(h.endTime)}`;
    return new CannotRefreshUnattendedError(
      `cannot refresh ${this.name}: its source (${this.source.description}) cannot produce a new credential unattended, and ${until}`,
      {
        hint: this.source.acquire === undefined
          ? 'the credential came from a cache that can only be renewed; give this principal its own keytab (kinit -k) or run kinit again'
          : 'acquiring it again needs a person (password or PIN); give this principal its own keytab or stored key for unattended use',
        detail: {
          credential: this.name,
          source: this.source.description,
          ...(h !== undefined ? { endTime: iso(h.endTime) } : {}),
          ...(h?.renewTill !== undefined ? { renewTill: iso(h.renewTill) } : {}),
        },
      },
    );
  }

  #emit(event: { type: LifecycleEvent['type'] } & Record<string, unknown>): void {
    const h = this.#h;
    const full = {
      ...event,
      credential: this.name,
      source: this.source.description,
      at: this.#clock.now(),
      ...(h !== undefined ? { endTime: h.endTime } : {}),
      ...(h?.renewTill !== undefined ? { renewTill: h.renewTill } : {}),
    } as unknown as LifecycleEvent;
    try {
      this.#onEvent(full);
    } catch {
      // An event sink failing must not take the refresher down.
    }
  }
}

export function summarize(err: unknown): ErrorSummary {
  if (err instanceof KerbsideError) {
    return { code: err.code, ...(err.krbCode !== undefined ? { krbCode: err.krbCode } : {}), message: err.message };
  }
  return { code: 'ERR_UNEXPECTED', message: err instanceof Error ? err.message : String(err) };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
