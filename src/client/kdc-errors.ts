/**
 * KRB-ERROR replies (RFC 4120 §5.9.1, codes §7.5.9) turned into typed errors
 * that name the principal, the service and the likely fix. `mitMessage` gives
 * the short text MIT's com_err prints for the same code, for the CLIs.
 */

import { KerbsideError } from '../core/errors.js';
import { FileAccessError } from '../files/index.js';
import { ErrorCode, errorCodeName, type KrbError } from '../messages/index.js';
import {
  ClockSkewError, KdcError, KdcUnreachableError, NoCommonEnctypeError, PasswordIncorrectError, PrincipalUnknownError,
  RenewLimitReachedError, TicketExpiredError,
} from './errors.js';

export interface KrbErrorContext {
  /** Client principal, as text. */
  readonly client: string;
  /** Service principal asked for, as text. */
  readonly service: string;
  /** 'password' | 'keytab' | 'ticket' (what proved the client's identity). */
  readonly credential: 'password' | 'keytab' | 'key' | 'ticket';
  readonly renewing?: boolean;
  /** Local time at which the error arrived, ms (for skew). */
  readonly localTime?: number;
}

/** MIT's error-table text for Kerberos protocol codes (krb5_err.et), the ones users meet. */
const MIT_TEXT: Readonly<Record<number, string>> = Object.freeze(Object.assign(Object.create(null) as Record<number, string>, {
  [ErrorCode.KDC_ERR_NAME_EXP]: "Client's entry in database has expired",
  [ErrorCode.KDC_ERR_SERVICE_EXP]: "Server's entry in database has expired",
  [ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN]: 'Client not found in Kerberos database',
  [ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN]: 'Server not found in Kerberos database',
  [ErrorCode.KDC_ERR_POLICY]: 'KDC policy rejects request',
  [ErrorCode.KDC_ERR_CANNOT_POSTDATE]: 'Ticket is ineligible for postdating',
  [ErrorCode.KDC_ERR_BADOPTION]: "KDC can't fulfill requested option",
  [ErrorCode.KDC_ERR_ETYPE_NOSUPP]: 'KDC has no support for encryption type',
  [ErrorCode.KDC_ERR_CLIENT_REVOKED]: "Client's credentials have been revoked",
  [ErrorCode.KDC_ERR_SERVICE_REVOKED]: 'Credentials for server have been revoked',
  [ErrorCode.KDC_ERR_TGT_REVOKED]: 'TGT has been revoked',
  [ErrorCode.KDC_ERR_CLIENT_NOTYET]: 'Client not yet valid - try again later',
  [ErrorCode.KDC_ERR_KEY_EXPIRED]: 'Password has expired',
  [ErrorCode.KDC_ERR_PREAUTH_FAILED]: 'Password incorrect',
  [ErrorCode.KDC_ERR_PREAUTH_REQUIRED]: 'Additional pre-authentication required',
  [ErrorCode.KDC_ERR_SVC_UNAVAILABLE]: 'A service is not available that is required to process the request',
  [ErrorCode.KRB_AP_ERR_BAD_INTEGRITY]: 'Decrypt integrity check failed',
  [ErrorCode.KRB_AP_ERR_TKT_EXPIRED]: 'Ticket expired',
  [ErrorCode.KRB_AP_ERR_TKT_NYV]: 'Ticket not yet valid',
  [ErrorCode.KRB_AP_ERR_REPEAT]: 'Request is a replay',
  [ErrorCode.KRB_AP_ERR_SKEW]: 'Clock skew too great',
  [ErrorCode.KRB_AP_ERR_MODIFIED]: 'Message stream modified',
  [ErrorCode.KRB_AP_ERR_BADKEYVER]: 'Key version is not available',
  [ErrorCode.KRB_ERR_GENERIC]: 'Generic error (see e-text)',
  [ErrorCode.KDC_ERR_WRONG_REALM]: 'Wrong realm',
}));

export function mitErrorText(krbCode: number): string {
  return MIT_TEXT[krbCode] ?? `${errorCodeName(krbCode)} (${krbCode})`;
}

/**
 * The one-line message MIT's tools would print for `err` ("Password
 * incorrect", "Cannot contact any KDC for realm 'R'"), for CLIs that keep
 * MIT's wording; kerbside's own message is used when MIT has no equivalent.
 */
export function mitStyleMessage(err: unknown): string {
  if (err instanceof FileAccessError && err.errno === 'ENOENT') {
    if (err.message.startsWith('credential cache')) return `No credentials cache found (filename: ${err.path})`;
    if (err.message.startsWith('keytab')) return `Key table file '${err.path}' not found`;
  }
  if (err instanceof KdcUnreachableError) return `Cannot contact any KDC for realm '${String(err.detail['realm'] ?? '')}'`;
  if (err instanceof PrincipalUnknownError) return err.message;
  if (err instanceof KerbsideError && err.krbCode !== undefined && MIT_TEXT[err.krbCode] !== undefined) return MIT_TEXT[err.krbCode]!;
  return err instanceof Error ? err.message : String(err);
}

/**
 * A CLI failure the way MIT's com_err prints it ("kinit: Password incorrect
 * while getting initial credentials"), followed by kerbside's hint.
 */
export function comErr(program: string, err: unknown, during?: string): string {
  const line = `${program}: ${mitStyleMessage(err)}${during === undefined ? '' : ` while ${during}`}`;
  const hint = err instanceof KerbsideError ? err.hint : undefined;
  return hint === undefined ? line : `${line}
  hint: ${hint}`;
}

/** Signed offset KDC − local in ms measured from a KRB-ERROR's stime/susec. */
export function measuredOffset(e: KrbError, localTime: number): number {
  return e.stime.getTime() + Math.floor(e.susec / 1000) - localTime;
}

export function formatOffset(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${s % 60}s`;
  return `${ms < 0 ? '-' : '+'}${parts}`;
}

export function errorFromKrbError(e: KrbError, ctx: KrbErrorContext): KerbsideError {
  const code = e.errorCode;
  const detail = {
    client: ctx.client, service: ctx.service, realm: e.realm, krbError: errorCodeName(code),
    ...(e.eText !== undefined ? { eText: e.eText } : {}),
  };
  const options = { krbCode: code, detail };
  const etext = e.eText !== undefined && e.eText !== '' ? ` (KDC says: ${e.eText})` : '';
  switch (code) {
    case ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN:
      return new PrincipalUnknownError(`Client '${ctx.client}' not found in Kerberos database`, {
        ...options, hint: `check the spelling and the realm of ${ctx.client}, or create it on the KDC`,
      });
    case ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN:
      return new PrincipalUnknownError(`Server ${ctx.service} not found in Kerberos database`, {
        ...options, hint: `create the service principal ${ctx.service} on the KDC (and its keytab on the server), or check the host name`,
      });
    case ErrorCode.KDC_ERR_PREAUTH_FAILED:
      return passwordIncorrect(ctx, code, detail);
    case ErrorCode.KDC_ERR_ETYPE_NOSUPP:
      return new NoCommonEnctypeError(`KDC has no support for any encryption type requested for ${ctx.client} → ${ctx.service}${etext}`, {
        ...options, hint: 'the client\'s permitted_enctypes and the keys the KDC holds for the principal share no enctype; add AES keys to the principal or permit its enctypes',
      });
    case ErrorCode.KRB_AP_ERR_SKEW: {
      const offset = ctx.localTime === undefined ? undefined : measuredOffset(e, ctx.localTime);
      return new ClockSkewError(
        `Clock skew too great between this host and the KDC of ${e.realm}${offset === undefined ? '' : ` (KDC is ${formatOffset(offset)} from here)`}`,
        { ...options, detail: { ...detail, ...(offset === undefined ? {} : { offsetSeconds: Math.round(offset / 1000) }) }, hint: 'check NTP on this host and on the KDC' },
      );
    }
    case ErrorCode.KRB_AP_ERR_TKT_EXPIRED:
      return new TicketExpiredError(`Ticket expired: the ticket ${ctx.client} presented to the KDC of ${e.realm} has expired`, {
        ...options, hint: `run kinit again for ${ctx.client} (or let its session re-acquire from a keytab)`,
      });
    case ErrorCode.KDC_ERR_BADOPTION:
      if (ctx.renewing === true) {
        return new RenewLimitReachedError(`the KDC refused to renew the ticket of ${ctx.client}${etext}`, {
          ...options, hint: 'the ticket is not renewable or its renew-till has passed; get a new one with kinit',
        });
      }
      break;
    default:
      break;
  }
  return new KdcError(`${MIT_TEXT[code] ?? 'KDC error'} (${errorCodeName(code)}) for ${ctx.client} → ${ctx.service}${etext}`, {
    ...options, hint: hintFor(code),
  });
}

export function passwordIncorrect(ctx: KrbErrorContext, krbCode: number, detail: Record<string, unknown>): PasswordIncorrectError {
  const keytab = ctx.credential === 'keytab' || ctx.credential === 'key';
  return new PasswordIncorrectError(`Password incorrect for ${ctx.client}${keytab ? ' (the keytab\'s key does not match the KDC\'s)' : ''}`, {
    krbCode, detail,
    hint: keytab
      ? `the keytab for ${ctx.client} is out of date (its key version or password changed on the KDC); export a new keytab`
      : `check the password of ${ctx.client} (and Caps Lock)`,
  });
}

function hintFor(code: number): string {
  switch (code) {
    case ErrorCode.KDC_ERR_KEY_EXPIRED: return 'change the password (kpasswd) and try again';
    case ErrorCode.KDC_ERR_CLIENT_REVOKED: return 'the principal is disabled or locked out on the KDC; ask an administrator';
    case ErrorCode.KDC_ERR_POLICY: return 'the KDC\'s policy forbids this request (ticket options, lifetime or principal flags)';
    case ErrorCode.KDC_ERR_WRONG_REALM: return 'referrals to other realms are not supported; name the realm explicitly';
    case ErrorCode.KRB_AP_ERR_MODIFIED: return 'the KDC could not decrypt the ticket: the KDC\'s key for krbtgt changed, or the ticket came from another KDC';
    default: return 'see the KDC log for details';
  }
}
