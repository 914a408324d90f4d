/**
 * Building keytab entries: from a key in hand, or from a password through the
 * crypto module's string-to-key (what `ktutil addent -password` does). The
 * timestamp comes from the injected clock.
 */

import type { Clock } from '../core/clock.js';
import { InvalidArgumentError } from '../core/errors.js';
import { stringToKey } from '../crypto/index.js';
import { defaultSalt, type KeytabEntry } from './keytab.js';
import type { Principal } from './principal.js';

function checkKvno(kvno: number): void {
  if (!Number.isInteger(kvno) || kvno < 0 || kvno > 0xffffffff) {
    throw new InvalidArgumentError(`kvno ${kvno} is not an unsigned 32-bit integer`);
  }
}

/** An entry for a key in hand (`ktutil addent -key`). */
export function keytabEntryFromKey(options: {
  principal: Principal;
  kvno: number;
  key: { enctype: number; keyvalue: Uint8Array };
  clock: Clock;
}): KeytabEntry {
  checkKvno(options.kvno);
  return {
    principal: options.principal,
    timestamp: new Date(Math.floor(options.clock.now() / 1000) * 1000),
    kvno: options.kvno,
    enctype: options.key.enctype,
    key: options.key.keyvalue.slice(),
  };
}

/**
 * One entry per enctype, keys derived from `password` (`ktutil addent
 * -password`). The salt defaults to MIT's: the realm followed by the name
 * components. `s2kParams` are PA-ETYPE-INFO2 s2kparams when the KDC uses
 * non-default ones. Weak enctypes need `allowWeak`.
 */
export async function keytabEntriesFromPassword(options: {
  principal: Principal;
  password: string | Uint8Array;
  kvno: number;
  enctypes: readonly number[];
  clock: Clock;
  salt?: string | Uint8Array;
  s2kParams?: Uint8Array;
  allowWeak?: boolean;
}): Promise<KeytabEntry[]> {
  checkKvno(options.kvno);
  const salt = options.salt ?? defaultSalt(options.principal);
  const entries: KeytabEntry[] = [];
  for (const enctype of options.enctypes) {
    const key = await stringToKey(enctype, options.password, salt, options.s2kParams, { allowWeak: options.allowWeak ?? false });
    entries.push(keytabEntryFromKey({ principal: options.principal, kvno: options.kvno, key, clock: options.clock }));
  }
  return entries;
}
