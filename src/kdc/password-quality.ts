/**
 * Password quality, with the names and meanings of MIT's kadm5 password
 * policies (kadmin add_policy -minlength -minclasses -history; MIT
 * src/lib/kadm5/srv/server_misc.c passwd_check and svr_principal.c
 * check_pw_reuse), applied realm-wide by realmAdmin when a password is set:
 *
 *   minlength   fewest characters (Unicode code points; MIT counts bytes,
 *               which is the same for ASCII)
 *   minclasses  fewest character classes among: lower case, upper case,
 *               digits, punctuation, other (space, non-ASCII, control)
 *   history     number of key versions — the current one included — whose
 *               password may not be set again; 1 = not the current password.
 *               Old passwords are recognised by deriving keys from the new
 *               password with each kept key's own salt and comparing in
 *               constant time, so history reaches only as far back as the
 *               old kvnos the store still holds (set-password keeps them
 *               unless --purge-old).
 *
 * A refusal names the rule and never the password.
 */

import { constantTimeEqual } from '../core/bytes.js';
import { InvalidArgumentError, KerbsideError } from '../core/errors.js';
import { stringToKey } from '../crypto/index.js';
import type { PrincipalRecord, StoredKey } from '../store/index.js';
import { saltOf, type KeyProtector } from './keys.js';

export interface PasswordQualityPolicy {
  readonly minLength: number;
  readonly minClasses: number;
  readonly history: number;
}

export type PasswordRule = 'minlength' | 'minclasses' | 'history';

/** A new password the realm's policy refuses; `rule` is the MIT policy name that failed. */
export class PasswordQualityError extends KerbsideError {
  static override readonly code: string = 'ERR_PASSWORD_QUALITY';
  readonly rule: PasswordRule;

  constructor(rule: PasswordRule, message: string, hint: string) {
    super(message, { hint, detail: { rule } });
    this.rule = rule;
  }
}

/** What `kerbside realm init` writes: NIST SP 800-63B's 8-character minimum, two classes, no reuse of the current password. */
export const DEFAULT_PASSWORD_QUALITY: PasswordQualityPolicy = Object.freeze({ minLength: 8, minClasses: 2, history: 1 });

/** MIT limits: minclasses 1..5, history at least 1. */
export function checkPasswordQualityPolicy(p: PasswordQualityPolicy): PasswordQualityPolicy {
  const whole = (name: string, v: number, min: number, max: number): void => {
    if (!Number.isSafeInteger(v) || v < min || v > max) {
      throw new InvalidArgumentError(`password policy ${name} must be a whole number from ${min} to ${max}, not ${String(v)}`);
    }
  };
  whole('minlength', p.minLength, 0, 1024);
  whole('minclasses', p.minClasses, 1, 5);
  whole('history', p.history, 1, 100);
  return p;
}

const CLASS_NAMES = ['lower case', 'upper case', 'digits', 'punctuation', 'other (space, non-ASCII)'] as const;

/** How many of MIT's five character classes the password uses. */
export function characterClasses(password: string): number {
  const seen = new Set<number>();
  for (const ch of password) {
    if (/^[a-z]$/.test(ch)) seen.add(0);
    else if (/^[A-Z]$/.test(ch)) seen.add(1);
    else if (/^[0-9]$/.test(ch)) seen.add(2);
    else if (/^[!-/:-@[-`{-~]$/.test(ch)) seen.add(3);
    else seen.add(4);
  }
  return seen.size;
}

/** minlength and minclasses (MIT passwd_check). */
export function checkPasswordStrength(policy: PasswordQualityPolicy, principal: string, password: string): void {
  const length = [...password].length;
  if (length < policy.minLength) {
    throw new PasswordQualityError('minlength',
      `the new password for ${principal} is refused by the realm's password policy (minlength): it is shorter than ${policy.minLength} characters`,
      'choose a longer password; a passphrase of several words is easiest to remember');
  }
  if (characterClasses(password) < policy.minClasses) {
    throw new PasswordQualityError('minclasses',
      `the new password for ${principal} is refused by the realm's password policy (minclasses): it uses fewer than ${policy.minClasses} of the character classes ${CLASS_NAMES.join(', ')}`,
      'mix in characters of another class, e.g. a digit or a punctuation mark');
  }
}

/** history (MIT check_pw_reuse): the password of none of the newest `history` kvnos may come back. */
export async function checkPasswordHistory(
  policy: PasswordQualityPolicy, record: PrincipalRecord, password: string, keys: KeyProtector, options: { allowWeak: boolean },
): Promise<void> {
  const kvnos = [...new Set(record.keys.map((k) => k.kvno))].sort((a, b) => b - a).slice(0, policy.history);
  for (const kvno of kvnos) {
    // One key per version is enough: every key of a version comes from the same password.
    const stored: StoredKey | undefined = record.keys.find((k) => k.kvno === kvno);
    if (stored === undefined) continue;
    let derived: Uint8Array;
    try {
      derived = (await stringToKey(stored.enctype, password, saltOf(stored, record.name), stored.s2kparams, options)).keyvalue;
    } catch {
      continue; // an enctype we cannot derive (weak crypto off): nothing to compare with
    }
    const old = keys.open(stored, record.name).keyvalue;
    if (derived.length === old.length && constantTimeEqual(derived, old)) {
      throw new PasswordQualityError('history',
        `the new password for ${record.name} is refused by the realm's password policy (history): it was the password of one of the last ${policy.history} key versions`,
        'choose a password this principal has not had recently');
    }
  }
}
