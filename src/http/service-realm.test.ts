/**
 * A service principal named without a realm ('HTTP/localhost'), as the README's
 * Express snippet writes it: the realm comes from krb5.conf's default_realm
 * (MIT krb5_parse_name appends the default realm), else from the keytab when
 * it holds that name in exactly one realm; otherwise every ticket is refused
 * with an event saying how to fix the name.
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../core/clock.js';
import { clientConfig, KerberosClient } from '../client/index.js';
import { memorySink } from '../events/index.js';
import { readKeytab, writeKeytab, type Credential } from '../files/index.js';
import { SpnegoInitiator } from '../gss/index.js';
import { startTestRealm, type TestRealm } from '../kdc/index.js';
import { negotiateServer } from './index.js';
import { serviceDefaultRealm } from './service-realm.js';

let dir: string;
let realm: TestRealm;
let ticket: Credential;

function header(): string {
  const initiator = new SpnegoInitiator({ krb5: { credential: ticket, clock: systemClock() } });
  return `Negotiate ${Buffer.from(initiator.initSecContext().output!).toString('base64')}`;
}

/** negotiateServer as the README writes it, with KRB5_CONFIG pointing at `krb5Conf`. */
async function attempt(krb5Conf: string, keytab = join(dir, 'http.keytab')) {
  const events = memorySink();
  const saved = process.env['KRB5_CONFIG'];
  process.env['KRB5_CONFIG'] = krb5Conf;
  try {
    const auth = negotiateServer({ keytab, principal: 'HTTP/localhost', events });
    const out = await auth.authenticate({ method: 'GET', url: '/', connection: {}, headers: { authorization: header() } });
    return { out, events };
  } finally {
    if (saved === undefined) delete process.env['KRB5_CONFIG'];
    else process.env['KRB5_CONFIG'] = saved;
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kerbside-service-realm-'));
  realm = await startTestRealm({ principals: [{ name: 'alice', password: 'alice-password' }, { name: 'HTTP/localhost', randomKey: true }] });
  await realm.exportKeytab('HTTP/localhost', join(dir, 'http.keytab'));
  await realm.writeKrb5Conf(join(dir, 'krb5.conf'));
  await writeFile(join(dir, 'other-realm.conf'), '[libdefaults]\n  default_realm = OTHER.TEST\n');
  await writeFile(join(dir, 'no-default.conf'), '[libdefaults]\n  dns_lookup_kdc = false\n');
  const client = new KerberosClient({ config: clientConfig({ defaultRealm: realm.realm, realms: { [realm.realm]: { kdc: [realm.kdcAddress] } } }) });
  const tgt = (await client.getInitialCredentials({ client: 'alice', password: 'alice-password' })).credential;
  ticket = await client.getServiceTicket(tgt, 'HTTP/localhost');
});

after(async () => {
  await realm?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('service principal without a realm', () => {
  test('takes krb5.conf default_realm (KRB5_CONFIG)', async () => {
    const { out } = await attempt(join(dir, 'krb5.conf'));
    assert.ok(out.authenticated, 'accepted');
    assert.equal(out.auth.service, `HTTP/localhost@${realm.realm}`);
  });

  test('krb5.conf default_realm wins over the keytab: another default realm refuses the ticket', async () => {
    const { out, events } = await attempt(join(dir, 'other-realm.conf'));
    assert.ok(!out.authenticated && out.cause === 'wrong-principal');
    assert.match(events.ofType('http.auth_refused')[0]!.message, /HTTP\/localhost@OTHER\.TEST/);
  });

  test('no default realm (missing krb5.conf, or none in it): the keytab\'s only realm for the name', async () => {
    for (const conf of [join(dir, 'missing.conf'), join(dir, 'no-default.conf')]) {
      const { out } = await attempt(conf);
      assert.ok(out.authenticated, `accepted with ${conf}`);
      assert.equal(out.auth.service, `HTTP/localhost@${realm.realm}`);
    }
  });

  test('no default realm and the keytab holds the name in two realms: 503, the event names both realms', async () => {
    const entries = await readKeytab(join(dir, 'http.keytab'));
    const two = join(dir, 'two-realms.keytab');
    await writeKeytab(two, [...entries, ...entries.map((e) => ({ ...e, principal: { ...e.principal, realm: 'OTHER.TEST' } }))]);
    const { out, events } = await attempt(join(dir, 'missing.conf'), two);
    // A server configuration fault, not the client's: 503 and an error event, as for an unusable keytab.
    assert.ok(!out.authenticated && out.status === 503);
    const e = events.ofType('http.auth_refused')[0]!;
    assert.equal(e.severity, 'error');
    assert.match(e.message, /"HTTP\/localhost" has no realm/);
    assert.match(e.message, new RegExp(`several realms \\(${realm.realm.replace('.', '\\.')}, OTHER\\.TEST\\)`));
  });

  test('serviceDefaultRealm: an explicit realm skips krb5.conf; krb5.conf is read once', async () => {
    assert.equal(await serviceDefaultRealm({ defaultRealm: 'X.TEST', krb5Config: '/nonexistent' })(), 'X.TEST');
    const lookup = serviceDefaultRealm({ krb5Config: join(dir, 'other-realm.conf') });
    assert.equal(await lookup(), 'OTHER.TEST');
    await writeFile(join(dir, 'other-realm.conf'), '[libdefaults]\n  default_realm = CHANGED.TEST\n');
    assert.equal(await lookup(), 'OTHER.TEST', 'memoised: one read per server');
  });
});
