/**
 * A test of your own app against a throwaway realm: startTestRealm serves a
 * KDC on a free loopback port, in process; no Kerberos installation needed.
 *
 *   node --test test-realm.test.js
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientConfig, KerberosClient, LogonSession } from 'kerbside/client';
import { negotiateFetch, negotiateListener, negotiateServer } from 'kerbside/http';
import { startTestRealm } from 'kerbside/kdc';

test('alice reaches the protected page with her own logon', async (t) => {
  const realm = await startTestRealm({
    principals: [{ name: 'alice', password: 'alice-password' }, { name: 'HTTP/localhost', randomKey: true }],
  });
  const dir = await mkdtemp(join(tmpdir(), 'my-app-test-'));
  t.after(async () => {
    await realm.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const keytab = join(dir, 'http.keytab');
  await realm.exportKeytab('HTTP/localhost', keytab);

  const auth = negotiateServer({ keytab, principal: `HTTP/localhost@${realm.realm}` });
  const server = createServer(negotiateListener(auth, (req, res) => { res.end(`hello ${req.auth.principal}`); }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const { port } = server.address() as AddressInfo;

  const client = new KerberosClient({
    config: clientConfig({ defaultRealm: realm.realm, realms: { [realm.realm]: { kdc: [realm.kdcAddress] } } }),
  });
  const session = await LogonSession.open({ client, principal: 'alice', source: { kind: 'password', password: 'alice-password' } });
  t.after(() => session.close());

  const res = await negotiateFetch(`http://localhost:${port}/`, { negotiate: { session } });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), `hello alice@${realm.realm}`);
});
