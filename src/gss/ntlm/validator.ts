/**
 * Who checks an NTLMv2 response (MS-NLMP §3.2.5.1.2). The acceptor never
 * needs the user's NT hash itself: it hands the CHALLENGE it sent and the
 * AUTHENTICATE it received to an `NtlmValidator`, which answers with the
 * user's identity and the SessionBaseKey (the role Netlogon pass-through
 * plays for IIS, docs/ntlm.md "Validation"). The acceptor then derives the
 * exported session key and checks the MIC and channel bindings itself.
 *
 * Two validators exist: `localNtlmValidator` (a table of NT credentials, for
 * tests and single-host setups) and the pass-through client that asks the
 * KDC host (gss/ntlm/passthrough.ts).
 */

import { decodeAuthenticate, decodeChallenge, ntlmAccountName, type DecodedAuthenticateMessage } from './messages.js';
import { ntowfv2, verifyNtlmv2Response, type NtlmSecret } from './crypto.js';
import { NtlmLogonFailureError, NtlmNegotiationError } from './errors.js';

export interface NtlmValidationRequest {
  /** The CHALLENGE message exactly as the acceptor sent it. */
  readonly challenge: Uint8Array;
  /** The AUTHENTICATE message exactly as received. */
  readonly authenticate: Uint8Array;
  /** The acceptor's own principal, e.g. 'HTTP/www.example.test@EXAMPLE.TEST' (for logs and MsvAvTargetName). */
  readonly service: string;
}

export interface NtlmValidationResult {
  /** The user and domain names as the client sent them. */
  readonly user: string;
  readonly domain: string;
  /** The Kerberos principal the user maps to, e.g. 'alice@EXAMPLE.TEST'. */
  readonly principal: string;
  /** SessionBaseKey (§3.3.2), from which the acceptor derives the exported session key. Never logged. */
  readonly sessionBaseKey: Uint8Array;
}

export interface NtlmValidator {
  /**
   * Verifies the NTLMv2 response. Throws NtlmLogonFailureError for an unknown
   * user or a wrong password (one error to the client; the cause is in its
   * detail for the log), NtlmAccountRestrictionError for a disabled, locked
   * or NTLM-disabled account, and GssUnavailableError when the validator
   * cannot be reached.
   */
  validate(request: NtlmValidationRequest): Promise<NtlmValidationResult>;
}

/** One entry of a local NTLM credential table. */
export interface LocalNtlmAccount {
  /** The principal the account maps to, e.g. 'alice@EXAMPLE.TEST'. */
  readonly principal: string;
  readonly secret: NtlmSecret;
}

/**
 * The NTLMv2 check proper, shared by every validator: decodes both messages,
 * recomputes NTProofStr with the account's key and returns the
 * SessionBaseKey. `lookup` returns undefined for an unknown user.
 */
export function verifyAuthenticateWith(
  request: NtlmValidationRequest,
  lookup: (user: string, domain: string) => LocalNtlmAccount | undefined,
): { message: DecodedAuthenticateMessage; account: LocalNtlmAccount; sessionBaseKey: Uint8Array } {
  const message = decodeAuthenticate(request.authenticate);
  if (message.ntlmv2 === undefined) {
    throw new NtlmNegotiationError('anonymous NTLM authentication is not accepted', { hint: 'the client sent an empty NT response; configure it with credentials' });
  }
  const who = ntlmAccountName(message.user, message.domain);
  const account = lookup(message.user, message.domain);
  if (account === undefined) {
    throw new NtlmLogonFailureError(`NTLM logon failed for ${who}: unknown user name or bad password`, {
      hint: 'the user is not known to this validator or has no NTLM credential (NTLM must be enabled for the realm and the principal)',
      detail: { user: message.user, domain: message.domain, cause: 'unknown_user' },
    });
  }
  const serverChallenge = decodeChallenge(request.challenge).serverChallenge;
  const key = ntowfv2(account.secret, message.user, message.domain);
  let sessionBaseKey: Uint8Array;
  try {
    sessionBaseKey = verifyNtlmv2Response(key, serverChallenge, message.ntlmv2.ntProofStr, message.ntlmv2.blob);
  } catch {
    throw new NtlmLogonFailureError(`NTLM logon failed for ${who}: unknown user name or bad password`, {
      hint: 'wrong password or NT hash, or the client used another user or domain name than the one it was registered under',
      detail: { user: message.user, domain: message.domain, principal: account.principal, cause: 'bad_password' },
    });
  }
  return { message, account, sessionBaseKey };
}

/**
 * A validator over a fixed table keyed by user name (case-insensitive, as
 * Windows compares account names); the domain is not compared, so a table
 * serves one realm.
 */
export function localNtlmValidator(accounts: Readonly<Record<string, LocalNtlmAccount>>): NtlmValidator {
  const byUser = new Map<string, LocalNtlmAccount>();
  for (const [user, account] of Object.entries(accounts)) byUser.set(user.toUpperCase(), account);
  return {
    async validate(request) {
      const { message, account, sessionBaseKey } = verifyAuthenticateWith(request, (user) => byUser.get(user.toUpperCase()));
      return { user: message.user, domain: message.domain, principal: account.principal, sessionBaseKey };
    },
  };
}
