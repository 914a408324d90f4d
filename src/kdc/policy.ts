/**
 * Ticket policy arithmetic (RFC 4120 §3.1.3 and §3.3.3; the same decisions as
 * MIT kdc_util.c kdc_get_ticket_endtime / kdc_get_ticket_renewtime and the
 * session-key choice of select_session_keytype). Pure functions over numbers:
 * times are milliseconds since the epoch on whole seconds (KerberosTime has no
 * fractions), lifetimes are seconds as in the principal store.
 */

import { getEnctype, isSupportedEnctype } from '../crypto/index.js';
import type { StoredKey } from '../store/index.js';
import type { RealmPolicy } from './config.js';

/** MIT's kdc_infinity: the last 32-bit KerberosTime, 2038-01-19T03:14:07Z. */
export const KERBEROS_INFINITY = 2_147_483_647_000;

/** A Clock reading truncated to whole seconds, as it goes on the wire. */
export function kerberosTime(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/** A requested time: absent or the epoch (19700101000000Z) means "as long as allowed" (MIT). */
function requested(time: number | undefined): number {
  return time === undefined || time <= 0 ? KERBEROS_INFINITY : time;
}

/** The smallest positive limit in seconds; `undefined`/0 mean "no limit of its own". */
function smallestLimit(limits: readonly (number | undefined)[]): number {
  let least = Infinity;
  for (const limit of limits) if (limit !== undefined && limit > 0) least = Math.min(least, limit);
  return least;
}

export interface EndtimeInput {
  readonly starttime: number;
  /** The request's till. */
  readonly till: number | undefined;
  /** A hard ceiling, e.g. the TGT's endtime in a TGS exchange. */
  readonly notAfter?: number;
  /** Max lives in seconds: client, server, realm (undefined/0 = none of its own). */
  readonly maxLives: readonly (number | undefined)[];
}

/** RFC 4120 §3.1.3: the earliest of the requested till, the ceiling, and starttime + each max life. */
export function ticketEndtime(input: EndtimeInput): number {
  let until = requested(input.till);
  if (input.notAfter !== undefined) until = Math.min(until, input.notAfter);
  const life = Math.min(Math.max(0, until - input.starttime), smallestLimit(input.maxLives) * 1000);
  return kerberosTime(Math.min(input.starttime + life, KERBEROS_INFINITY));
}

export interface RenewTillInput {
  readonly starttime: number;
  readonly endtime: number;
  /** KDC option RENEWABLE was set. */
  readonly renewable: boolean;
  /** KDC option RENEWABLE-OK was set. */
  readonly renewableOk: boolean;
  readonly till: number | undefined;
  readonly rtime: number | undefined;
  /** Every party allows renewable tickets (client, server, realm; in TGS also the TGT is renewable). */
  readonly allowed: boolean;
  /** A hard ceiling, e.g. the TGT's renew-till. */
  readonly notAfter?: number;
  /** Max renewable lives in seconds: client, server (undefined = none of its own). */
  readonly maxRenewableLives: readonly (number | undefined)[];
  /** The realm's max renewable life in seconds; 0 = the realm issues no renewable tickets. */
  readonly realmMaxRenewableLife: number;
}

/**
 * The renew-till of a new ticket, or undefined when it is not renewable.
 * RENEWABLE asks for rtime (absent = as long as allowed); RENEWABLE-OK turns a
 * till the policy cut short into a renewable ticket, but only when the
 * renewable life then reaches past the endtime.
 */
export function ticketRenewTill(input: RenewTillInput): number | undefined {
  if (!input.allowed || input.realmMaxRenewableLife <= 0) return undefined;
  let rtime: number;
  if (input.renewable) rtime = requested(input.rtime);
  else if (input.renewableOk && requested(input.till) > input.endtime) rtime = requested(input.till);
  else return undefined;
  if (input.notAfter !== undefined) rtime = Math.min(rtime, input.notAfter);
  const maxLife = smallestLimit([...input.maxRenewableLives, input.realmMaxRenewableLife]);
  rtime = kerberosTime(Math.min(rtime, input.starttime + maxLife * 1000, KERBEROS_INFINITY));
  if (!input.renewable && rtime <= input.endtime) return undefined;
  return rtime;
}

/** RFC 4120 §3.3.3.1 renewal: same life as before from now, never past renew-till. */
export function renewedEndtime(old: { starttime: number; endtime: number; renewTill: number }, now: number): number {
  const life = Math.max(0, old.endtime - old.starttime);
  return Math.min(old.renewTill, now + life);
}

/** |a - b| <= skew (skew in seconds). */
export function withinSkew(a: number, b: number, clockSkewSeconds: number): boolean {
  return Math.abs(a - b) <= clockSkewSeconds * 1000;
}

/** The realm issues this enctype: listed, implemented, and weak ones (RC4) only with allowWeakCrypto. */
export function isPermittedEnctype(enctype: number, policy: RealmPolicy): boolean {
  if (!policy.permittedEnctypes.includes(enctype) || !isSupportedEnctype(enctype)) return false;
  return policy.allowWeakCrypto || !getEnctype(enctype, { allowWeak: true }).weak;
}

/** The keys of the newest version only (store lists newest kvno first). */
export function currentKeys(keys: readonly StoredKey[]): StoredKey[] {
  const first = keys[0];
  return first === undefined ? [] : keys.filter((k) => k.kvno === first.kvno);
}

/**
 * The AS reply key (RFC 4120 §3.1.3): the first enctype in the client's list
 * that the realm permits and the client has a current key for.
 */
export function chooseReplyKey(requestedEnctypes: readonly number[], keys: readonly StoredKey[], policy: RealmPolicy): StoredKey | undefined {
  const current = currentKeys(keys);
  for (const enctype of requestedEnctypes) {
    if (!isPermittedEnctype(enctype, policy)) continue;
    const key = current.find((k) => k.enctype === enctype);
    if (key !== undefined) return key;
  }
  return undefined;
}

/** Enctypes a service can handle as a session key: its allowed list, else those of its current keys. */
export function serviceEnctypes(service: { keys: readonly StoredKey[]; allowedEnctypes?: readonly number[] }): number[] {
  return service.allowedEnctypes !== undefined ? [...service.allowedEnctypes] : currentKeys(service.keys).map((k) => k.enctype);
}

/** The session key enctype: the client's first choice that the realm permits and the service supports. */
export function chooseSessionEnctype(requestedEnctypes: readonly number[], supported: readonly number[], policy: RealmPolicy): number | undefined {
  return requestedEnctypes.find((e) => isPermittedEnctype(e, policy) && supported.includes(e));
}

/**
 * The key a ticket is encrypted in (not affected by the request's etype list,
 * RFC 4120 §3.1.3): the service's current kvno, in the realm's order of preference.
 */
export function chooseTicketKey(keys: readonly StoredKey[], policy: RealmPolicy): StoredKey | undefined {
  const current = currentKeys(keys);
  for (const enctype of policy.permittedEnctypes) {
    if (!isPermittedEnctype(enctype, policy)) continue;
    const key = current.find((k) => k.enctype === enctype);
    if (key !== undefined) return key;
  }
  return undefined;
}
