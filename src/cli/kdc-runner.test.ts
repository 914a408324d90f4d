import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLogLine, kdcLogGroup } from './kdc-runner.js';

test('the KDC log line lists client-supplied KDC-issued authorization data the KDC dropped', () => {
  const base = {
    type: 'kdc.request', severity: 'info' as const, time: Date.UTC(2026, 0, 1), message: 'TGS alice → HTTP/x: issued',
  };
  const fields = { exchange: 'TGS', client: 'alice@R', service: 'HTTP/x@R', result: 'issued', address: '127.0.0.1', transport: 'udp' };
  const line = formatLogLine({ ...base, fields: { ...fields, droppedAuthorizationData: ['128', '1'] } } as Parameters<typeof formatLogLine>[0]);
  assert.equal(line, '2026-01-01T00:00:00Z TGS client=alice@R service=HTTP/x@R result=issued from=127.0.0.1/udp dropped_authdata=128,1');
  assert.doesNotMatch(formatLogLine({ ...base, fields } as Parameters<typeof formatLogLine>[0]), /dropped/);
});

test('kdcLogGroup: garbage, malformed requests and each transport limit are their own causes; issued, routine and lockout lines are never limited', () => {
  const e = (severity: 'info' | 'warning' | 'debug', fields: Record<string, string>, type = 'kdc.request') => ({ type, severity, time: 0, message: '', fields });
  const at = { address: '192.0.2.1' };
  assert.equal(kdcLogGroup(e('info', { ...at, result: 'issued' })), undefined);
  assert.equal(kdcLogGroup(e('info', { ...at, result: 'KDC_ERR_PREAUTH_REQUIRED' })), undefined);
  assert.equal(kdcLogGroup(e('warning', at, 'kdc.lockout')), undefined);
  assert.deepEqual(kdcLogGroup(e('warning', { ...at, result: 'dropped', reason: 'malformed AS-REQ: bad tag' })), { cause: 'malformed', source: '192.0.2.1', what: 'malformed requests' });
  assert.deepEqual(kdcLogGroup(e('debug', { ...at, result: 'dropped', reason: 'not a Kerberos message' })), { cause: 'not_a_kdc_request', source: '192.0.2.1', what: 'messages that are not KDC requests' });
  assert.deepEqual(kdcLogGroup(e('warning', { ...at, result: 'dropped', reason: 'tcp_per_address' })), { cause: 'tcp_per_address', source: '192.0.2.1', what: 'TCP connections refused by the per-address limit' });
  assert.equal(kdcLogGroup(e('warning', { ...at, result: 'dropped', reason: 'udp_in_flight' }))?.cause, 'udp_in_flight');
  assert.equal(kdcLogGroup(e('warning', { ...at, result: 'dropped', reason: 'toString' }))?.cause, 'not_a_kdc_request', 'no prototype keys');
  assert.deepEqual(kdcLogGroup(e('warning', { ...at, result: 'KDC_ERR_C_PRINCIPAL_UNKNOWN' })), { cause: 'KDC_ERR_C_PRINCIPAL_UNKNOWN', source: '192.0.2.1', what: 'requests refused with KDC_ERR_C_PRINCIPAL_UNKNOWN' });
});
