/**
 * The fuzz harness's own checks: what counts as an untyped failure, the DER
 * walker the length-field mutations rely on, and that mutated inputs keep
 * a seed's first octets often enough to get past a decoder's tag check.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex } from '../core/bytes.js';
import { KerbsideError } from '../core/errors.js';
import { derElements, fuzzInput, fuzzSettings, untypedReason, DEFAULT_FUZZ_RUNS, DEFAULT_FUZZ_SEED } from './fuzz.js';

test('untypedReason: typed errors pass; TypeError, a thrown string, or a RangeError as a cause do not', { timeout: 10_000 }, () => {
  assert.equal(untypedReason(new KerbsideError('x')), undefined);
  assert.equal(untypedReason(new KerbsideError('x', { cause: Object.assign(new Error('ENOENT'), { code: 'ENOENT' }) })), undefined);
  assert.match(untypedReason(new TypeError('boom')) ?? '', /TypeError: boom/);
  assert.match(untypedReason('text') ?? '', /non-Error value/);
  assert.match(untypedReason(new KerbsideError('x', { cause: new KerbsideError('y', { cause: new RangeError('deep') }) })) ?? '', /wrapping RangeError: deep/);
});

test('derElements finds every element of a DER encoding, nested ones and DER inside OCTET STRINGs included', { timeout: 10_000 }, () => {
  // SEQUENCE { [0] INTEGER 5, OCTET STRING { SEQUENCE {} } }
  const fixed = fromHex('3009a0030201050402' + '3000');
  const found = derElements(fixed).map((t) => [t.start, t.end]);
  assert.deepEqual(found, [[0, 11], [2, 7], [7, 11], [4, 7], [9, 11]]);
  assert.deepEqual(derElements(Uint8Array.of(0x30, 0x85)), []);
});

test('fuzz inputs: mostly mutations that keep the seed\'s tag; settings from the environment', { timeout: 10_000 }, () => {
  const seed = fromHex('6a0b3009a003020105a1020500');
  const samples = fc.sample(fuzzInput({ seeds: [seed] }), { numRuns: 400, seed: 1 });
  const keptTag = samples.filter((s) => s[0] === 0x6a).length;
  assert.ok(keptTag > 200, `${keptTag} of 400 inputs start with the seed's tag`);
  assert.ok(samples.some((s) => s.length !== seed.length), 'some change the length');
  assert.deepEqual(fuzzSettings({}), { seed: DEFAULT_FUZZ_SEED, runs: DEFAULT_FUZZ_RUNS });
  assert.deepEqual(fuzzSettings({ KERBSIDE_FUZZ_SEED: '7', KERBSIDE_FUZZ_RUNS: '10' }), { seed: 7, runs: 10 });
  assert.throws(() => fuzzSettings({ KERBSIDE_FUZZ_RUNS: 'many' }), /non-negative integer/);
});
