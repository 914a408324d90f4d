import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLogLine } from './kdc-runner.js';

test('the KDC log line lists client-supplied KDC-issued authorization data the KDC dropped', () => {
  const base = {
    type: 'kdc.request', severity: 'info' as const, time: Date.UTC(2026, 0, 1), message: 'TGS alice → HTTP/x: issued',
  };
  const fields = { exchange: 'TGS', client: 'alice@R', service: 'HTTP/x@R', result: 'issued', address: '127.0.0.1', transport: 'udp' };
  const line = formatLogLine({ ...base, fields: { ...fields, droppedAuthorizationData: ['128', '1'] } } as Parameters<typeof formatLogLine>[0]);
  assert.equal(line, '2026-01-01T00:00:00Z TGS client=alice@R service=HTTP/x@R result=issued from=127.0.0.1/udp dropped_authdata=128,1');
  assert.doesNotMatch(formatLogLine({ ...base, fields } as Parameters<typeof formatLogLine>[0]), /dropped/);
});
