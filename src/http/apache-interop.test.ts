/**
 * kerbside's negotiateFetch against Apache httpd + mod_auth_gssapi (MIT
 * GSS-API acceptor), with keytabs exported from the kerbside KDC and from an
 * MIT KDC. negotiateFetch verifies Apache's mutual-authentication token.
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KerberosClient, loadClientConfig, LogonSession } from '../client/index.js';
import { startTestRealm, type TestRealm } from '../kdc/index.js';
import { freeLoopbackPort, startMitRealm, type MitRealm } from '../testing/mit-realm.js';
import { baseEnvironment, checkRun, mitTool, requireTool, runProgram } from '../testing/mit-tools.js';
import { startApache, type ApacheServer } from '../testing/apache.js';
import { negotiateFetch, NegotiateCredentialsError, NegotiateRefusedError } from './index.js';

let dir: string;
let realm: TestRealm;
let mit: MitRealm;
let apache: ApacheServer;

async function sessionFor(krb5Conf: string, principal: string, password: string): Promise<LogonSession> {
  const client = new KerberosClient({ config: await loadClientConfig(krb5Conf) });
  return LogonSession.open({ client, principal, source: { kind: 'password', password } });
}

before(async () => {
  requireTool('apache2', 'apache2');
  dir = await mkdtemp(join(tmpdir(), 'kerbside-http-apache-'));
  realm = await startTestRealm({
    principals: [{ name: 'alice', password: 'alice-password' }, { name: 'HTTP/localhost', randomKey: true }],
  });
  await realm.exportKeytab('HTTP/localhost', join(dir, 'kerbside.keytab'));
  await realm.writeKrb5Conf(join(dir, 'krb5.conf'));
  mit = await startMitRealm({
    realm: 'MIT.TEST',
    principals: [{ name: 'bob', password: 'bob-password' }, { name: 'HTTP/localhost', randkey: true }],
  });
  await mit.exportKeytab('HTTP/localhost', join(dir, 'mit.keytab'));
  apache = await startApache([
    { name: 'kerbside', keytab: join(dir, 'kerbside.keytab') },
    { name: 'mit', keytab: join(dir, 'mit.keytab') },
  ], { port: await freeLoopbackPort(), krb5Conf: join(dir, 'krb5.conf') });
});

after(async () => {
  await apache?.stop();
  await mit?.stop();
  await realm?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('negotiateFetch against Apache mod_auth_gssapi', () => {
  test('keytab from the kerbside KDC: 200, mutual authentication verified', async () => {
    const session = await sessionFor(join(dir, 'krb5.conf'), 'alice', 'alice-password');
    const res = await negotiateFetch(`http://localhost:${apache.port}/kerbside/hello.txt`, { negotiate: { session } })
      .catch(async (err: unknown) => { throw new Error(`${String(err)}\nApache error log:\n${await apache.errorLog()}`); });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello from apache kerbside\n');
    assert.match(res.headers.get('www-authenticate') ?? '', /^Negotiate \S+/);
  });

  test('keytab from an MIT KDC: 200', async () => {
    const session = await sessionFor(mit.krb5ConfPath, 'bob', 'bob-password');
    const res = await negotiateFetch(`http://localhost:${apache.port}/mit/hello.txt`, { negotiate: { session } });
    const text = await res.text();
    assert.equal(res.status, 200, `${text}\n${await apache.errorLog()}`);
    assert.equal(text, 'hello from apache mit\n');
  });

  test('the default credential cache (MIT kinit from the kerbside KDC) is used when no session is given', async () => {
    const env = { ...baseEnvironment(), KRB5_CONFIG: join(dir, 'krb5.conf'), KRB5CCNAME: `FILE:${join(dir, 'cc')}`, HOME: dir };
    checkRun('kinit', await runProgram(mitTool('kinit'), ['alice'], { input: 'alice-password\n', env }));
    const res = await negotiateFetch(`http://localhost:${apache.port}/kerbside/hello.txt`, { negotiate: { env } });
    assert.equal(res.status, 200);
  });

  test('a ticket Apache cannot decrypt gives NegotiateRefusedError, not a loop and not an unauthenticated retry', async () => {
    // bob of MIT.TEST asks for HTTP/localhost@MIT.TEST, but the location holds the kerbside realm's key.
    const session = await sessionFor(mit.krb5ConfPath, 'bob', 'bob-password');
    await assert.rejects(
      negotiateFetch(`http://localhost:${apache.port}/kerbside/hello.txt`, { negotiate: { session } }),
      (err: unknown) => err instanceof NegotiateRefusedError && /refused the Kerberos ticket/.test(err.message),
    );
  });

  test('no credentials: NegotiateCredentialsError explains why', async () => {
    const env = { KRB5_CONFIG: join(dir, 'krb5.conf'), KRB5CCNAME: `FILE:${join(dir, 'nothing-here')}` };
    await assert.rejects(
      negotiateFetch(`http://localhost:${apache.port}/kerbside/hello.txt`, { negotiate: { env } }),
      (err: unknown) => err instanceof NegotiateCredentialsError && /no Kerberos ticket for HTTP\/localhost/.test(err.message),
    );
  });
});
