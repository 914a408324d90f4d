/**
 * SPNEGO with NTLM (MS-SPNG): selection, the mandatory mechListMIC, the RC4
 * reset after it (§3.3.5.1), raw NTLMSSP under Negotiate, and no fallback
 * from a failed Kerberos token (RFC 4178 + docs/ntlm.md).
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { utf8 } from '../core/bytes.js';
import { seededRandom } from '../core/random.js';
import { memorySink } from '../events/index.js';
import {
  decodeSpnegoToken, DefectiveTokenError, encodeMechTypes, encodeNegTokenResp, Krb5Acceptor, MechOid, NegState, NtlmAcceptor, NtlmChallengeRegistry,
  NtlmContext, NtlmIntegrityError, NtlmNotEnabledError, SpnegoAcceptor, SpnegoInitiator, staticKeys, localNtlmValidator, isNtlmToken, type NegTokenResp,
  type SpnegoInitiatorOptions, GssError, offersOnlyNtlm,
} from './index.js';
import { mintTicket, serviceKey } from '../testing/gss-fixtures.js';

const T0 = Date.UTC(2026, 3, 1, 8, 30, 0);
const SERVICE = 'HTTP/web.example.test@EXAMPLE.TEST';

function setup(o: { ntlm?: boolean } = {}) {
  const clock = new ManualClock(T0);
  const random = seededRandom(4178);
  const key = serviceKey(random, { kvno: 2 });
  const events = memorySink();
  const krb5 = new Krb5Acceptor({ keys: staticKeys([key]), clock, random, events });
  const ntlm = new NtlmAcceptor({
    validator: localNtlmValidator({ alice: { principal: 'alice@EXAMPLE.TEST', secret: { password: 'pw-1' } } }),
    service: SERVICE, clock, random, events, issuedChallenges: new NtlmChallengeRegistry(),
  });
  const acceptor = new SpnegoAcceptor({ krb5, clock, events, ...(o.ntlm === false ? {} : { ntlm }) });
  const ntlmOptions = { credential: { user: 'alice', domain: 'EXAMPLE', secret: { password: 'pw-1' } }, targetName: 'HTTP/web.example.test', clock, random };
  const initiator = (extra: Partial<SpnegoInitiatorOptions> = {}) => new SpnegoInitiator({ ntlm: ntlmOptions, events, clock, ...extra });
  return { clock, random, key, events, acceptor, initiator, ntlmOptions };
}

function resp(token: Uint8Array): NegTokenResp {
  const t = decodeSpnegoToken(token);
  assert.equal(t.type, 'resp');
  return t.value as NegTokenResp;
}

async function run(init: SpnegoInitiator, acc: ReturnType<SpnegoAcceptor['newContext']>, tamper?: (leg: number, t: Uint8Array) => Uint8Array): Promise<Uint8Array[]> {
  const tokens: Uint8Array[] = [];
  let out = init.initSecContext();
  for (let leg = 0; leg < 6; leg++) {
    const sent = tamper === undefined ? out.output! : tamper(tokens.length, out.output!);
    tokens.push(sent);
    const a = await acc.acceptSecContext(sent);
    if (a.output === undefined) break;
    tokens.push(a.output);
    if (init.complete) break;
    out = init.initSecContext(a.output);
    if (out.output === undefined) break;
  }
  return tokens;
}

function exchange(a: NtlmContext, b: NtlmContext): void {
  for (const [from, to] of [[a, b], [b, a]] as const) {
    assert.deepEqual(to.unwrap(from.wrap(utf8('sealed'))).message, utf8('sealed'));
    const m = utf8('signed');
    to.verifyMic(m, from.getMic(m));
    assert.deepEqual(to.unwrap(from.wrap(utf8('sealed again'))).message, utf8('sealed again'));
  }
}

test('NTLM-only SPNEGO both sides: NEGOTIATE optimistic, CHALLENGE, AUTHENTICATE with mechListMIC, MIC back; then wrap and MIC', async () => {
  const { acceptor, initiator } = setup();
  const init = initiator();
  const acc = acceptor.newContext();
  const tokens = await run(init, acc);
  assert.equal(tokens.length, 4);
  const first = decodeSpnegoToken(tokens[0]!);
  assert.ok(first.type === 'init' && first.value.mechTypes.length === 1 && first.value.mechTypes[0] === MechOid.NTLMSSP);
  assert.ok(first.type === 'init' && isNtlmToken(first.value.mechToken!));
  const r1 = resp(tokens[1]!);
  assert.equal(r1.supportedMech, MechOid.NTLMSSP);
  assert.equal(r1.negState, NegState.ACCEPT_INCOMPLETE);
  assert.ok(isNtlmToken(r1.responseToken!));
  const r2 = resp(tokens[2]!);
  assert.ok(r2.responseToken !== undefined && r2.mechListMIC !== undefined, 'AUTHENTICATE and the initiator\'s mechListMIC');
  const r3 = resp(tokens[3]!);
  assert.equal(r3.negState, NegState.ACCEPT_COMPLETED);
  assert.ok(r3.mechListMIC !== undefined);
  assert.ok(init.complete && acc.complete);
  assert.equal(acc.negotiatedMech, MechOid.NTLMSSP);
  const server = acc.context;
  assert.ok(server instanceof NtlmContext);
  assert.equal(server.initiator, 'alice@EXAMPLE.TEST');
  exchange(init.context as NtlmContext, server);
});

test('the NTLM mechListMIC is required: an AUTHENTICATE leg without it is refused', async () => {
  const { acceptor, initiator } = setup();
  const strip = (leg: number, t: Uint8Array): Uint8Array => {
    if (leg !== 2) return t;
    const r = resp(t);
    return encodeNegTokenResp({ negState: r.negState!, responseToken: r.responseToken! });
  };
  await assert.rejects(run(initiator(), acceptor.newContext(), strip), DefectiveTokenError);
});

test('an altered mechListMIC fails to verify (NtlmIntegrityError)', async () => {
  const { acceptor, initiator } = setup();
  const flip = (leg: number, t: Uint8Array): Uint8Array => {
    if (leg !== 2) return t;
    const r = resp(t);
    const mic = r.mechListMIC!.slice();
    mic[4] = mic[4]! ^ 0xff;
    return encodeNegTokenResp({ negState: r.negState!, responseToken: r.responseToken!, mechListMIC: mic });
  };
  await assert.rejects(run(initiator(), acceptor.newContext(), flip), NtlmIntegrityError);
});

test('[NTLMSSP, KRB5]: the acceptor picks NTLM (first in the initiator\'s list it supports)', async () => {
  const s = setup();
  const credential = mintTicket({ service: s.key, now: s.clock.now(), random: s.random });
  const init = s.initiator({ krb5: { credential, clock: s.clock, random: s.random }, mechTypes: [MechOid.NTLMSSP, MechOid.KRB5] });
  const acc = s.acceptor.newContext();
  await run(init, acc);
  assert.ok(init.complete && acc.complete);
  assert.ok(acc.context instanceof NtlmContext);
  assert.equal(init.negotiatedMech, MechOid.NTLMSSP);
});

test('[KRB5, NTLMSSP] with a Kerberos token the acceptor cannot use: refused with spnego.downgrade_refused, no NTLM fallback', async () => {
  const s = setup();
  const otherKey = serviceKey(seededRandom(9), { kvno: 7 });
  const credential = mintTicket({ service: otherKey, now: s.clock.now(), random: s.random });
  const init = s.initiator({ krb5: { credential, clock: s.clock, random: s.random }, mechTypes: [MechOid.KRB5, MechOid.NTLMSSP] });
  const acc = s.acceptor.newContext();
  await assert.rejects(acc.acceptSecContext(init.initSecContext().output!), (e: unknown) => e instanceof GssError && !(e instanceof NtlmNotEnabledError));
  const ev = s.events.ofType('spnego.downgrade_refused');
  assert.equal(ev.length, 1);
  assert.equal(ev[0]!.fields['side'], 'acceptor');
  assert.equal(s.events.ofType('ntlm.validation').length, 0);
});

test('an NTLM-only offer to an acceptor without ntlm is NtlmNotEnabledError (SPNEGO and raw NTLMSSP)', async () => {
  const { acceptor, initiator, ntlmOptions } = setup({ ntlm: false });
  await assert.rejects(acceptor.newContext().acceptSecContext(initiator().initSecContext().output!), NtlmNotEnabledError);
  const { NtlmInitiator } = await import('./ntlm/index.js');
  await assert.rejects(acceptor.newContext().acceptSecContext(new NtlmInitiator(ntlmOptions).initSecContext().output!), NtlmNotEnabledError);
});

test('raw NTLMSSP under Negotiate (no SPNEGO) is accepted when ntlm is set', async () => {
  const { acceptor, ntlmOptions } = setup();
  const { NtlmInitiator } = await import('./ntlm/index.js');
  const i = new NtlmInitiator(ntlmOptions);
  const acc = acceptor.newContext();
  const challenge = await acc.acceptSecContext(i.initSecContext().output!);
  assert.ok(isNtlmToken(challenge.output!));
  const done = await acc.acceptSecContext(i.initSecContext(challenge.output!).output!);
  assert.equal(done.complete, true);
  assert.ok(acc.rawNtlm && !acc.rawKerberos);
  assert.equal(acc.context.initiator, 'alice@EXAMPLE.TEST');
});

test('offersOnlyNtlm and isNtlmToken tell NTLM offers apart', async () => {
  const s = setup();
  const ntlmOnly = s.initiator().initSecContext().output!;
  assert.ok(offersOnlyNtlm(ntlmOnly));
  const credential = mintTicket({ service: s.key, now: s.clock.now(), random: s.random });
  const both = s.initiator({ krb5: { credential, clock: s.clock, random: s.random }, mechTypes: [MechOid.NTLMSSP, MechOid.KRB5] }).initSecContext().output!;
  assert.ok(!offersOnlyNtlm(both));
  const { NtlmInitiator } = await import('./ntlm/index.js');
  const raw = new NtlmInitiator(s.ntlmOptions).initSecContext().output!;
  assert.ok(offersOnlyNtlm(raw) && isNtlmToken(raw) && !isNtlmToken(ntlmOnly));
  assert.ok(!offersOnlyNtlm(utf8('garbage')));
});

test('the initiator refuses mechanisms it has no options for', () => {
  const s = setup();
  assert.throws(() => new SpnegoInitiator({ mechTypes: [MechOid.KRB5], ntlm: s.ntlmOptions }), /no krb5 options/);
  assert.throws(() => new SpnegoInitiator({}), /no mechanism/);
});

test('initiator [KRB5, NTLMSSP]: an acceptor choosing NTLM gets NEGOTIATE next (optimistic Kerberos token dropped) and the MIC exchange', async () => {
  const s = setup();
  const credential = mintTicket({ service: s.key, now: s.clock.now(), random: s.random });
  const init = s.initiator({ krb5: { credential, clock: s.clock, random: s.random }, mechTypes: [MechOid.KRB5, MechOid.NTLMSSP] });
  init.initSecContext();
  const ntlm = new NtlmAcceptor({
    validator: localNtlmValidator({ alice: { principal: 'alice@EXAMPLE.TEST', secret: { password: 'pw-1' } } }),
    service: SERVICE, clock: s.clock, random: s.random, issuedChallenges: new NtlmChallengeRegistry(),
  }).newContext();
  const r1 = resp(init.initSecContext(encodeNegTokenResp({ negState: NegState.REQUEST_MIC, supportedMech: MechOid.NTLMSSP })).output!);
  assert.ok(isNtlmToken(r1.responseToken!) && r1.mechListMIC === undefined);
  const challenge = (await ntlm.acceptSecContext(r1.responseToken!)).output!;
  const r2 = resp(init.initSecContext(encodeNegTokenResp({ negState: NegState.ACCEPT_INCOMPLETE, responseToken: challenge })).output!);
  assert.equal((await ntlm.acceptSecContext(r2.responseToken!)).complete, true);
  const mechTypes = encodeMechTypes([MechOid.KRB5, MechOid.NTLMSSP]);
  const server = ntlm.context;
  server.verifyMic(mechTypes, r2.mechListMIC!);
  server.resetCryptoAfterMechListMic('inbound');
  const mic = server.getMic(mechTypes);
  server.resetCryptoAfterMechListMic('outbound');
  const last = init.initSecContext(encodeNegTokenResp({ negState: NegState.ACCEPT_COMPLETED, mechListMIC: mic }));
  assert.equal(last.complete, true);
  assert.equal(init.negotiatedMech, MechOid.NTLMSSP);
  exchange(init.context as NtlmContext, server);
});
