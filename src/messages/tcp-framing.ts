/**
 * RFC 4120 §7.2.2 TCP/IP Transport framing, sans-IO: each message is
 * preceded by its length as 4 octets in network byte order, whose high bit is
 * reserved and must be zero. A KDC that sees the high bit set, or a length it
 * will not buffer, answers KRB_ERR_FIELD_TOOLONG and closes the stream; both
 * errors carry that `krbCode`.
 */

import { KerbsideError } from '../core/errors.js';
import { ErrorCode } from './registries.js';

export const DEFAULT_MAX_FRAME_LENGTH = 1024 * 1024;

/** A malformed frame header (the reserved high bit is set). */
export class FrameError extends KerbsideError {
  static override readonly code: string = 'ERR_KRB_TCP_FRAME';
}

/** A frame longer than the decoder's `maxLength`. */
export class FrameTooLargeError extends FrameError {
  static override readonly code: string = 'ERR_KRB_TCP_FRAME_TOO_LARGE';
}

/** The 4-byte big-endian length followed by `msg`. */
export function encodeTcpFrame(msg: Uint8Array): Uint8Array {
  if (msg.length > 0x7fffffff) throw new RangeError('a Kerberos TCP frame holds at most 2^31-1 bytes');
  const out = new Uint8Array(4 + msg.length);
  new DataView(out.buffer).setUint32(0, msg.length);
  out.set(msg, 4);
  return out;
}

/**
 * Rebuilds frames from a byte stream split at arbitrary points. `push` returns
 * the frames completed by `chunk` (possibly none, possibly several). After it
 * throws, the stream is unusable: close the connection.
 */
export class TcpFrameDecoder {
  readonly maxLength: number;
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private failed: FrameError | undefined;

  constructor(opts: { maxLength?: number } = {}) {
    this.maxLength = opts.maxLength ?? DEFAULT_MAX_FRAME_LENGTH;
  }

  /** Bytes received but not yet part of a complete frame. */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed !== undefined) throw this.failed;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const length = this.peekLength();
      if (this.buffered < 4 + length) break;
      // A copy: the caller may reuse its read buffers.
      frames.push(this.take(4 + length).slice(4));
    }
    return frames;
  }

  private peekLength(): number {
    const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : this.take(4, false);
    const length = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
    if (length > 0x7fffffff) {
      this.failed = new FrameError('Kerberos TCP frame has the reserved high bit of its length set', {
        krbCode: ErrorCode.KRB_ERR_FIELD_TOOLONG,
        hint: 'the peer uses an unsupported extension or is not speaking Kerberos over TCP; close the connection',
        detail: { lengthField: length },
      });
      throw this.failed;
    }
    if (length > this.maxLength) {
      this.failed = new FrameTooLargeError(
        `Kerberos TCP frame announces ${length} bytes, more than the ${this.maxLength}-byte limit`,
        {
          krbCode: ErrorCode.KRB_ERR_FIELD_TOOLONG,
          hint: 'a legitimate request this large is unusual (huge PACs?); raise maxLength if expected, else close the connection',
          detail: { length, maxLength: this.maxLength },
        },
      );
      throw this.failed;
    }
    return length;
  }

  /** The first `n` buffered bytes as one array; consumed unless `consume` is false. */
  private take(n: number, consume = true): Uint8Array {
    const first = this.chunks[0]!;
    let out: Uint8Array;
    if (first.length >= n) {
      out = first.subarray(0, n);
    } else {
      out = new Uint8Array(n);
      let filled = 0;
      for (const c of this.chunks) {
        const part = c.subarray(0, n - filled);
        out.set(part, filled);
        filled += part.length;
        if (filled === n) break;
      }
    }
    if (consume) {
      // Drop whole chunks with one splice (a frame may arrive in thousands of tiny reads).
      let left = n;
      let whole = 0;
      while (whole < this.chunks.length && this.chunks[whole]!.length <= left) left -= this.chunks[whole++]!.length;
      this.chunks.splice(0, whole);
      if (left > 0) this.chunks[0] = this.chunks[0]!.subarray(left);
      this.buffered -= n;
    }
    return out;
  }
}
