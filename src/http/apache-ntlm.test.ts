/**
 * kerbside's negotiateFetch NTLM initiator against Apache httpd +
 * mod_auth_gssapi with gss-ntlmssp as its mechanism (`GssapiAllowedMech
 * ntlmssp`, accounts from NTLM_USER_FILE). mod_auth_gssapi offers both
 * `WWW-Authenticate: Negotiate` and `WWW-Authenticate: NTLM` for such a
 * location; both are tried: NTLM inside SPNEGO under Negotiate, and raw
 * NTLMSSP under NTLM. The client has no Kerberos realm for the host, so the
 * downgrade rule lets it use NTLM.
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memorySink } from '../events/index.js';
import { ntlm } from '../gss/index.js';
import { startApache, type ApacheServer } from '../testing/apache.js';
import { ntlmUserFile, requireGssNtlmssp } from '../testing/gss-ntlmssp.js';
import { freeLoopbackPort } from '../testing/mit-realm.js';
import { requireTool } from '../testing/mit-tools.js';
import { negotiateFetch, NegotiateRefusedError } from './index.js';

let apache: ApacheServer;
let users: { path: string; close(): Promise<void> };
// No krb5.conf: no default realm, so Kerberos does not apply to localhost.
const env = { KRB5_CONFIG: '/dev/null', KRB5CCNAME: 'FILE:/nonexistent/kerbside-ccache' };

before(async () => {
  requireTool('apache2', 'apache2');
  requireGssNtlmssp();
  users = await ntlmUserFile([{ domain: 'EXAMPLE', user: 'alice', password: 'alice-pw' }]);
  apache = await startApache([{ name: 'ntlm', mech: 'ntlmssp' }], { port: await freeLoopbackPort(), ntlmUserFile: users.path });
});

after(async () => {
  await apache?.stop();
  await users?.close();
});

describe('negotiateFetch NTLM against Apache mod_auth_gssapi + gss-ntlmssp', () => {
  test('mod_auth_gssapi offers Negotiate and NTLM', async () => {
    const res = await fetch(`http://127.0.0.1:${apache.port}/ntlm/hello.txt`);
    assert.equal(res.status, 401);
    assert.deepEqual(res.headers.get('www-authenticate')?.split(/,\s*/), ['Negotiate', 'NTLM']);
  });

  for (const scheme of ['Negotiate', 'NTLM'] as const) {
    test(`${scheme === 'Negotiate' ? 'NTLM inside SPNEGO (Negotiate)' : 'raw NTLMSSP (Authorization: NTLM)'} with the password: 200`, async () => {
      const events = memorySink();
      const res = await negotiateFetch(`http://localhost:${apache.port}/ntlm/hello.txt`, {
        negotiate: { env, events, ntlmScheme: scheme, ntlm: { user: 'alice', domain: 'EXAMPLE', password: 'alice-pw' } },
      }).catch(async (err: unknown) => { throw new Error(`${String(err)}\nApache error log:\n${(await apache.errorLog()).slice(-2000)}`); });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'hello from apache ntlm\n');
      assert.equal(events.ofType('spnego.downgrade_refused').length, 0);
    });
  }

  test('with the NT hash instead of the password: 200; a wrong password: NegotiateRefusedError', async () => {
    const ok = await negotiateFetch(`http://localhost:${apache.port}/ntlm/hello.txt`, {
      negotiate: { env, ntlm: { user: 'alice', domain: 'EXAMPLE', ntHash: ntlm.ntHash('alice-pw') } },
    });
    assert.equal(ok.status, 200);
    await assert.rejects(negotiateFetch(`http://localhost:${apache.port}/ntlm/hello.txt`, {
      negotiate: { env, ntlm: { user: 'alice', domain: 'EXAMPLE', password: 'wrong' } },
    }), NegotiateRefusedError);
  });
});
