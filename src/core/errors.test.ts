import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KerbsideError, InvalidArgumentError } from './errors.js';

class SampleError extends KerbsideError {
  static override readonly code = 'ERR_SAMPLE';
}

test('errors carry a stable code, krb code and hint', () => {
  const e = new SampleError('boom', { krbCode: 37, hint: 'check NTP', detail: { principal: 'a@B' } });
  assert.equal(e.code, 'ERR_SAMPLE');
  assert.equal(e.krbCode, 37);
  assert.equal(e.name, 'SampleError');
  assert.ok(e instanceof SampleError);
  assert.ok(e instanceof KerbsideError);
  assert.ok(!(e instanceof InvalidArgumentError));
  assert.match(e.explain(), /hint: check NTP/);
});

test('instanceof works across copies through the code brand', () => {
  // A structurally identical error from "another copy" of the library.
  class OtherCopySample extends KerbsideError {
    static override readonly code = 'ERR_SAMPLE';
  }
  const e = new OtherCopySample('x');
  assert.ok(e instanceof SampleError);
  assert.ok(!(new Error('x') instanceof KerbsideError));
});
