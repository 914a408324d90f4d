/**
 * Per-message sequence checking (RFC 2743 §1.2.3): replay detection over a
 * 64-token window and, with the sequence flag, out-of-order and gap
 * reporting — the model of MIT's util_seqstate.c, with one difference: a
 * token older than the window is refused (OLD_TOKEN) whenever replay
 * detection is on, since it can no longer be checked for replay.
 *
 * Numbers are the 64-bit SND_SEQ of RFC 4121 tokens, relative to the peer's
 * initial sequence number.
 */

const MASK = (1n << 64n) - 1n;
const WINDOW = 64n;

export type SequenceVerdict = 'ok' | 'gap' | 'unseq' | 'duplicate' | 'old';

export class SequenceWindow {
  readonly #base: bigint;
  readonly #replay: boolean;
  readonly #sequence: boolean;
  /** Next expected number, relative to the base. */
  #next = 0n;
  /** Bit i set: number next-1-i was received. */
  #seen = 0n;

  constructor(base: number | bigint, options: { readonly replay: boolean; readonly sequence: boolean }) {
    this.#base = BigInt(base) & MASK;
    this.#replay = options.replay;
    this.#sequence = options.sequence;
  }

  /**
   * Classifies `seq` and records it. Call only after the token's integrity
   * was verified, so forged numbers cannot move the window.
   */
  check(seq: bigint): SequenceVerdict {
    if (!this.#replay && !this.#sequence) return 'ok';
    const rel = (seq - this.#base) & MASK;
    if (rel === this.#next) {
      this.#seen = ((this.#seen << 1n) | 1n) & MASK;
      this.#next = (rel + 1n) & MASK;
      return 'ok';
    }
    if (rel > this.#next) {
      const offset = rel - this.#next;
      this.#seen = offset + 1n >= WINDOW ? 1n : ((this.#seen << (offset + 1n)) | 1n) & MASK;
      this.#next = (rel + 1n) & MASK;
      return this.#sequence ? 'gap' : 'ok';
    }
    const offset = this.#next - rel;
    if (offset > WINDOW) {
      if (this.#replay) return 'old';
      return this.#sequence ? 'unseq' : 'ok';
    }
    const bit = 1n << (offset - 1n);
    if (this.#replay && (this.#seen & bit) !== 0n) return 'duplicate';
    this.#seen |= bit;
    return this.#sequence ? 'unseq' : 'ok';
  }
}
