import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeKeyUsage, KeyUsage } from './index.js';

test('key usage numbers of RFC 4120 §7.5.1, RFC 4121 §2 and RFC 6113 §6.2', () => {
  assert.deepEqual(
    [KeyUsage.PA_ENC_TIMESTAMP, KeyUsage.KDC_REP_TICKET, KeyUsage.AS_REP_ENCPART, KeyUsage.TGS_REQ_AUTH_CKSUM,
      KeyUsage.TGS_REQ_AUTH, KeyUsage.TGS_REP_ENCPART_SUBKEY, KeyUsage.AP_REQ_AUTH, KeyUsage.AP_REP_ENCPART,
      KeyUsage.KRB_CRED_ENCPART, KeyUsage.KRB_SAFE_CKSUM],
    [1, 2, 3, 6, 7, 9, 11, 12, 14, 15]);
  assert.deepEqual(
    [KeyUsage.KG_USAGE_ACCEPTOR_SEAL, KeyUsage.KG_USAGE_ACCEPTOR_SIGN, KeyUsage.KG_USAGE_INITIATOR_SEAL, KeyUsage.KG_USAGE_INITIATOR_SIGN],
    [22, 23, 24, 25]);
  assert.deepEqual(
    [KeyUsage.KEY_USAGE_FAST_REQ_CHKSUM, KeyUsage.KEY_USAGE_FAST_ENC, KeyUsage.KEY_USAGE_FAST_REP,
      KeyUsage.KEY_USAGE_FAST_FINISHED, KeyUsage.KEY_USAGE_ENC_CHALLENGE_CLIENT, KeyUsage.KEY_USAGE_ENC_CHALLENGE_KDC],
    [50, 51, 52, 53, 54, 55]);
  assert.ok(Object.isFrozen(KeyUsage));
  assert.equal(new Set(Object.values(KeyUsage)).size, Object.values(KeyUsage).length, 'numbers are unique');
  assert.equal(describeKeyUsage(3), 'AS_REP_ENCPART (3)');
  assert.equal(describeKeyUsage(700), 'usage 700');
});
