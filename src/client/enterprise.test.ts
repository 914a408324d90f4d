/**
 * Enterprise principal names in the client API (RFC 6806 §5: NT-ENTERPRISE,
 * one component, CANONICALIZE) and client referrals (§7: KDC_ERR_WRONG_REALM
 * naming the client's realm in crealm), against kerbside's KDC in-process;
 * the Samba AD DC case (alice@ad.test as a UPN) is in
 * src/client/active-directory.test.ts.
 */

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { systemRandom } from '../core/random.js';
import { AsReq, ErrorCode, KdcOptions, KrbError, NameType } from '../messages/index.js';
import { startTestRealm, type TestRealm } from '../kdc/index.js';
import { inProcessTransport } from '../testing/in-process-kdc.js';
import { KdcError, KerberosClient, clientConfig, enterprisePrincipal, type KdcTransport } from './index.js';

const realms: TestRealm[] = [];
after(async () => { for (const r of realms) await r.stop(); });

async function realm(): Promise<TestRealm> {
  const r = await startTestRealm({ principals: [{ name: 'alice', password: 'alice-pw' }] });
  realms.push(r);
  return r;
}

function wrongRealm(crealm: string, realmName: string): Uint8Array {
  return KrbError.encode({
    pvno: 5, msgType: 30, stime: new Date(Date.UTC(2026, 0, 1)), susec: 0, errorCode: ErrorCode.KDC_ERR_WRONG_REALM,
    crealm, realm: realmName, sname: { nameType: NameType.NT_SRV_INST, nameString: ['krbtgt', realmName] },
  });
}

/** FRONT.TEST's "KDC" (port 1) refers everyone to `target`; EXAMPLE.TEST's (port 2) is the test realm. */
function routed(r: TestRealm, frontRefersTo: string, exampleRefersTo?: string): { transport: KdcTransport; log: string[] } {
  const inner = inProcessTransport(r);
  const log: string[] = [];
  return {
    log,
    transport: {
      exchange: async (a, p, req, s) => {
        const body = AsReq.decode(req).reqBody;
        log.push(`${a.port}:${body.realm}:${body.cname?.nameType}:${body.cname?.nameString.join('/')}`);
        if (a.port === 1) return wrongRealm(frontRefersTo, 'FRONT.TEST');
        if (exampleRefersTo !== undefined) return wrongRealm(exampleRefersTo, 'EXAMPLE.TEST');
        return inner.exchange(a, p, req, s);
      },
    },
  };
}

function clientWith(r: TestRealm, transport: KdcTransport, defaultRealm = 'EXAMPLE.TEST'): KerberosClient {
  return new KerberosClient({
    config: clientConfig({ defaultRealm, realms: { 'FRONT.TEST': { kdc: ['front.test:1'] }, 'EXAMPLE.TEST': { kdc: ['example.test:2'] } } }),
    clock: r.clock, random: systemRandom(), transport,
  });
}

test('enterprise: true sends one NT-ENTERPRISE component with CANONICALIZE; the ticket is the canonical principal\'s', async () => {
  const r = await realm();
  const sent: Uint8Array[] = [];
  const inner = inProcessTransport(r);
  const client = clientWith(r, { exchange: (a, p, req, s) => { sent.push(req); return inner.exchange(a, p, req, s); } });
  const { credential } = await client.getInitialCredentials({ client: 'alice@EXAMPLE.TEST', enterprise: true, password: 'alice-pw' });
  const body = AsReq.decode(sent[0]!).reqBody;
  assert.equal(body.cname?.nameType, NameType.NT_ENTERPRISE);
  assert.deepEqual(body.cname?.nameString, ['alice@EXAMPLE.TEST']);
  assert.equal(body.realm, 'EXAMPLE.TEST');
  assert.notEqual(body.kdcOptions & KdcOptions.canonicalize, 0);
  assert.deepEqual([credential.client.realm, ...credential.client.components], ['EXAMPLE.TEST', 'alice']);
  assert.equal(credential.client.nameType, NameType.NT_PRINCIPAL);
});

test('enterprisePrincipal: the first @ is the name\'s, a second names the realm to ask (as MIT kinit -E)', () => {
  assert.deepEqual(enterprisePrincipal('alice@ad.test', 'AD.TEST'), { realm: 'AD.TEST', nameType: NameType.NT_ENTERPRISE, components: ['alice@ad.test'] });
  assert.deepEqual(enterprisePrincipal('alice@ad.test@OTHER.TEST', 'AD.TEST'), { realm: 'OTHER.TEST', nameType: NameType.NT_ENTERPRISE, components: ['alice@ad.test'] });
});

test('a client referral (WRONG_REALM with crealm) is followed to the named realm with the same enterprise name', async () => {
  const r = await realm();
  const { transport, log } = routed(r, 'EXAMPLE.TEST');
  const client = clientWith(r, transport, 'FRONT.TEST');
  const { credential } = await client.getInitialCredentials({ client: 'alice@EXAMPLE.TEST', enterprise: true, password: 'alice-pw' });
  assert.equal(log[0], `1:FRONT.TEST:${NameType.NT_ENTERPRISE}:alice@EXAMPLE.TEST`);
  assert.ok(log.slice(1).every((l) => l === `2:EXAMPLE.TEST:${NameType.NT_ENTERPRISE}:alice@EXAMPLE.TEST`), log.join('\n'));
  assert.deepEqual(credential.server.components, ['krbtgt', 'EXAMPLE.TEST']);
  assert.equal(credential.client.realm, 'EXAMPLE.TEST');
});

test('referrals that loop fail naming the realms; without CANONICALIZE WRONG_REALM is not followed', async () => {
  const r = await realm();
  const loop = routed(r, 'EXAMPLE.TEST', 'FRONT.TEST');
  await assert.rejects(clientWith(r, loop.transport, 'FRONT.TEST').getInitialCredentials({ client: 'alice@EXAMPLE.TEST', enterprise: true, password: 'alice-pw' }),
    (err: unknown) => err instanceof KdcError && /FRONT\.TEST → EXAMPLE\.TEST → FRONT\.TEST/.test(err.message));
  const plain = routed(r, 'EXAMPLE.TEST');
  await assert.rejects(clientWith(r, plain.transport, 'FRONT.TEST').getInitialCredentials({ client: 'alice', password: 'alice-pw' }),
    (err: unknown) => err instanceof KdcError && err.krbCode === ErrorCode.KDC_ERR_WRONG_REALM);
  assert.equal(plain.log.length, 1);
});
