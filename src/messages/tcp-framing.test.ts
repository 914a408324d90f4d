/** RFC 4120 §7.2.2 TCP framing, rebuilt from chunks split at every offset (the pg-protocol habit). */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concatBytes, fromHex } from '../core/bytes.js';
import { ErrorCode, FrameError, FrameTooLargeError, TcpFrameDecoder, encodeTcpFrame } from './index.js';

const A = fromHex('6a 03 02 01 05');
const B = new Uint8Array(300).map((_, i) => i & 0xff);
const EMPTY = new Uint8Array(0);
const STREAM = concatBytes(encodeTcpFrame(A), encodeTcpFrame(EMPTY), encodeTcpFrame(B));

test('encodeTcpFrame prefixes a 4-byte big-endian length', () => {
  assert.deepEqual(encodeTcpFrame(A), fromHex('00 00 00 05 6a 03 02 01 05'));
  assert.deepEqual(encodeTcpFrame(B).subarray(0, 4), fromHex('00 00 01 2c'));
});

test('frames split into two chunks at every offset are rebuilt', () => {
  for (let cut = 0; cut <= STREAM.length; cut++) {
    const d = new TcpFrameDecoder();
    const frames = [...d.push(STREAM.subarray(0, cut)), ...d.push(STREAM.subarray(cut))];
    assert.deepEqual(frames, [A, EMPTY, B], `cut at ${cut}`);
    assert.equal(d.pending, 0);
  }
});

test('frames split into three chunks at every pair of offsets are rebuilt', () => {
  const small = concatBytes(encodeTcpFrame(A), encodeTcpFrame(A));
  for (let i = 0; i <= small.length; i++) {
    for (let j = i; j <= small.length; j++) {
      const d = new TcpFrameDecoder();
      const frames = [...d.push(small.subarray(0, i)), ...d.push(small.subarray(i, j)), ...d.push(small.subarray(j))];
      assert.deepEqual(frames, [A, A], `cuts at ${i},${j}`);
    }
  }
});

test('one byte at a time', () => {
  const d = new TcpFrameDecoder();
  const frames: Uint8Array[] = [];
  for (const byte of STREAM) frames.push(...d.push(Uint8Array.of(byte)));
  assert.deepEqual(frames, [A, EMPTY, B]);
});

test('returned frames are copies of the input', () => {
  const chunk = encodeTcpFrame(A);
  const [frame] = new TcpFrameDecoder().push(chunk);
  chunk.fill(0);
  assert.deepEqual(frame, A);
});

test('a length over maxLength is FrameTooLargeError (KRB_ERR_FIELD_TOOLONG), and the decoder stays failed', () => {
  const d = new TcpFrameDecoder({ maxLength: 100 });
  assert.throws(() => d.push(fromHex('00 00 00 65')), (e: unknown) =>
    e instanceof FrameTooLargeError && e instanceof FrameError && e.krbCode === ErrorCode.KRB_ERR_FIELD_TOOLONG);
  assert.throws(() => d.push(fromHex('00')), FrameTooLargeError);
  // Exactly maxLength is fine; the default limit is 1 MiB.
  assert.deepEqual(new TcpFrameDecoder({ maxLength: 5 }).push(encodeTcpFrame(A)), [A]);
  assert.throws(() => new TcpFrameDecoder().push(fromHex('00 10 00 01')), FrameTooLargeError);
});

test('the reserved high bit set is FrameError (KRB_ERR_FIELD_TOOLONG), even split across chunks', () => {
  const d = new TcpFrameDecoder();
  assert.deepEqual(d.push(fromHex('80 00')), []);
  assert.throws(() => d.push(fromHex('00 05')), (e: unknown) =>
    e instanceof FrameError && !(e instanceof FrameTooLargeError) && e.krbCode === 61);
});

test('a large frame arriving in many tiny reads is rebuilt', () => {
  const big = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff);
  const stream = encodeTcpFrame(big);
  const d = new TcpFrameDecoder();
  const frames: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i += 3) frames.push(...d.push(stream.subarray(i, i + 3)));
  assert.deepEqual(frames, [big]);
});
