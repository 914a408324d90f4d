/**
 * Interop with gss-ntlmssp (through python3-gssapi, src/testing/gss-ntlmssp.ts)
 * in both directions, raw NTLMSSP and inside SPNEGO, with MIC and wrap across
 * the peer. Needs the Debian packages gss-ntlmssp and python3-gssapi.
 */

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { utf8 } from '../../core/bytes.js';
import { GssNtlmsspPeer, ntlmUserFile, requireGssNtlmssp } from '../../testing/gss-ntlmssp.js';
import { seededRandom } from '../../core/random.js';
import { serviceKey } from '../../testing/gss-fixtures.js';
import { BadBindingsError, Krb5Acceptor, MechOid, SpnegoAcceptor, SpnegoInitiator, staticKeys, type SpnegoAcceptorContext } from '../index.js';
import { localNtlmValidator, NtlmContext, NtlmTargetNameError, type NtlmAcceptorOptions, NtlmAcceptor, NtlmInitiator, NtlmLogonFailureError, NtlmMicRequiredError } from './index.js';

const SERVICE = 'HTTP/web.example.test@EXAMPLE.TEST';
const ACCOUNT = { domain: 'EXAMPLE', user: 'alice', password: 'Interop-Secret-1' };
let userFile: { path: string; close(): Promise<void> };

before(async () => {
  requireGssNtlmssp();
  userFile = await ntlmUserFile([ACCOUNT]);
});
after(async () => { await userFile?.close(); });

function kerbsideAcceptor(password = ACCOUNT.password, extra: Partial<NtlmAcceptorOptions> = {}): NtlmAcceptor {
  return new NtlmAcceptor({
    validator: localNtlmValidator({ alice: { principal: 'alice@EXAMPLE.TEST', secret: { password } } }),
    service: SERVICE,
    ...extra,
  });
}

/** GetMIC / VerifyMIC and Wrap / Unwrap in both directions between our context and the peer's. */
async function messagesAcross(c: NtlmContext, peer: GssNtlmsspPeer): Promise<void> {
  const m = utf8('from gss-ntlmssp');
  c.verifyMic(m, await peer.call('mic', m));
  await peer.verify(utf8('from kerbside'), c.getMic(utf8('from kerbside')));
  assert.deepEqual(c.unwrap(await peer.call('wrap', utf8('sealed by the peer'))).message, utf8('sealed by the peer'));
  assert.deepEqual(await peer.call('unwrap', c.wrap(utf8('sealed by kerbside'))), utf8('sealed by kerbside'));
}

const BINDINGS = utf8('tls-server-end-point:0123456789abcdef0123456789abcdef');

/** gss-ntlmssp initiates through SPNEGO; the kerbside SpnegoAcceptor (over `ntlm`) answers until done or it throws. */
async function peerInitiatesSpnego(peer: GssNtlmsspPeer, ntlm: NtlmAcceptor, bindings?: Uint8Array): Promise<SpnegoAcceptorContext> {
  const acc = new SpnegoAcceptor({ krb5: new Krb5Acceptor({ keys: staticKeys([serviceKey(seededRandom(5))]) }), ntlm })
    .newContext(bindings === undefined ? {} : { channelBindings: { applicationData: bindings } });
  let token = await peer.token();
  for (let legs = 0; token !== null && legs < 4; legs++) {
    const r = await acc.acceptSecContext(token);
    if (r.output !== undefined) peer.send(r.output);
    if (r.complete) break;
    token = await peer.token();
  }
  return acc;
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
    await messagesAcross(c, peer);
  } finally {
    peer.close();
  }
});

test('gss-ntlmssp SPNEGO initiator (NTLM only) → kerbside SpnegoAcceptor: mechListMIC both ways, then MIC and wrap', async () => {
  const peer = new GssNtlmsspPeer({ role: 'initiate', mech: 'spnego', userFile: userFile.path, user: 'EXAMPLE\\alice', service: 'HTTP@web.example.test' });
  try {
    const acc = await peerInitiatesSpnego(peer, kerbsideAcceptor());
    assert.equal(acc.complete, true);
    assert.equal(await peer.token(), null);
    assert.equal(acc.negotiatedMech, MechOid.NTLMSSP);
    const c = acc.context as NtlmContext;
    assert.equal(c.initiator, 'alice@EXAMPLE.TEST');
    // After the mechListMIC both RC4 states were reset (MS-SPNG §3.3.5.1): the messages below check that on both sides.
    await messagesAcross(c, peer);
  } finally {
    peer.close();
  }
});

test('kerbside SpnegoInitiator (NTLM only) → gss-ntlmssp SPNEGO acceptor: mechListMIC both ways, then MIC and wrap', async () => {
  const peer = new GssNtlmsspPeer({ role: 'accept', mech: 'spnego', userFile: userFile.path });
  try {
    const init = new SpnegoInitiator({
      ntlm: { credential: { user: ACCOUNT.user, domain: ACCOUNT.domain, secret: { password: ACCOUNT.password } }, targetName: 'HTTP/web.example.test' },
    });
    let out = init.initSecContext();
    let legs = 0;
    while (legs++ < 4) {
      peer.send(out.output!);
      const reply = await peer.token();
      if (reply === null) break;
      out = init.initSecContext(reply);
      if (init.complete && out.output === undefined) break;
    }
    assert.equal(init.complete, true);
    if (peer.peerName === undefined) assert.equal(await peer.token(), null);
    const c = init.context as NtlmContext;
    await messagesAcross(c, peer);
  } finally {
    peer.close();
  }
});

test('gss-ntlmssp SPNEGO initiator with channel bindings → kerbside acceptor requiring them: same bindings pass, others fail', async () => {
  const ok = new GssNtlmsspPeer({ role: 'initiate', mech: 'spnego', userFile: userFile.path, user: 'EXAMPLE\\alice', service: 'HTTP@web.example.test', applicationData: BINDINGS });
  try {
    const acc = await peerInitiatesSpnego(ok, kerbsideAcceptor(ACCOUNT.password, { channelBindingPolicy: 'require' }), BINDINGS);
    assert.equal(acc.complete, true);
  } finally {
    ok.close();
  }
  const other = new GssNtlmsspPeer({ role: 'initiate', mech: 'spnego', userFile: userFile.path, user: 'EXAMPLE\\alice', service: 'HTTP@web.example.test', applicationData: utf8('tls-server-end-point:ffff') });
  try {
    await assert.rejects(peerInitiatesSpnego(other, kerbsideAcceptor(), BINDINGS), BadBindingsError);
  } finally {
    other.close();
  }
});

test('kerbside initiator with channel bindings → gss-ntlmssp acceptor with the same bindings', async () => {
  const peer = new GssNtlmsspPeer({ role: 'accept', mech: 'ntlm', userFile: userFile.path, applicationData: BINDINGS });
  try {
    const i = new NtlmInitiator({
      credential: { user: ACCOUNT.user, domain: ACCOUNT.domain, secret: { password: ACCOUNT.password } }, targetName: 'HTTP/web.example.test',
      channelBindings: { applicationData: BINDINGS },
    });
    peer.send(i.initSecContext().output!);
    peer.send(i.initSecContext((await peer.token())!).output!);
    assert.equal(await peer.token(), null);
  } finally {
    peer.close();
  }
  // And gss-ntlmssp refuses other bindings, so the hash is really compared.
  const strict = new GssNtlmsspPeer({ role: 'accept', mech: 'ntlm', userFile: userFile.path, applicationData: BINDINGS });
  try {
    const i = new NtlmInitiator({
      credential: { user: ACCOUNT.user, domain: ACCOUNT.domain, secret: { password: ACCOUNT.password } }, targetName: 'HTTP/web.example.test',
      channelBindings: { applicationData: utf8('tls-server-end-point:ffff') },
    });
    strict.send(i.initSecContext().output!);
    strict.send(i.initSecContext((await strict.token())!).output!);
    await assert.rejects(strict.token(), /gss-ntlmssp: InvalidTokenError.*Permission denied/);
  } finally {
    strict.close();
  }
});

test('gss-ntlmssp SPNEGO initiator aiming at another host → kerbside refuses on MsvAvTargetName (NtlmTargetNameError)', async () => {
  const peer = new GssNtlmsspPeer({ role: 'initiate', mech: 'spnego', userFile: userFile.path, user: 'EXAMPLE\\alice', service: 'HTTP@other.example.test' });
  try {
    await assert.rejects(peerInitiatesSpnego(peer, kerbsideAcceptor()), NtlmTargetNameError);
  } finally {
    peer.close();
  }
});
