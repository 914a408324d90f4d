/**
 * A KDC — or whoever answers in its place — that asks for fewer PBKDF2
 * iterations than the enctype's default in PA-ETYPE-INFO2 s2kparams
 * (RFC 4120 §5.2.7.5; RFC 3962 §4 default 4096, RFC 8009 §4 32768) is refused
 * before the client derives a key or sends an encrypted timestamp, as MIT's
 * pbkdf2_string_to_key refuses it (KRB5_ERR_BAD_S2K_PARAMS).
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { WeakS2kParamsError } from '../crypto/index.js';
import { ErrorCode, EtypeInfo2, KrbError, MethodData, PaType, decodeMessage, type AsReq } from '../messages/index.js';
import { KerberosClient, clientConfig, type KdcTransport } from './index.js';

const REALM = 'EXAMPLE.TEST';
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

/** A fake KDC: PREAUTH_REQUIRED with PA-ETYPE-INFO2 carrying `s2kparams`, then PREAUTH_FAILED to anything else. */
function spoofedKdc(etype: number, iterations: number): { transport: KdcTransport; requests: AsReq[] } {
  const requests: AsReq[] = [];
  const s2kparams = Uint8Array.of(iterations >>> 24, (iterations >>> 16) & 0xff, (iterations >>> 8) & 0xff, iterations & 0xff);
  const reply = (errorCode: number, eData?: Uint8Array) => KrbError.encode({
    pvno: 5, msgType: 30, stime: new Date(T0), susec: 0, errorCode, realm: REALM,
    sname: { nameType: 2, nameString: ['krbtgt', REALM] }, ...(eData === undefined ? {} : { eData }),
  });
  return {
    requests,
    transport: {
      exchange: async (_address, _protocol, request) => {
        const m = decodeMessage(request);
        assert.equal(m.type, 'AS-REQ');
        requests.push(m.value as AsReq);
        if (requests.length > 1) return reply(ErrorCode.KDC_ERR_PREAUTH_FAILED);
        return reply(ErrorCode.KDC_ERR_PREAUTH_REQUIRED, MethodData.encode([
          { padataType: PaType.PA_ETYPE_INFO2, padataValue: EtypeInfo2.encode([{ etype, salt: `${REALM}alice`, s2kparams }]) },
          { padataType: PaType.PA_ENC_TIMESTAMP, padataValue: new Uint8Array(0) },
        ]));
      },
    },
  };
}

function client(transport: KdcTransport, permitted: string): KerberosClient {
  return new KerberosClient({
    config: clientConfig({ defaultRealm: REALM, realms: { [REALM]: { kdc: ['127.0.0.1:88'] } }, permittedEnctypes: permitted.split(' ').map(Number) }),
    clock: new ManualClock(T0), random: seededRandom(1), transport,
  });
}

for (const [etype, iterations, minimum] of [[18, 1, 4096], [17, 4095, 4096], [20, 4096, 32768]] as const) {
  test(`client: PREAUTH_REQUIRED with s2kparams of ${iterations} PBKDF2 iterations for enctype ${etype} is refused (WeakS2kParamsError), no timestamp sent`, async () => {
    const kdc = spoofedKdc(etype, iterations);
    await assert.rejects(client(kdc.transport, String(etype)).getInitialCredentials({ client: 'alice', password: 'alice-pw' }), (err: unknown) => {
      assert.ok(err instanceof WeakS2kParamsError, String(err));
      assert.equal(err.code, 'ERR_WEAK_S2K_PARAMS');
      assert.match(err.message, new RegExp(`asked for ${iterations} PBKDF2 iterations .* at least ${minimum}`));
      assert.match(err.hint ?? '', /spoofed KDC/);
      assert.doesNotMatch(`${err.message} ${err.hint ?? ''}`, /alice-pw/);
      return true;
    });
    assert.equal(kdc.requests.length, 1, 'no second AS-REQ carrying an encrypted timestamp');
  });
}

test('client: s2kparams at the default count are used (the exchange goes on to send PA-ENC-TIMESTAMP)', async () => {
  const kdc = spoofedKdc(18, 4096);
  await assert.rejects(client(kdc.transport, '18').getInitialCredentials({ client: 'alice', password: 'alice-pw' }), (err: unknown) => {
    assert.ok(!(err instanceof WeakS2kParamsError));
    return true;
  });
  assert.equal(kdc.requests.length, 2);
  assert.ok(kdc.requests[1]!.padata?.some((p) => p.padataType === PaType.PA_ENC_TIMESTAMP));
});
