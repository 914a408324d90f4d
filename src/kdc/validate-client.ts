/**
 * The client checks both exchanges share (MIT src/kdc/kdc_util.c
 * validate_as_request, src/kdc/tgs_policy.c validate_tgs_request; Heimdal
 * kdc/kerberos5.c kdc_check_flags, which both of its exchanges call). A TGT
 * is only as good as its client's record: a client deleted, disabled,
 * expired or locked out after its AS exchange gets no more service tickets
 * or renewals.
 *
 *   check             AS                       TGS (local client)
 *   deleted           C_PRINCIPAL_UNKNOWN (6)  C_PRINCIPAL_UNKNOWN (6)
 *   expired entry     NAME_EXP (1)             NAME_EXP (1)
 *   password expired  KEY_EXPIRED (23)         KEY_EXPIRED (23)
 *   must change pw    KEY_EXPIRED (23)         KEY_EXPIRED (23)
 *   disabled / no tix CLIENT_REVOKED (18)      CLIENT_REVOKED (18)
 *   locked out        CLIENT_REVOKED (18)      CLIENT_REVOKED (18)
 *
 * Password expiry is checked in TGS too, as Heimdal's kdc_check_flags does
 * (MIT's validate_tgs_request does not): an administrator who expires a
 * password, for example after a compromise, means every TGT of it to stop
 * working now, not at its end time. In both exchanges a ticket for the
 * password-changing service is still issued, so the user can change it.
 *
 * A client of another realm (a cross-realm TGT) is not in our database and
 * is not looked up: its own realm vouches for it.
 */

import { ErrorCode } from '../messages/index.js';
import type { PrincipalRecord } from '../store/index.js';
import { KdcRequestError } from './errors.js';
import type { ExchangeContext } from './exchange.js';

export type ClientExchange =
  | { readonly exchange: 'AS'; readonly server: PrincipalRecord }
  | { readonly exchange: 'TGS' };

/** The record checks, in MIT validate_as_request's order (expiry before revocation); TGS checks the password later (checkClientPassword). */
export function checkClientRecord(client: PrincipalRecord, now: number, use: ClientExchange): void {
  if (client.principalExpiry !== undefined && now >= client.principalExpiry) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_NAME_EXP, 'Client\'s entry in database has expired', {
      reason: `${client.name} expired at ${new Date(client.principalExpiry).toISOString()}`,
    });
  }
  if (use.exchange === 'AS') checkClientPassword(client, now, use.server);
  if (client.disabled || !client.allowTickets) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_CLIENT_REVOKED, 'Client\'s credentials have been revoked', {
      reason: `${client.name} is ${client.disabled ? 'disabled' : 'not allowed to obtain tickets (allowTickets is off)'}`,
    });
  }
}

/**
 * KDC_ERR_KEY_EXPIRED for an expired password or one that must be changed,
 * unless the ticket is for the password-changing service. TGS calls it once
 * the server is known.
 */
export function checkClientPassword(client: PrincipalRecord, now: number, server: PrincipalRecord): void {
  if (server.passwordChangeService) return;
  if (client.passwordExpiry !== undefined && now >= client.passwordExpiry) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_KEY_EXPIRED, 'Password has expired; change password to reset', {
      reason: `the password of ${client.name} expired at ${new Date(client.passwordExpiry).toISOString()}`,
    });
  }
  if (client.requiresPasswordChange) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_KEY_EXPIRED, 'Password has expired; change password to reset', {
      reason: `${client.name} must change its password first (requiresPasswordChange)`,
    });
  }
}

/** The client's record, or KDC_ERR_C_PRINCIPAL_UNKNOWN (AS: the requested name; TGS: the TGT's client). */
export async function requireClient(ctx: ExchangeContext, name: string, reason: string): Promise<PrincipalRecord> {
  const client = await ctx.principals.get(name);
  if (client === undefined) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN, 'Client not found in Kerberos database', { reason });
  }
  return client;
}

/**
 * TGS: the record of the TGT's client when it is of this realm (undefined for
 * a foreign client), after the record and lockout checks.
 */
export async function validateTgsClient(
  ctx: ExchangeContext, clientName: string, clientRealm: string,
): Promise<PrincipalRecord | undefined> {
  if (clientRealm !== ctx.realm) return undefined;
  const client = await requireClient(ctx, clientName, `${clientName} presented a TGT but is no longer in the database (deleted after its AS exchange)`);
  checkClientRecord(client, ctx.now, { exchange: 'TGS' });
  // Throws KDC_ERR_CLIENT_REVOKED while locked (lockout.ts); TGS only reads the state, it never counts.
  if (ctx.lockout !== undefined) await ctx.lockout.check(client.name, ctx.now);
  return client;
}
