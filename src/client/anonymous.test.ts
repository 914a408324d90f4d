/**
 * kinit -n's probe (RFC 8062 §4.1): the AS-REQ it sends and how the KDC's
 * answer is explained. The answers are built here; the CLI test
 * (src/cli/commands/kinit.test.ts) sends the probe to MIT krb5kdc and the kerbside KDC.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../core/random.js';
import { AsReq, ErrorCode, KdcOptions, KrbError, MethodData, NameType, PaType } from '../messages/index.js';
import { anonymousProbe, anonymousProbeError } from './as-exchange.js';
import { AnonymousUnsupportedError } from './errors.js';

const REALM = 'EXAMPLE.TEST';
const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);

function krbError(code: number, eData?: Uint8Array): Uint8Array {
  return KrbError.encode({
    pvno: 5, msgType: 30, stime: new Date(T0), susec: 0, errorCode: code, realm: REALM,
    sname: { nameType: NameType.NT_SRV_INST, nameString: ['krbtgt', REALM] }, ...(eData !== undefined ? { eData } : {}),
  });
}

test('the probe asks for WELLKNOWN/ANONYMOUS with the request-anonymous option (RFC 8062 §4.1)', () => {
  const req = AsReq.decode(anonymousProbe(REALM, { now: () => T0, random: seededRandom(1) }, 3_600_000, [18, 17]));
  assert.deepEqual(req.reqBody.cname, { nameType: NameType.NT_WELLKNOWN, nameString: ['WELLKNOWN', 'ANONYMOUS'] });
  assert.notEqual(req.reqBody.kdcOptions & KdcOptions.anonymous, 0);
  assert.equal(req.padata, undefined);
});

test('a KDC offering PKINIT: the error says the KDC supports it and this client does not; otherwise the KDC does not', () => {
  const offers = anonymousProbeError(krbError(ErrorCode.KDC_ERR_PREAUTH_REQUIRED,
    MethodData.encode([{ padataType: PaType.PA_PK_AS_REQ, padataValue: new Uint8Array(0) }])), REALM);
  assert.ok(offers instanceof AnonymousUnsupportedError);
  assert.match(offers.message, /offers anonymous PKINIT, but kerbside's kinit cannot/);
  const encTsOnly = anonymousProbeError(krbError(ErrorCode.KDC_ERR_PREAUTH_REQUIRED,
    MethodData.encode([{ padataType: PaType.PA_ENC_TIMESTAMP, padataValue: new Uint8Array(0) }])), REALM);
  assert.match(encTsOnly.message, /does not support anonymous PKINIT .*KDC_ERR_PREAUTH_REQUIRED/);
  assert.match(anonymousProbeError(krbError(ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN), REALM).message, /does not support anonymous PKINIT .*C_PRINCIPAL_UNKNOWN/);
  assert.match(anonymousProbeError(Uint8Array.of(1, 2, 3), REALM).message, /not a KRB-ERROR/);
});
