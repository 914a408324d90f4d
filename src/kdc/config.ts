/**
 * Realm policy: the knobs a KDC administrator sets (MIT kdc.conf [realms]
 * max_life, max_renewable_life, supported enctypes, lockout policy; krb5.conf
 * clockskew, allow_weak_crypto). Lifetimes and skew are seconds, as in
 * kdc.conf, kadmin and the principal store; the lockout and lookaside timings
 * are milliseconds (their names say so).
 */

import { InvalidArgumentError } from '../core/errors.js';
import type { LockoutPolicy } from '../store/index.js';
import type { KdcLockoutPolicy } from './lockout.js';

export type { LockoutPolicy, KdcLockoutPolicy };

/** Without an explicit principal-wide threshold: this many sources at maxFailures each (docs/lockout.md). */
export const DEFAULT_LOCKOUT_SOURCES_FACTOR = 5;

/** The lookaside cache answering UDP retransmits (MIT replay.c). */
export interface LookasidePolicy {
  readonly maxEntries: number;
  /** Memory cap over cached replies (bytes). */
  readonly maxBytes: number;
  /** How long a reply is kept (MIT keeps them two minutes). */
  readonly lifetimeMs: number;
  /**
   * Requests in progress that an identical retransmit may wait for. Beyond
   * it, a request is processed without being shared (still answered), so a
   * flood of distinct requests cannot grow the table.
   */
  readonly maxPending: number;
}

export interface RealmPolicy {
  /** Longest ticket life the realm issues (seconds). */
  readonly maxLife: number;
  /** Longest renewable life (seconds); 0 = the realm issues no renewable tickets. */
  readonly maxRenewableLife: number;
  /** Acceptable clock skew (seconds). */
  readonly clockSkew: number;
  /** Enctypes the realm issues keys and tickets in, most preferred first. */
  readonly permittedEnctypes: readonly number[];
  /** RC4 (and other weak enctypes) allowed; off unless an AD-interop realm needs it. */
  readonly allowWeakCrypto: boolean;
  readonly allowForwardable: boolean;
  readonly allowProxiable: boolean;
  /** A UDP reply larger than this becomes KRB_ERR_RESPONSE_TOO_BIG (MIT: 1465). */
  readonly maxUdpReply: number;
  /** Lockout after repeated pre-authentication failures, per source and per principal; maxFailures 0 = off. */
  readonly lockout: KdcLockoutPolicy;
  readonly lookaside: LookasidePolicy;
  /** Unexpired entries the TGS authenticator replay cache holds; beyond it TGS requests are refused (KDC_ERR_SVC_UNAVAILABLE), never evicted. */
  readonly replayCacheEntries: number;
}

export type RealmPolicyInput = Partial<Omit<RealmPolicy, 'lockout' | 'lookaside'>> & {
  readonly lockout?: Partial<KdcLockoutPolicy>;
  readonly lookaside?: Partial<LookasidePolicy>;
};

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The enctypes we issue by default (aes-sha1 first, as MIT's default supported_enctypes). */
export const DEFAULT_PERMITTED_ENCTYPES: readonly number[] = Object.freeze([18, 17, 20, 19]);

export const DEFAULT_REALM_POLICY: RealmPolicy = Object.freeze({
  maxLife: DAY,
  maxRenewableLife: 7 * DAY,
  clockSkew: 5 * MINUTE,
  permittedEnctypes: DEFAULT_PERMITTED_ENCTYPES,
  allowWeakCrypto: false,
  allowForwardable: true,
  allowProxiable: true,
  maxUdpReply: 1465,
  lockout: Object.freeze({ maxFailures: 0, failureWindowMs: 0, lockoutDurationMs: 0, maxFailuresAllSources: 0 }),
  lookaside: Object.freeze({ maxEntries: 10_000, maxBytes: 16 * 1024 * 1024, lifetimeMs: 120_000, maxPending: 1024 }),
  replayCacheEntries: 100_000,
});

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(`realm policy ${name} must be a non-negative number, got ${String(value)}`);
  }
  return value;
}

function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`realm policy ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** Fills in defaults and checks every value; the result is frozen. */
export function resolveRealmPolicy(input: RealmPolicyInput = {}): RealmPolicy {
  const d = DEFAULT_REALM_POLICY;
  const permitted = [...(input.permittedEnctypes ?? d.permittedEnctypes)];
  if (permitted.length === 0 || permitted.some((e) => !Number.isSafeInteger(e))) {
    throw new InvalidArgumentError('realm policy permittedEnctypes must list at least one enctype number', {
      hint: 'use enctype numbers such as 18 (aes256-cts-hmac-sha1-96) or 20 (aes256-cts-hmac-sha384-192)',
    });
  }
  const lockout = { ...d.lockout, ...input.lockout };
  const maxFailures = lockout.maxFailures === 0 ? 0 : positiveInt('lockout.maxFailures', lockout.maxFailures);
  const allSources = input.lockout?.maxFailuresAllSources ?? DEFAULT_LOCKOUT_SOURCES_FACTOR * maxFailures;
  const lookaside = { ...d.lookaside, ...input.lookaside };
  const maxLife = nonNegative('maxLife', input.maxLife ?? d.maxLife);
  if (maxLife < 1) throw new InvalidArgumentError('realm policy maxLife must be at least one second');
  return Object.freeze({
    maxLife,
    maxRenewableLife: nonNegative('maxRenewableLife', input.maxRenewableLife ?? d.maxRenewableLife),
    clockSkew: nonNegative('clockSkew', input.clockSkew ?? d.clockSkew),
    permittedEnctypes: Object.freeze(permitted),
    allowWeakCrypto: input.allowWeakCrypto ?? d.allowWeakCrypto,
    allowForwardable: input.allowForwardable ?? d.allowForwardable,
    allowProxiable: input.allowProxiable ?? d.allowProxiable,
    maxUdpReply: positiveInt('maxUdpReply', input.maxUdpReply ?? d.maxUdpReply),
    lockout: Object.freeze({
      maxFailures,
      failureWindowMs: nonNegative('lockout.failureWindowMs', lockout.failureWindowMs),
      lockoutDurationMs: nonNegative('lockout.lockoutDurationMs', lockout.lockoutDurationMs),
      maxFailuresAllSources: allSources === 0 ? 0 : positiveInt('lockout.maxFailuresAllSources', allSources),
    }),
    lookaside: Object.freeze({
      maxEntries: positiveInt('lookaside.maxEntries', lookaside.maxEntries),
      maxBytes: positiveInt('lookaside.maxBytes', lookaside.maxBytes),
      lifetimeMs: nonNegative('lookaside.lifetimeMs', lookaside.lifetimeMs),
      maxPending: positiveInt('lookaside.maxPending', lookaside.maxPending),
    }),
    replayCacheEntries: positiveInt('replayCacheEntries', input.replayCacheEntries ?? d.replayCacheEntries),
  });
}
