/**
 * What the AS and TGS exchanges share: the per-request context the processor
 * hands them, the record they fill in for the 'kdc.request' event, principal
 * lookups by PrincipalName, and the ticket / reply encryption steps.
 */

import type { RandomSource } from '../core/random.js';
import { encrypt, KeyUsage, type Key } from '../crypto/index.js';
import {
  EncTicketPart, ErrorCode, LastReqType, NameType, principalNameToString, type EncryptedData, type PrincipalName, type Ticket,
} from '../messages/index.js';
import type { PrincipalRecord, StoredKey } from '../store/index.js';
import type { RealmPolicy } from './config.js';
import { chooseSessionEnctype, chooseTicketKey, serviceEnctypes } from './policy.js';
import { KdcRequestError } from './errors.js';
import type { KeyProtector } from './keys.js';
import type { LockoutGate } from './lockout.js';
import type { PreauthRegistry } from './preauth.js';
import type { ReplayCache } from '../store/index.js';
import type { KdcPeer } from './transport.js';

/** Where the exchanges read principals: the store itself or its cache (only `get` is used). */
export interface PrincipalLookup {
  get(name: string): Promise<PrincipalRecord | undefined>;
}

/** Facts about one request, for the 'kdc.request' event; filled in as they are learned. Never secrets. */
export interface RequestLog {
  exchange?: 'AS' | 'TGS';
  client?: string;
  service?: string;
  /** Enctype of the issued ticket's session key. */
  sessionEnctype?: number;
  /** Enctype of the key the ticket is encrypted in. */
  ticketEnctype?: number;
  /** Enctype of the AS reply key. */
  replyEnctype?: number;
  preauth?: string;
  /** Option names such as 'renew', 'forwarded' that shaped the ticket. */
  options?: string[];
  /** ad-types of client-supplied authorization data left out of the ticket (authdata.ts). */
  droppedAuthorizationData?: number[];
}

export interface ExchangeContext {
  readonly realm: string;
  readonly policy: RealmPolicy;
  readonly random: RandomSource;
  /** KDC time in ms, truncated to whole seconds (authtime, starttime, stime). */
  readonly now: number;
  /** The microseconds part of the KDC time (susec). */
  readonly usec: number;
  readonly principals: PrincipalLookup;
  readonly keys: KeyProtector;
  readonly preauth: PreauthRegistry;
  readonly lockout: LockoutGate | undefined;
  readonly replay: ReplayCache;
  /** Who sent the request (lockout counts failures per source address). */
  readonly peer?: KdcPeer;
  readonly log: RequestLog;
  /** The request as received (PKINIT's RFC 8636 key derivation covers it). */
  readonly rawRequest?: Uint8Array;
}

/** The realm's ticket-granting service: krbtgt/REALM@REALM. */
export function tgsName(realm: string): PrincipalName {
  return { nameType: NameType.NT_SRV_INST, nameString: ['krbtgt', realm] };
}

export function isTgsName(name: PrincipalName, realm: string): boolean {
  return name.nameString.length === 2 && name.nameString[0] === 'krbtgt' && name.nameString[1] === realm;
}

/** The store name of a principal ('a/b@REALM'); name types are ignored in comparisons (RFC 4120 §6.2). */
export function storeName(name: PrincipalName, realm: string): string {
  return principalNameToString(name, realm);
}

/**
 * Looks up a service by name. A host-based name (two components, e.g.
 * HTTP/Host.Example) that is not found as sent is retried with the host in
 * lower case, since DNS names are case-insensitive and keytabs hold them in
 * lower case. Returns the record and the name it was found under.
 */
export async function lookupService(
  ctx: ExchangeContext, sname: PrincipalName, realm: string,
): Promise<{ record: PrincipalRecord; name: PrincipalName } | undefined> {
  const exact = await ctx.principals.get(storeName(sname, realm));
  if (exact !== undefined) return { record: exact, name: sname };
  const [service, host, ...rest] = sname.nameString;
  if (service === undefined || host === undefined || rest.length > 0 || service === 'krbtgt') return undefined;
  const lower = host.toLowerCase();
  if (lower === host) return undefined;
  const name: PrincipalName = { nameType: sname.nameType, nameString: [service, lower] };
  const record = await ctx.principals.get(storeName(name, realm));
  return record === undefined ? undefined : { record, name };
}

/** RFC 4120 §3.1.3 / §3.3.3: refusals that depend only on the server's record. */
export function checkServer(server: PrincipalRecord, now: number): void {
  const serviceName = server.name;
  if (server.disabled) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN, 'Server not found in Kerberos database', {
      reason: `service ${serviceName} is disabled`,
    });
  }
  // MIT DISALLOW_SVR, the default for password (user) principals: tickets sealed in a user's password key
  // would let any TGT holder guess the password offline (Kerberoasting). The code is MIT's
  // (tgs_policy.c check_tgs_svc_deny_all; validate_as_request in AS).
  if (!server.allowService) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_MUST_USE_USER2USER, 'Server principal valid for user2user only', {
      reason: `${serviceName} may not be the server of a ticket (allowService is off: a user principal; make it a service with principal modify --allow-svr)`,
    });
  }
  if (server.principalExpiry !== undefined && now >= server.principalExpiry) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_SERVICE_EXP, 'Server\'s entry in database has expired', {
      reason: `service ${serviceName} expired at ${new Date(server.principalExpiry).toISOString()}`,
    });
  }
}

/** Encrypts an EncTicketPart in the service key (usage 2) into a Ticket. */
export function sealTicket(
  ctx: ExchangeContext, realm: string, sname: PrincipalName, part: EncTicketPart, serviceKey: StoredKey, serviceName: string,
): Ticket {
  const key = ctx.keys.open(serviceKey, serviceName);
  const encPart: EncryptedData = {
    etype: serviceKey.enctype,
    kvno: serviceKey.kvno,
    cipher: encrypt(key, KeyUsage.KDC_REP_TICKET, EncTicketPart.encode(part), ctx.random),
  };
  return { tktVno: 5, realm, sname, encPart };
}

/** Encrypts a reply part (EncASRepPart / EncTGSRepPart bytes) with `key` and `usage`. */
export function sealReply(ctx: ExchangeContext, key: Key, usage: number, plaintext: Uint8Array, kvno?: number): EncryptedData {
  return { etype: key.enctype, ...(kvno === undefined ? {} : { kvno }), cipher: encrypt(key, usage, plaintext, ctx.random) };
}

/** RFC 4120 §3.3.3.2: a local ticket has an empty DOMAIN-X500-COMPRESS transited field. */
export const EMPTY_TRANSITED = Object.freeze({ trType: 1, contents: new Uint8Array(0) });

/**
 * RFC 4120 §5.4.2 last-req: the password expiry when there is one (MIT kinit
 * then warns "Your password will expire …"), else one entry of type 0 at
 * time 0, as MIT sends.
 */
export function lastReq(passwordExpiry?: number): { lrType: number; lrValue: Date }[] {
  return passwordExpiry === undefined
    ? [{ lrType: LastReqType.NONE, lrValue: new Date(0) }]
    : [{ lrType: LastReqType.PASSWORD_EXPIRATION, lrValue: new Date(passwordExpiry) }];
}

/**
 * The session key enctype (the client's first choice the realm permits and the
 * service supports) and the service key the ticket is encrypted in; both AS
 * and TGS refuse with KDC_ERR_ETYPE_NOSUPP when either is missing.
 */
export function chooseTicketEncryption(
  requestedEnctypes: readonly number[], server: PrincipalRecord, policy: RealmPolicy,
): { readonly sessionEnctype: number; readonly ticketKey: StoredKey } {
  const sessionEnctype = chooseSessionEnctype(requestedEnctypes, serviceEnctypes(server), policy);
  const ticketKey = chooseTicketKey(server.keys, policy);
  if (sessionEnctype === undefined || ticketKey === undefined) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_ETYPE_NOSUPP, 'KDC has no support for encryption type', {
      reason: sessionEnctype === undefined
        ? `no requested enctype (${requestedEnctypes.join(', ')}) is supported by ${server.name} and permitted by the realm`
        : `${server.name} has no current key in an enctype the realm permits`,
    });
  }
  return { sessionEnctype, ticketKey };
}
