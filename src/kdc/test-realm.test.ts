import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { ManualClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { Krb5Config } from '../files/index.js';
import { asReq, encTimestamp, expectAsRep, openAsRep, passwordKey, T0 } from '../testing/kdc-client.js';
import { startTestRealm } from './test-realm.js';

function udpExchange(port: number, payload: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.once('message', (msg) => { s.close(); resolve(new Uint8Array(msg)); });
    s.send(payload, port, '127.0.0.1');
  });
}

test('startTestRealm: a realm on one free port whose KDC lives on the injected ManualClock', async () => {
  const clock = new ManualClock(T0);
  const realm = await startTestRealm({ clock, random: seededRandom(9), principals: [{ name: 'alice', password: 'alice-pw', maxLife: 4 * 3600 }] });
  try {
    assert.equal(realm.realm, 'EXAMPLE.TEST');
    assert.equal(realm.kdcAddress, `127.0.0.1:${realm.port}`);
    assert.deepEqual(realm.server.addresses.map((a) => [a.transport, a.port]), [['udp', realm.port], ['tcp', realm.port]]);
    const conf = await Krb5Config.parse(realm.krb5Conf);
    assert.equal(conf.libdefaults().defaultRealm, 'EXAMPLE.TEST');
    assert.deepEqual(conf.realm('EXAMPLE.TEST').kdc, [`127.0.0.1:${realm.port}`]);
    assert.equal(conf.libdefaultBoolean('dns_lookup_kdc', true), false);
    assert.match(realm.krb5ConfWith({ udp_preference_limit: 1 }), /udp_preference_limit = 1/);

    const key = await passwordKey('alice', 'alice-pw');
    const first = openAsRep(expectAsRep(await udpExchange(realm.port, asReq({ padata: [encTimestamp(key, clock.now())] }))), key);
    assert.equal(first.authtime.getTime(), T0);
    assert.equal(first.endtime.getTime(), T0 + 4 * 3600_000, 'principal max life');

    await clock.advance(30 * 24 * 3600_000);
    const later = openAsRep(expectAsRep(await udpExchange(realm.port, asReq({ nonce: 2, till: clock.now() + 3600_000, padata: [encTimestamp(key, clock.now())] }))), key);
    assert.equal(later.authtime.getTime(), T0 + 30 * 24 * 3600_000);

    const rec = await realm.setPassword('alice', 'changed');
    assert.equal(rec.kvno, 2);
    const changed = await passwordKey('alice', 'changed');
    const afterChange = expectAsRep(await udpExchange(realm.port, asReq({ nonce: 3, till: clock.now() + 3600_000, padata: [encTimestamp(changed, clock.now())] })));
    assert.equal(afterChange.encPart.kvno, 2);
    assert.equal((await realm.randkey('alice')).kvno, 3);
    assert.equal((await realm.addPrincipal('HTTP/localhost')).kvno, 1);
  } finally {
    await realm.stop();
  }
  await assert.rejects(new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: realm.port });
    s.once('connect', () => { s.destroy(); resolve(undefined); });
    s.once('error', reject);
  }), /ECONNREFUSED/, 'stop() closed the listeners');
  await realm.stop(); // idempotent
});
