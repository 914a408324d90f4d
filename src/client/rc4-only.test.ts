/**
 * An account whose only keys are RC4 (Active Directory's default without
 * msDS-SupportedEncryptionTypes, MS-KILE §3.1.5.2) against a client with weak
 * crypto off: the error names the attribute, the value for AES and the
 * allow_weak_crypto switch. Peer: kerbside's own KDC with weak crypto on and
 * an rc4-hmac-only principal, and MIT krb5kdc the same way (allow_weak_crypto,
 * addprinc -e rc4-hmac:normal); the Samba AD DC case is in
 * src/client/active-directory.test.ts.
 */

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { systemRandom } from '../core/random.js';
import { startTestRealm, type TestRealm } from '../kdc/index.js';
import { inProcessTransport } from '../testing/in-process-kdc.js';
import { startMitRealm, type MitRealm } from '../testing/mit-realm.js';
import { KerberosClient, clientConfig, NoCommonEnctypeError, type ClientConfigOptions, type KdcTransport } from './index.js';

const realms: TestRealm[] = [];
const mits: MitRealm[] = [];
after(async () => {
  for (const r of realms) await r.stop();
  for (const m of mits) await m.stop();
});

async function weakRealm(): Promise<TestRealm> {
  const realm = await startTestRealm({
    policy: { allowWeakCrypto: true, permittedEnctypes: [18, 17, 23] },
    principals: [
      { name: 'legacy', password: 'legacy-pw', enctypes: [23] },
      { name: 'aes256only', password: 'aes-pw', enctypes: [18] },
    ],
  });
  realms.push(realm);
  return realm;
}

function clientFor(realm: TestRealm, extra: ClientConfigOptions, sent: number[][]): KerberosClient {
  const inner = inProcessTransport(realm);
  const transport: KdcTransport = {
    exchange: (a, p, r, s) => { sent.push([...r]); return inner.exchange(a, p, r, s); },
  };
  return new KerberosClient({
    config: clientConfig({ defaultRealm: realm.realm, realms: { [realm.realm]: { kdc: [realm.kdcAddress] } }, ...extra }),
    clock: realm.clock, random: systemRandom(), transport,
  });
}

test('RC4-only account, weak crypto off at the client: the error names msDS-SupportedEncryptionTypes = 0x18 and allow_weak_crypto', async () => {
  const realm = await weakRealm();
  const sent: number[][] = [];
  const client = clientFor(realm, {}, sent);
  await assert.rejects(client.getInitialCredentials({ client: 'legacy', password: 'legacy-pw' }), (err: unknown) => {
    assert.ok(err instanceof NoCommonEnctypeError, String(err));
    assert.equal(err.krbCode, 14);
    assert.match(err.message, /only RC4 \(rc4-hmac\) keys for legacy@EXAMPLE\.TEST/);
    assert.match(err.message, /msDS-SupportedEncryptionTypes/);
    assert.match(err.hint ?? '', /msDS-SupportedEncryptionTypes = 0x18/);
    assert.match(err.hint ?? '', /allow_weak_crypto = true/);
    assert.ok(!(err.message + (err.hint ?? '')).includes('legacy-pw'));
    return true;
  });
  // The AES request, then the one diagnostic rc4-only request; no pre-authentication was sent.
  assert.equal(sent.length, 2);
});

test('the same account with allow_weak_crypto = true gets its ticket (the switch the hint names works)', async () => {
  const realm = await weakRealm();
  const client = clientFor(realm, { allowWeakCrypto: true, permittedEnctypes: [18, 17, 23] }, []);
  const { credential, paType } = await client.getInitialCredentials({ client: 'legacy', password: 'legacy-pw' });
  assert.equal(paType, 2);
  assert.deepEqual(credential.server.components, ['krbtgt', 'EXAMPLE.TEST']);
});

test('no common enctype that is not about RC4 keeps the general error (no RC4 advice)', async () => {
  const realm = await weakRealm();
  const client = clientFor(realm, { permittedEnctypes: [17] }, []);
  await assert.rejects(client.getInitialCredentials({ client: 'aes256only', password: 'aes-pw' }), (err: unknown) => {
    assert.ok(err instanceof NoCommonEnctypeError, String(err));
    assert.doesNotMatch(err.message + (err.hint ?? ''), /msDS-SupportedEncryptionTypes/);
    return true;
  });
});

test('MIT krb5kdc with an rc4-hmac-only principal: the same error (its PREAUTH_REQUIRED offers only FAST, no timestamp)', async () => {
  const mit = await startMitRealm({
    enctypes: ['aes256-cts-hmac-sha1-96', 'rc4-hmac'],
    // MIT 1.21 left rc4-hmac out of DEFAULT: the KDC must permit it to hold and use the key.
    libdefaults: { allow_weak_crypto: true, permitted_enctypes: 'DEFAULT rc4-hmac', default_tkt_enctypes: 'DEFAULT rc4-hmac', default_tgs_enctypes: 'DEFAULT rc4-hmac' },
    principals: [{ name: 'legacy', password: 'legacy-pw', attrs: ['+requires_preauth', '-e rc4-hmac:normal'] }],
  });
  mits.push(mit);
  const client = new KerberosClient({
    config: clientConfig({ defaultRealm: mit.realm, realms: { [mit.realm]: { kdc: [`127.0.0.1:${mit.kdcPort}`] } } }),
  });
  await assert.rejects(client.getInitialCredentials({ client: 'legacy', password: 'legacy-pw' }), (err: unknown) => {
    assert.ok(err instanceof NoCommonEnctypeError, String(err));
    assert.match(err.message, /only RC4 \(rc4-hmac\) keys for legacy@/);
    assert.match(err.hint ?? '', /msDS-SupportedEncryptionTypes = 0x18/);
    assert.match(err.hint ?? '', /allow_weak_crypto = true/);
    return true;
  });
});
