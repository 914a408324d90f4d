/**
 * The refresh policy of a held credential (docs/architecture.md "One idea"; docs/lessons.md
 * "Long-running jobs": refresh at ~80 % of lifetime with an absolute floor,
 * renew only while renew-till covers the next period, jittered exponential
 * backoff capped before endtime). Pure functions of times in milliseconds, so
 * the engine and its tests agree on every number.
 */

import type { RandomSource } from '../core/random.js';
import { InvalidArgumentError } from '../core/errors.js';

/** What the engine knows about a credential's life. Times are ms since the epoch. */
export interface CredentialHorizon {
  /** When the credential became valid (for a renewed ticket: the renewal). */
  readonly startTime: number;
  /** When it stops being valid. */
  readonly endTime: number;
  /** Latest end time renewal can reach; absent when not renewable. */
  readonly renewTill?: number;
  /** Key version, for credentials built on a key (keytab entries). */
  readonly kvno?: number;
}

export interface RefreshPolicy {
  /** Refresh when this fraction of the lifetime has passed (Hadoop's 0.8). */
  readonly refreshFraction: number;
  /** …but at the latest this long before the end time (kstart keeps ≥ 2 min). */
  readonly minMargin: number;
  /** A credential with less remaining life than this is never handed out. */
  readonly minUsable: number;
  /** First retry delay after a failed refresh; doubles per failure. */
  readonly retryInitial: number;
  /** Longest delay between retries. */
  readonly retryMax: number;
  /** A caller-driven attempt is not started sooner than this after a failed one. */
  readonly minRetryInterval: number;
  /** Emit `expiring_soon` when a credential that is not being refreshed gets this close to its end. */
  readonly expiringSoon: number;
  /** Drop a credential nobody asked for in this long, instead of refreshing it (undefined: never). */
  readonly evictAfter: number | undefined;
  /** Refresh from timers (true) or only when a caller asks (false, "lazily"). */
  readonly proactive: boolean;
}

export const DEFAULT_REFRESH_POLICY: RefreshPolicy = Object.freeze({
  refreshFraction: 0.8,
  minMargin: 2 * 60_000,
  minUsable: 30_000,
  retryInitial: 30_000,
  retryMax: 10 * 60_000,
  minRetryInterval: 5_000,
  expiringSoon: 5 * 60_000,
  evictAfter: undefined,
  proactive: true,
});

export type RefreshPolicyInput = { readonly [K in keyof RefreshPolicy]?: RefreshPolicy[K] };

export function resolvePolicy(input: RefreshPolicyInput = {}): RefreshPolicy {
  const p: RefreshPolicy = { ...DEFAULT_REFRESH_POLICY };
  for (const [k, v] of Object.entries(input)) if (v !== undefined) (p as unknown as Record<string, unknown>)[k] = v;
  if (!(p.refreshFraction > 0 && p.refreshFraction < 1)) {
    throw new InvalidArgumentError(`refreshFraction must lie strictly between 0 and 1 (got ${p.refreshFraction})`);
  }
  for (const k of ['minMargin', 'minUsable', 'retryInitial', 'retryMax', 'minRetryInterval', 'expiringSoon'] as const) {
    if (!(Number.isFinite(p[k]) && p[k] >= 0)) throw new InvalidArgumentError(`${k} must be a non-negative number of milliseconds (got ${p[k]})`);
  }
  if (p.retryInitial <= 0 || p.retryMax < p.retryInitial) {
    throw new InvalidArgumentError('retryInitial must be positive and retryMax at least retryInitial');
  }
  return Object.freeze(p);
}

/**
 * When to refresh a credential: at `refreshFraction` of its lifetime, but no
 * later than `minMargin` before its end. For lifetimes so short that the
 * margin would eat more than half, refresh at half-life (MIT's rule), so a
 * short-lived credential cannot make the refresher spin.
 */
export function refreshTime(h: CredentialHorizon, policy: RefreshPolicy): number {
  const life = Math.max(0, h.endTime - h.startTime);
  const half = life * Math.min(policy.refreshFraction, 0.5);
  const offset = Math.max(half, Math.min(life * policy.refreshFraction, life - policy.minMargin));
  return h.startTime + Math.floor(offset);
}

/** Whether a credential may still be handed out at `now`. */
export function isUsable(h: CredentialHorizon, now: number, policy: RefreshPolicy): boolean {
  // A credential shorter-lived than twice the margin is still usable for its first half.
  const margin = Math.min(policy.minUsable, (h.endTime - h.startTime) / 2);
  return h.endTime - now > margin;
}

/**
 * How a due refresh should be done.
 * - `renew` while renew-till lets the renewed credential keep its full lifetime;
 * - `reacquire` from the source once it cannot (or the credential is gone);
 * - `renew-tail` when the source cannot re-acquire unattended: renew up to
 *   renew-till once more, which is the best that can be done;
 * - `none` when nothing useful is possible.
 */
export type RefreshAction = 'renew' | 'reacquire' | 'renew-tail' | 'none';

export function chooseAction(
  h: CredentialHorizon | undefined,
  now: number,
  can: { readonly renew: boolean; readonly reacquire: boolean },
  policy: RefreshPolicy,
): RefreshAction {
  if (h === undefined) return can.reacquire ? 'reacquire' : 'none';
  // A KDC will not renew a ticket past its end time (KDC_ERR_TKT_EXPIRED).
  const renewable = can.renew && h.renewTill !== undefined && h.endTime > now;
  const life = h.endTime - h.startTime;
  if (renewable && h.renewTill! >= now + life) return 'renew';
  if (can.reacquire) return 'reacquire';
  // Renewing is only worth a KDC round trip when it buys at least the margin.
  if (renewable && Math.min(h.renewTill!, now + life) - h.endTime >= policy.minMargin) return 'renew-tail';
  return 'none';
}

/**
 * Delay before retry number `failures` (1 = first retry): exponential from
 * `retryInitial`, "equal jitter" (half fixed, half random) so many refreshers
 * do not stampede a recovering KDC, and capped so that at least one retry
 * still falls before the credential stops being usable.
 */
export function retryDelay(
  failures: number,
  h: CredentialHorizon | undefined,
  now: number,
  policy: RefreshPolicy,
  random: RandomSource,
): number {
  const exp = Math.min(policy.retryMax, policy.retryInitial * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  const half = Math.floor(exp / 2);
  let delay = half + (half > 0 ? random.int(half + 1) : 0);
  if (h !== undefined) {
    const left = h.endTime - policy.minUsable - now;
    if (left > 0) delay = Math.min(delay, Math.max(policy.minRetryInterval, Math.floor(left / 2)));
  }
  return Math.max(policy.minRetryInterval, delay);
}
