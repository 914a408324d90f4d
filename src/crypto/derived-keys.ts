/**
 * A memo of per-usage keys (RFC 3961 §5.3 Kc/Ke/Ki, RFC 8009 §5) for each
 * base key. Deriving them costs a cipher key schedule and several block
 * encryptions (or HMACs) per message, while a KDC or a GSS context uses the
 * same few keys and usages over and over.
 *
 * Entries hang off the caller's key array in a WeakMap, so they go when the
 * key does; there is no global table to size or clear. Each entry keeps a copy
 * of the base key bytes and is checked against the array before every use: an
 * array that has since been wiped or overwritten gets fresh derivations,
 * never stale ones. One cache per enctype family, so the same bytes used as
 * keys of two enctypes never share derivations.
 */

import { bytesEqual } from '../core/bytes.js';

/** More distinct (usage, purpose) pairs than any protocol uses per key; past it the entry starts over. */
const MAX_DERIVED_PER_KEY = 64;

interface Entry<S> {
  /** Copy of the base key bytes the derivations were made from. */
  readonly base: Uint8Array;
  /** The base key's cipher schedule (or whatever the family derives with), made on first use. */
  schedule: S | undefined;
  readonly derived: Map<number, Uint8Array>;
}

export class DerivedKeyCache<S> {
  readonly #entries = new WeakMap<Uint8Array, Entry<S>>();
  readonly #schedule: (key: Uint8Array) => S;
  readonly #derive: (schedule: S, key: Uint8Array, usage: number, purpose: number) => Uint8Array;

  /**
   * `schedule` prepares the base key once (e.g. an AES block encryptor);
   * `derive` makes the key for one usage and purpose (KC, KE or KI octet).
   */
  constructor(
    schedule: (key: Uint8Array) => S,
    derive: (schedule: S, key: Uint8Array, usage: number, purpose: number) => Uint8Array,
  ) {
    this.#schedule = schedule;
    this.#derive = derive;
  }

  /** The derived key for `usage` (unsigned 32-bit) and `purpose` (one octet). Callers must not modify it. */
  get(key: Uint8Array, usage: number, purpose: number): Uint8Array {
    let entry = this.#entries.get(key);
    // Not constant-time: it compares the caller's key with its own earlier copy, nothing a peer controls.
    if (entry === undefined || !bytesEqual(entry.base, key)) {
      entry = { base: new Uint8Array(key), schedule: undefined, derived: new Map() };
      this.#entries.set(key, entry);
    }
    const slot = usage * 256 + purpose; // exact: below 2^40
    let derived = entry.derived.get(slot);
    if (derived === undefined) {
      entry.schedule ??= this.#schedule(entry.base);
      derived = this.#derive(entry.schedule, entry.base, usage, purpose);
      if (entry.derived.size >= MAX_DERIVED_PER_KEY) entry.derived.clear();
      entry.derived.set(slot, derived);
    }
    return derived;
  }
}
