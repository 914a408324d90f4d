/** RFC 4120 §7.5 registries and the KerberosFlags mask convention. */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ApOptions, ErrorCode, KdcOptions, MessageType, NameType, PaType, TicketFlags, errorCodeName, flagMask, flagNames,
} from './index.js';

test('RFC 4120 §7.5.7/§7.5.8/§7.5.2 values', () => {
  assert.equal(MessageType.KRB_AS_REQ, 10);
  assert.equal(MessageType.KRB_ERROR, 30);
  assert.equal(NameType.NT_ENTERPRISE, 10);
  assert.equal(PaType.PA_ETYPE_INFO2, 19);
  assert.equal(PaType.PA_PAC_REQUEST, 128);
  assert.equal(PaType.PA_FX_FAST, 136);
  assert.equal(ErrorCode.KDC_ERR_PREAUTH_REQUIRED, 25);
  assert.equal(ErrorCode.KRB_AP_ERR_SKEW, 37);
});

test('registries are frozen with no prototype', () => {
  for (const t of [MessageType, ErrorCode, PaType, NameType, TicketFlags, KdcOptions, ApOptions]) {
    assert.ok(Object.isFrozen(t));
    assert.equal(Object.getPrototypeOf(t), null);
  }
  assert.equal((ErrorCode as Record<string, number>)['toString'], undefined);
});

test('errorCodeName names known codes and says when a code is unknown', () => {
  assert.equal(errorCodeName(25), 'KDC_ERR_PREAUTH_REQUIRED');
  assert.equal(errorCodeName(0), 'KDC_ERR_NONE');
  assert.equal(errorCodeName(91), 'KDC_ERR_MORE_PREAUTH_DATA_REQUIRED');
  assert.equal(errorCodeName(999), 'UNKNOWN_ERROR_999');
});

test('flag masks: RFC bit i is 2**(31-i)', () => {
  assert.equal(flagMask(0), 0x80000000);
  assert.equal(TicketFlags.forwardable, 0x40000000);
  assert.equal(TicketFlags.renewable, 0x00800000);
  assert.equal(TicketFlags.preAuthent, 0x00200000);
  assert.equal(KdcOptions.canonicalize, 0x00010000);
  assert.equal(KdcOptions.renewableOk, 0x00000010);
  assert.equal(KdcOptions.validate, 0x00000001);
  assert.equal(ApOptions.mutualRequired, 0x20000000);
  const f = (TicketFlags.forwardable | TicketFlags.renewable | TicketFlags.initial) >>> 0;
  assert.deepEqual(flagNames(TicketFlags, f), ['forwardable', 'renewable', 'initial']);
  assert.deepEqual(flagNames(TicketFlags, 0x80000000), ['reserved']);
});
