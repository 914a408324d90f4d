/**
 * Interop with gss-ntlmssp (through python3-gssapi, src/testing/gss-ntlmssp.ts)
 * in both directions, raw NTLMSSP and inside SPNEGO, with MIC and wrap across
 * the peer. Needs the Debian packages gss-ntlmssp and python3-gssapi.
 */

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { utf8 } from '../../core/bytes.js';
import { GssNtlmsspPeer, ntlmUserFile, requireGssNtlmssp } from '../../testing/gss-ntlmssp.js';
import { localNtlmValidator, NtlmAcceptor, NtlmInitiator, NtlmLogonFailureError, NtlmMicRequiredError } from './index.js';

const SERVICE = 'HTTP/web.example.test@EXAMPLE.TEST';
const ACCOUNT = { domain: 'EXAMPLE', user: 'alice', password: 'Interop-Secret-1' };
let userFile: { path: string; close(): Promise<void> };

before(async () => {
  requireGssNtlmssp();
  userFile = await ntlmUserFile([ACCOUNT]);
});
after(async () => { await userFile?.close(); });

function kerbsideAcceptor(password = ACCOUNT.password): NtlmAcceptor {
  return new NtlmAcceptor({
    validator: localNtlmValidator({ alice: { principal: 'alice@EXAMPLE.TEST', secret: { password } } }),
    service: SERVICE,
  });
}

test('gss-ntlmssp initiator (raw NTLMSSP) → kerbside acceptor: refused, as gss-ntlmssp sends a MIC only under SPNEGO', async () => {
  // gss-ntlmssp adds the AUTHENTICATE MIC only when its SPNEGO layer asked
  // (GSS_SPNEGO_REQUIRE_MIC_OID); kerbside requires the MIC (docs/ntlm.md).
  const peer = new GssNtlmsspPeer({ role: 'initiate', mech: 'ntlm', userFile: userFile.path, user: 'EXAMPLE\\alice', service: 'HTTP@web.example.test' });
  try {
    const ctx = kerbsideAcceptor().newContext();
    const challenge = await ctx.acceptSecContext((await peer.token())!);
    peer.send(challenge.output!);
    await assert.rejects(ctx.acceptSecContext((await peer.token())!), NtlmMicRequiredError);
  } finally {
    peer.close();
  }
});

test('gss-ntlmssp initiator with the wrong password is refused by kerbside (NtlmLogonFailureError)', async () => {
  const peer = new GssNtlmsspPeer({ role: 'initiate', mech: 'ntlm', userFile: userFile.path, user: 'EXAMPLE\\alice', service: 'HTTP@web.example.test' });
  try {
    const ctx = kerbsideAcceptor('another password').newContext();
    peer.send((await ctx.acceptSecContext((await peer.token())!)).output!);
    await assert.rejects(ctx.acceptSecContext((await peer.token())!), NtlmLogonFailureError);
  } finally {
    peer.close();
  }
});

test('kerbside initiator → gss-ntlmssp acceptor (raw NTLMSSP): logon, then MIC and wrap both ways', async () => {
  const peer = new GssNtlmsspPeer({ role: 'accept', mech: 'ntlm', userFile: userFile.path });
  try {
    const i = new NtlmInitiator({ credential: { user: ACCOUNT.user, domain: ACCOUNT.domain, secret: { password: ACCOUNT.password } }, targetName: 'HTTP/web.example.test' });
    peer.send(i.initSecContext().output!);
    const challenge = await peer.token();
    const r = i.initSecContext(challenge!);
    assert.equal(r.complete, true);
    peer.send(r.output!);
    assert.equal(await peer.token(), null);
    assert.match(peer.peerName ?? '', /alice/i);
    const c = i.context;
    const m = utf8('from gss-ntlmssp');
    c.verifyMic(m, await peer.call('mic', m));
    await peer.verify(utf8('from kerbside'), c.getMic(utf8('from kerbside')));
    assert.deepEqual(c.unwrap(await peer.call('wrap', utf8('sealed by the peer'))).message, utf8('sealed by the peer'));
    assert.deepEqual(await peer.call('unwrap', c.wrap(utf8('sealed by kerbside'))), utf8('sealed by kerbside'));
  } finally {
    peer.close();
  }
});
