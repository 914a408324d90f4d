/**
 * NtlmInitiator ↔ NtlmAcceptor in process, with localNtlmValidator, and each
 * acceptor / initiator refusal with its own error class (docs/ntlm.md).
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utf8 } from '../../core/bytes.js';
import { ManualClock } from '../../core/clock.js';
import { seededRandom } from '../../core/random.js';
import { memorySink } from '../../events/index.js';
import { BadBindingsError } from '../errors.js';
import type { ChannelBindings } from '../channel-bindings.js';
import {
  decodeAuthenticate, decodeChallenge, encodeAuthenticate, encodeChallenge, encodeNegotiate, ntlmv2Response, ntowfv2, localNtlmValidator, MIC_OFFSET, NegotiateFlags, NtlmAcceptor,
  NtlmChallengeRegistry, NtlmChannelBindingsError, NtlmInitiator, NtlmIntegrityError, NtlmLogonFailureError, NtlmMicRequiredError, NtlmNegotiationError,
  NtlmReflectionError, NtlmReplayError, NtlmTargetNameError, NtlmTimestampError, isNtlmToken, type NtlmAcceptorOptions,
  type NtlmInitiatorOptions,
} from './index.js';

const SERVICE = 'HTTP/web.example.test@EXAMPLE.TEST';
const validator = localNtlmValidator({ alice: { principal: 'alice@EXAMPLE.TEST', secret: { password: 'Secret-1' } } });
const TLS: ChannelBindings = { applicationData: utf8('tls-server-end-point:0123456789abcdef') };

// Both sides run in this process: the acceptors record their challenges apart from the initiators' registry.
const acceptorChallenges = new NtlmChallengeRegistry();

function acceptor(clock: ManualClock, extra: Partial<NtlmAcceptorOptions> = {}): NtlmAcceptor {
  return new NtlmAcceptor({ validator, service: SERVICE, clock, random: seededRandom(1), issuedChallenges: acceptorChallenges, ...extra });
}
function initiator(clock: ManualClock, extra: Partial<NtlmInitiatorOptions> = {}): NtlmInitiator {
  return new NtlmInitiator({
    credential: { user: 'alice', domain: 'EXAMPLE', secret: { password: 'Secret-1' } }, targetName: 'HTTP/web.example.test',
    clock, random: seededRandom(2), workstation: 'WS1', ...extra,
  });
}

/** Runs the three legs; `tamper` may change the AUTHENTICATE before the acceptor sees it. */
async function handshake(a: NtlmAcceptor, i: NtlmInitiator, options: { bindings?: ChannelBindings; tamper?: (auth: Uint8Array) => Uint8Array } = {}) {
  const ctx = a.newContext(options.bindings === undefined ? {} : { channelBindings: options.bindings });
  const negotiate = i.initSecContext();
  assert.equal(negotiate.complete, false);
  const challenge = await ctx.acceptSecContext(negotiate.output!);
  assert.equal(challenge.complete, false);
  const auth = i.initSecContext(challenge.output);
  assert.equal(auth.complete, true);
  const done = await ctx.acceptSecContext(options.tamper ? options.tamper(auth.output!) : auth.output!);
  return { ctx, done, authenticate: auth.output! };
}

test('NTLM round trip: principal, account names, MIC and wrap both ways, and a success event', async () => {
  const clock = new ManualClock();
  const events = memorySink();
  const a = acceptor(clock, { events });
  const i = initiator(clock);
  const { ctx, done } = await handshake(a, i);
  assert.deepEqual(done, { complete: true });
  assert.equal(ctx.complete, true);
  const server = ctx.context;
  const client = i.context;
  assert.equal(server.initiator, 'alice@EXAMPLE.TEST');
  assert.equal(server.account, 'EXAMPLE\\alice');
  assert.equal(server.workstation, 'WS1');
  assert.equal(client.initiator, 'EXAMPLE\\alice');
  assert.equal(server.mechOid, '1.3.6.1.4.1.311.2.2.10');
  assert.equal(server.flags, client.flags);

  const m1 = utf8('client to server');
  server.verifyMic(m1, client.getMic(m1));
  const m2 = utf8('server to client');
  client.verifyMic(m2, server.getMic(m2));
  assert.deepEqual(server.unwrap(client.wrap(utf8('sealed up'))).message, utf8('sealed up'));
  assert.deepEqual(client.unwrap(server.wrap(utf8('sealed down'))).message, utf8('sealed down'));
  // Out of sequence (the same signature twice) fails.
  const sig = client.getMic(m1);
  server.verifyMic(m1, sig);
  assert.throws(() => server.verifyMic(m1, sig), NtlmIntegrityError);

  const ev = events.ofType('ntlm.validation');
  assert.equal(ev.length, 1);
  assert.equal(ev[0]!.fields['status'], 'success');
  assert.equal(ev[0]!.fields['user'], 'alice');
});

test('the CHALLENGE carries target information derived from the service principal, and the clock\'s timestamp', async () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const ctx = acceptor(clock).newContext();
  const r = await ctx.acceptSecContext(initiator(clock).initSecContext().output!);
  const c = decodeChallenge(r.output!);
  assert.equal(c.targetName, 'EXAMPLE');
  assert.equal(c.targetInfo?.nbComputerName, 'WEB');
  assert.equal(c.targetInfo?.nbDomainName, 'EXAMPLE');
  assert.equal(c.targetInfo?.dnsComputerName, 'web.example.test');
  assert.equal(c.targetInfo?.dnsDomainName, 'example.test');
  assert.equal(c.targetInfo?.timestamp, BigInt(Date.UTC(2026, 5, 1)) * 10_000n + 116_444_736_000_000_000n);
  for (const f of [NegotiateFlags.EXTENDED_SESSIONSECURITY, NegotiateFlags.TARGET_INFO, NegotiateFlags.NEGOTIATE_128, NegotiateFlags.KEY_EXCH, NegotiateFlags.UNICODE]) {
    assert.ok((c.flags & f) !== 0, `flag ${f.toString(16)}`);
  }
  assert.ok(isNtlmToken(r.output!));
  assert.ok(!isNtlmToken(utf8('NTLMSSP')));
});

test('a wrong password is NtlmLogonFailureError, with a failure event naming the cause', async () => {
  const clock = new ManualClock();
  const events = memorySink();
  const i = initiator(clock, { credential: { user: 'alice', domain: 'EXAMPLE', secret: { password: 'wrong' } } });
  await assert.rejects(handshake(acceptor(clock, { events }), i), NtlmLogonFailureError);
  const ev = events.ofType('ntlm.validation');
  assert.equal(ev[0]!.fields['status'], 'failure');
  assert.equal(ev[0]!.fields['cause'], 'bad_password');
  assert.ok(!JSON.stringify(ev).includes('wrong'));
});

test('an altered AUTHENTICATE fails the MIC check (NtlmIntegrityError)', async () => {
  const clock = new ManualClock();
  const flipMic = (auth: Uint8Array): Uint8Array => { const t = auth.slice(); t[MIC_OFFSET] = t[MIC_OFFSET]! ^ 1; return t; };
  await assert.rejects(handshake(acceptor(clock), initiator(clock), { tamper: flipMic }), (e: unknown) => e instanceof NtlmIntegrityError && e.code === 'ERR_NTLM_INTEGRITY');
});

test('channel bindings: matching ones pass, others or none under "require" fail with NtlmChannelBindingsError', async () => {
  const clock = new ManualClock();
  await handshake(acceptor(clock, { channelBindingPolicy: 'require' }), initiator(clock, { channelBindings: TLS }), { bindings: TLS });
  const other: ChannelBindings = { applicationData: utf8('tls-server-end-point:ffff') };
  await assert.rejects(handshake(acceptor(clock), initiator(clock, { channelBindings: other }), { bindings: TLS }),
    (e: unknown) => e instanceof NtlmChannelBindingsError && e instanceof BadBindingsError && e.code === 'ERR_NTLM_CHANNEL_BINDINGS');
  await assert.rejects(handshake(acceptor(clock, { channelBindingPolicy: 'require' }), initiator(clock), { bindings: TLS }), NtlmChannelBindingsError);
  await assert.rejects(handshake(acceptor(clock, { channelBindingPolicy: 'require' }), initiator(clock, { channelBindings: TLS })), NtlmChannelBindingsError);
  // 'allow' accepts a client without bindings; 'none' ignores wrong ones.
  await handshake(acceptor(clock), initiator(clock), { bindings: TLS });
  await handshake(acceptor(clock, { channelBindingPolicy: 'none' }), initiator(clock, { channelBindings: other }), { bindings: TLS });
});

test('an NTLMv2 timestamp beyond the clock skew is NtlmTimestampError', async () => {
  const clock = new ManualClock();
  const a = acceptor(clock, { clockSkewMs: 60_000 });
  const i = initiator(clock);
  const ctx = a.newContext();
  const challenge = await ctx.acceptSecContext(i.initSecContext().output!);
  const auth = i.initSecContext(challenge.output);
  await clock.advance(61_000);
  await assert.rejects(ctx.acceptSecContext(auth.output!), (e: unknown) => e instanceof NtlmTimestampError && e.code === 'ERR_NTLM_TIMESTAMP');
});

test('MsvAvTargetName must name this service (case-insensitive; with or without the realm); empty is accepted', async () => {
  const clock = new ManualClock();
  await handshake(acceptor(clock), initiator(clock, { targetName: 'http/WEB.example.test' }));
  await handshake(acceptor(clock), initiator(clock, { targetName: 'HTTP/web.example.test@EXAMPLE.TEST' }));
  await handshake(acceptor(clock), initiator(clock, { targetName: '' }));
  await assert.rejects(handshake(acceptor(clock), initiator(clock, { targetName: 'HTTP/other.example.test' })),
    (e: unknown) => e instanceof NtlmTargetNameError && e.code === 'ERR_NTLM_TARGET_NAME');
});

test('the same AUTHENTICATE twice is NtlmReplayError', async () => {
  const clock = new ManualClock();
  const a = acceptor(clock);
  const i = initiator(clock);
  const ctx = a.newContext();
  const negotiate = i.initSecContext().output!;
  const challenge = (await ctx.acceptSecContext(negotiate)).output!;
  const auth = i.initSecContext(challenge).output!;
  await ctx.acceptSecContext(auth);
  // The captured exchange presented again (as a retrying proxy or an attacker would, within the skew).
  await clock.advance(10_000);
  await assert.rejects(a.authenticate(negotiate, challenge, auth, undefined), (e: unknown) => e instanceof NtlmReplayError && e.code === 'ERR_NTLM_REPLAY');
});

test('an AUTHENTICATE without MIC is NtlmMicRequiredError, although its NTLMv2 proof is right', async () => {
  const clock = new ManualClock();
  const i = initiator(clock);
  const ctx = acceptor(clock).newContext();
  const negotiate = i.initSecContext().output!;
  const challengeBytes = (await ctx.acceptSecContext(negotiate)).output!;
  const challenge = decodeChallenge(challengeBytes);
  // What a pre-Vista NTLMv2 client sends: the server's target info unchanged (no MsvAvFlags), no MIC, no KEY_EXCH.
  const r = ntlmv2Response({
    responseKeyNT: ntowfv2({ password: 'Secret-1' }, 'alice', 'EXAMPLE'), serverChallenge: challenge.serverChallenge,
    clientChallenge: new Uint8Array(8).fill(3), timestamp: challenge.targetInfo?.timestamp ?? 0n, targetInfo: challenge.targetInfoBytes!,
  });
  const auth = encodeAuthenticate({
    flags: (challenge.flags & ~NegotiateFlags.KEY_EXCH) >>> 0, lmChallengeResponse: new Uint8Array(24), ntChallengeResponse: r.ntChallengeResponse,
    domain: 'EXAMPLE', user: 'alice', workstation: 'OLD', version: { major: 6, minor: 1, build: 7600, revision: 15 },
  });
  assert.equal(decodeAuthenticate(auth).mic, undefined);
  await assert.rejects(ctx.acceptSecContext(auth), (e: unknown) => e instanceof NtlmMicRequiredError && e.code === 'ERR_NTLM_MIC_REQUIRED');
});

test('the initiator refuses a CHALLENGE without extended session security, target info or 128-bit keys', () => {
  const clock = new ManualClock();
  for (const drop of [NegotiateFlags.EXTENDED_SESSIONSECURITY, NegotiateFlags.NEGOTIATE_128, NegotiateFlags.TARGET_INFO]) {
    const i = initiator(clock);
    i.initSecContext();
    const flags = (NegotiateFlags.UNICODE | NegotiateFlags.NTLM | NegotiateFlags.EXTENDED_SESSIONSECURITY | NegotiateFlags.TARGET_INFO | NegotiateFlags.NEGOTIATE_128) & ~drop;
    const c = encodeChallenge({ flags: flags >>> 0, serverChallenge: new Uint8Array(8).fill(7), targetInfo: { pairs: [] } });
    assert.throws(() => i.initSecContext(c), NtlmNegotiationError);
  }
});

test('the initiator refuses a CHALLENGE reflecting a server challenge this process issued (MS08-068)', async () => {
  const clock = new ManualClock();
  // A seed of its own: the other tests' acceptors must not issue the challenge recorded in the process registry.
  const victim = acceptor(clock, { issuedChallenges: NtlmChallengeRegistry.process, random: seededRandom(99) }).newContext();
  const stolen = (await victim.acceptSecContext(initiator(clock).initSecContext().output!)).output!;
  const i = initiator(clock);
  i.initSecContext();
  assert.throws(() => i.initSecContext(stolen), (e: unknown) => e instanceof NtlmReflectionError && e.code === 'ERR_NTLM_REFLECTION');
});

test('the acceptor refuses a NEGOTIATE without extended session security (NtlmNegotiationError)', async () => {
  const clock = new ManualClock();
  const v1 = encodeNegotiate({ flags: NegotiateFlags.UNICODE | NegotiateFlags.NTLM | NegotiateFlags.REQUEST_TARGET });
  await assert.rejects(acceptor(clock).newContext().acceptSecContext(v1), (e: unknown) => e instanceof NtlmNegotiationError && e.code === 'ERR_NTLM_NEGOTIATION');
});

test('a refusal after validation is logged as ntlm.validation failure with the error code as cause', async () => {
  const clock = new ManualClock();
  const events = memorySink();
  await assert.rejects(handshake(acceptor(clock, { events }), initiator(clock, { targetName: 'HTTP/elsewhere.example.test' })), NtlmTargetNameError);
  const ev = events.ofType('ntlm.validation');
  assert.equal(ev.length, 1);
  assert.equal(ev[0]!.fields['status'], 'failure');
  assert.equal(ev[0]!.fields['cause'], 'ERR_NTLM_TARGET_NAME');
});
