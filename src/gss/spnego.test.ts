import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { concatBytes, fromHex, toHex, utf8 } from '../core/bytes.js';
import { seededRandom } from '../core/random.js';
import { memorySink } from '../events/index.js';
import { encodeTlv, tag, TagClass } from '../asn1/index.js';
import { KrbError } from '../messages/index.js';
import {
  BadMicError, ContextExpiredError, GssError, decodeInitialContextToken, decodeKrb5Token, decodeSpnegoToken, DefectiveTokenError, encodeInitialContextToken,
  encodeMechTypes, encodeNegTokenInit, encodeNegTokenResp, GssFlags, KerberosRejectedError, Krb5Acceptor, Krb5Initiator,
  Krb5TokenId, MechOid, NegState, NtlmNotEnabledError, SpnegoAcceptor, SpnegoInitiator, staticKeys, type NegTokenResp,
  type SpnegoInitiatorOptions,
} from './index.js';
import { mintTicket, serviceKey } from '../testing/gss-fixtures.js';

const T0 = Date.UTC(2026, 3, 1, 8, 30, 0, 500);
const NO_MUTUAL = GssFlags.REPLAY | GssFlags.SEQUENCE | GssFlags.CONF | GssFlags.INTEG;

function setup(o: { requireMic?: boolean } = {}) {
  const clock = new ManualClock(T0);
  const random = seededRandom(4178);
  const key = serviceKey(random, { kvno: 2 });
  const events = memorySink();
  const krb5 = new Krb5Acceptor({ keys: staticKeys([key]), clock, random, events });
  const acceptor = new SpnegoAcceptor({ krb5, clock, events, ...(o.requireMic === undefined ? {} : { requireMic: o.requireMic }) });
  const credential = () => mintTicket({ service: key, now: clock.now(), random });
  const initiator = (extra: Partial<SpnegoInitiatorOptions> & { flags?: number } = {}) => new SpnegoInitiator({
    krb5: { credential: credential(), clock, random, ...(extra.flags === undefined ? {} : { requestFlags: extra.flags }) },
    events, clock, ...extra,
  });
  return { clock, random, key, events, krb5, acceptor, credential, initiator };
}

function resp(token: Uint8Array): NegTokenResp {
  const t = decodeSpnegoToken(token);
  assert.equal(t.type, 'resp');
  return t.value as NegTokenResp;
}

/** Runs the exchange to completion; returns every token sent, in order. */
async function run(init: SpnegoInitiator, acc: ReturnType<SpnegoAcceptor['newContext']>): Promise<Uint8Array[]> {
  const tokens: Uint8Array[] = [];
  let out = init.initSecContext();
  for (let leg = 0; leg < 6; leg++) {
    tokens.push(out.output!);
    const a = await acc.acceptSecContext(out.output!);
    if (a.output === undefined) break;
    tokens.push(a.output);
    if (init.complete) break;
    out = init.initSecContext(a.output);
    if (out.output === undefined) break;
  }
  assert.ok(init.complete, 'initiator complete');
  assert.ok(acc.complete, 'acceptor complete');
  return tokens;
}

function roundTrip(init: SpnegoInitiator, acc: ReturnType<SpnegoAcceptor['newContext']>): void {
  assert.equal(new TextDecoder().decode(acc.context.unwrap(init.context.wrap(utf8('to acceptor'))).message), 'to acceptor');
  assert.equal(new TextDecoder().decode(init.context.unwrap(acc.context.wrap(utf8('to initiator'))).message), 'to initiator');
}

test('RFC 4178: Kerberos first with an optimistic token — two legs, accept-completed, no MIC (no unsolicited acceptor MIC)', async () => {
  const s = setup();
  const init = s.initiator();
  const acc = s.acceptor.newContext();
  const tokens = await run(init, acc);
  assert.equal(tokens.length, 2);
  assert.equal(decodeInitialContextToken(tokens[0]!).mechOid, MechOid.SPNEGO, 'NegTokenInit framed with the SPNEGO OID');
  const init0 = decodeSpnegoToken(tokens[0]!);
  assert.equal(init0.type, 'init');
  assert.deepEqual(init0.type === 'init' && init0.value.mechTypes, [MechOid.KRB5]);
  const reply = resp(tokens[1]!);
  assert.equal(reply.negState, NegState.ACCEPT_COMPLETED);
  assert.equal(reply.supportedMech, MechOid.KRB5);
  assert.equal(decodeKrb5Token(reply.responseToken!).tokenId, Krb5TokenId.AP_REP);
  assert.equal(reply.mechListMIC, undefined);
  assert.equal(acc.context.initiator, 'alice@EXAMPLE.TEST');
  roundTrip(init, acc);
});

test('RFC 4178 + MS: an initiator listing the Microsoft Kerberos OID first gets it back as supportedMech', async () => {
  const s = setup();
  const init = s.initiator({ mechTypes: [MechOid.KRB5_MS, MechOid.KRB5] });
  const acc = s.acceptor.newContext();
  const tokens = await run(init, acc);
  assert.equal(resp(tokens[1]!).supportedMech, MechOid.KRB5_MS);
  assert.equal(acc.negotiatedMech, MechOid.KRB5_MS);
  roundTrip(init, acc);
});

test('RFC 4178: without mutual authentication the acceptor completes on the first token', async () => {
  const s = setup();
  const init = s.initiator({ flags: NO_MUTUAL });
  const acc = s.acceptor.newContext();
  const tokens = await run(init, acc);
  const reply = resp(tokens[1]!);
  assert.deepEqual([reply.negState, reply.responseToken, reply.mechListMIC], [NegState.ACCEPT_COMPLETED, undefined, undefined]);
  roundTrip(init, acc);
});

test('RFC 4178 §5 b: an acceptor that demands the MIC exchange — request-mic, AP-REP and MIC, then the initiator\'s MIC', async () => {
  const s = setup({ requireMic: true });
  const init = s.initiator();
  const acc = s.acceptor.newContext();
  const tokens = await run(init, acc);
  assert.equal(tokens.length, 3);
  const first = resp(tokens[1]!);
  assert.equal(first.negState, NegState.REQUEST_MIC);
  assert.ok(first.responseToken !== undefined && first.mechListMIC !== undefined);
  const last = resp(tokens[2]!);
  assert.deepEqual([last.negState, last.responseToken === undefined, last.mechListMIC !== undefined], [NegState.ACCEPT_COMPLETED, true, true]);
  roundTrip(init, acc);
});

test('RFC 4178 §5 c IV: request-mic when the optimistic token was the last mechanism token — the acceptor\'s MIC goes first', async () => {
  const s = setup({ requireMic: true });
  const init = s.initiator({ flags: NO_MUTUAL });
  const acc = s.acceptor.newContext();
  const tokens = await run(init, acc);
  const first = resp(tokens[1]!);
  assert.equal(first.negState, NegState.REQUEST_MIC);
  assert.equal(first.responseToken, undefined);
  assert.ok(first.mechListMIC !== undefined);
  assert.ok(resp(tokens[2]!).mechListMIC !== undefined);
  roundTrip(init, acc);
});

test('RFC 4178 §5 c: an initiator may send its MIC in the NegTokenInit; the acceptor must answer with its own', async () => {
  const s = setup();
  const init = s.initiator({ flags: NO_MUTUAL, sendMic: 'always' });
  const acc = s.acceptor.newContext();
  const tokens = await run(init, acc);
  const i0 = decodeSpnegoToken(tokens[0]!);
  assert.ok(i0.type === 'init' && i0.value.mechListMIC !== undefined);
  const reply = resp(tokens[1]!);
  assert.equal(reply.negState, NegState.ACCEPT_COMPLETED);
  assert.ok(reply.mechListMIC !== undefined);
  roundTrip(init, acc);
});

/** A NegTokenInit offering NTLM first (with an NTLM optimistic token) and Kerberos second, as Windows without a ticket might. */
function ntlmFirstInit(): { token: Uint8Array; mechTypesDer: Uint8Array } {
  const mechTypesDer = encodeMechTypes([MechOid.NTLMSSP, MechOid.KRB5]);
  const ntlmNegotiate = concatBytes(utf8('NTLMSSP\0'), fromHex('01000000978208e2'));
  return { token: encodeNegTokenInit(mechTypesDer, { mechToken: ntlmNegotiate }), mechTypesDer };
}

test('RFC 4178 §5: Kerberos not the initiator\'s first choice — request-mic, the optimistic token is discarded, MICs are required both ways', async () => {
  const s = setup();
  const acc = s.acceptor.newContext();
  const { token, mechTypesDer } = ntlmFirstInit();
  const first = resp((await acc.acceptSecContext(token)).output!);
  assert.deepEqual([first.negState, first.supportedMech, first.responseToken], [NegState.REQUEST_MIC, MechOid.KRB5, undefined]);

  const krb = new Krb5Initiator({ credential: s.credential(), clock: s.clock, random: s.random });
  const second = await acc.acceptSecContext(encodeNegTokenResp({ negState: NegState.ACCEPT_INCOMPLETE, responseToken: krb.initSecContext().output! }));
  assert.equal(second.complete, false);
  const reply = resp(second.output!);
  assert.equal(reply.negState, NegState.ACCEPT_INCOMPLETE, 'request-mic only in the first reply');
  assert.equal(reply.supportedMech, undefined);
  krb.initSecContext(reply.responseToken!);
  // The acceptor's MIC covers the DER of the list as the initiator sent it.
  krb.context.verifyMic(mechTypesDer, reply.mechListMIC!);
  const third = await acc.acceptSecContext(encodeNegTokenResp({ negState: NegState.ACCEPT_COMPLETED, mechListMIC: krb.context.getMic(mechTypesDer) }));
  assert.deepEqual(third, { complete: true });
  assert.equal(acc.context.initiator, 'alice@EXAMPLE.TEST');
});

test('RFC 4178 §5: a MIC over a different (tampered) mechanism list is refused; a missing required MIC is a defective token', async () => {
  const s = setup();
  {
    const acc = s.acceptor.newContext();
    await acc.acceptSecContext(ntlmFirstInit().token);
    const krb = new Krb5Initiator({ credential: s.credential(), clock: s.clock, random: s.random });
    const reply = resp((await acc.acceptSecContext(encodeNegTokenResp({ responseToken: krb.initSecContext().output! }))).output!);
    krb.initSecContext(reply.responseToken!);
    const forged = krb.context.getMic(encodeMechTypes([MechOid.KRB5]));
    const e = await acc.acceptSecContext(encodeNegTokenResp({ mechListMIC: forged })).catch((x: unknown) => x);
    assert.ok(e instanceof BadMicError);
    assert.equal(resp(e.output!).negState, NegState.REJECT);
  }
  {
    // Non-mutual Kerberos after request-mic: the initiator sends the last token and must include its MIC (§5 c V).
    const acc = s.acceptor.newContext();
    await acc.acceptSecContext(ntlmFirstInit().token);
    const krb = new Krb5Initiator({ credential: s.credential(), clock: s.clock, random: s.random, requestFlags: NO_MUTUAL });
    await assert.rejects(acc.acceptSecContext(encodeNegTokenResp({ responseToken: krb.initSecContext().output! })), DefectiveTokenError);
  }
});

test('NTLM only: rejected with negState reject and a typed error saying NTLM is not enabled', async () => {
  const s = setup();
  const only = encodeNegTokenInit(encodeMechTypes([MechOid.NTLMSSP]), { mechToken: utf8('NTLMSSP\0') });
  const e = await s.acceptor.newContext().acceptSecContext(only).catch((x: unknown) => x);
  assert.ok(e instanceof NtlmNotEnabledError);
  assert.equal(e.major, 'GSS_S_BAD_MECH');
  assert.match(e.message, /NTLM is not enabled/);
  assert.deepEqual(resp(e.output!), { negState: NegState.REJECT });
});

test('downgrade: Kerberos fails with NTLM also offered — no fallback, a 40960-style event with the Kerberos failure code', async () => {
  const s = setup();
  const stranger = serviceKey(s.random, { principal: 'HTTP/elsewhere.example.test@EXAMPLE.TEST' });
  const krb = new Krb5Initiator({ credential: mintTicket({ service: stranger, now: s.clock.now(), random: s.random }), clock: s.clock, random: s.random });
  const mechTypesDer = encodeMechTypes([MechOid.KRB5, MechOid.NTLMSSP]);
  const e = await s.acceptor.newContext().acceptSecContext(encodeNegTokenInit(mechTypesDer, { mechToken: krb.initSecContext().output! })).catch((x: unknown) => x);
  assert.ok(e instanceof GssError && e.krbCode === 35);
  const reject = resp(e.output!);
  assert.equal(reject.negState, NegState.REJECT);
  assert.equal(decodeKrb5Token(reject.responseToken!).tokenId, Krb5TokenId.KRB_ERROR);
  const ev = s.events.events.find((x) => x.type === 'spnego.downgrade_refused');
  assert.ok(ev !== undefined);
  assert.equal(ev.fields['failureCode'], 35);
  assert.equal(ev.fields['failureName'], 'KRB_AP_ERR_NOT_US');
  assert.deepEqual(ev.fields['offeredMechs'], [MechOid.KRB5, MechOid.NTLMSSP]);
  assert.match(ev.message, /did not fall back/);
});

test('downgrade, initiator side: a reject carrying a KRB-ERROR names the Kerberos failure; a counter-proposal of NTLM is refused', () => {
  const s = setup();
  const init = s.initiator();
  init.initSecContext();
  const krbError = KrbError.encode({
    pvno: 5, msgType: 30, stime: new Date(T0 - 500), susec: 0, errorCode: 37, realm: 'EXAMPLE.TEST',
    sname: { nameType: 2, nameString: ['HTTP', 'web.example.test'] },
  });
  const rejectTok = encodeNegTokenResp({ negState: NegState.REJECT, responseToken: encodeInitialContextToken(MechOid.KRB5, concatBytes(fromHex('0300'), krbError)) });
  assert.throws(() => init.initSecContext(rejectTok), (e: unknown) => e instanceof KerberosRejectedError && e.krbCode === 37);
  const ev = s.events.events.filter((x) => x.type === 'spnego.downgrade_refused');
  assert.equal(ev.at(-1)?.fields['failureCode'], 37);
  assert.equal(ev.at(-1)?.fields['side'], 'initiator');

  const init2 = s.initiator();
  init2.initSecContext();
  assert.throws(() => init2.initSecContext(encodeNegTokenResp({ negState: NegState.REQUEST_MIC, supportedMech: MechOid.NTLMSSP })), NtlmNotEnabledError);
});

test('pyspnego#17: a mechListMIC that merely echoes the response token is ignored', async () => {
  const s = setup();
  const init = s.initiator();
  const acc = s.acceptor.newContext();
  const out = await acc.acceptSecContext(init.initSecContext().output!);
  const r = resp(out.output!);
  const echoed = encodeNegTokenResp({ ...r, mechListMIC: r.responseToken! });
  assert.equal(resp(echoed).mechListMIC, undefined);
  assert.deepEqual(init.initSecContext(echoed), { complete: true });
});

test('a bare Kerberos token sent to the SPNEGO acceptor is accepted as Kerberos (Negotiate without SPNEGO)', async () => {
  const s = setup();
  const krb = new Krb5Initiator({ credential: s.credential(), clock: s.clock, random: s.random });
  const acc = s.acceptor.newContext();
  const r = await acc.acceptSecContext(krb.initSecContext().output!);
  assert.equal(acc.rawKerberos, true);
  assert.equal(decodeKrb5Token(r.output!).tokenId, Krb5TokenId.AP_REP);
  krb.initSecContext(r.output!);
  assert.equal(acc.context.initiator, 'alice@EXAMPLE.TEST');
});

test('an incomplete SPNEGO handshake expires after its timeout on the injected clock', async () => {
  const s = setup();
  const acc = s.acceptor.newContext();
  await acc.acceptSecContext(ntlmFirstInit().token);
  await s.clock.advance(61_000);
  const krb = new Krb5Initiator({ credential: s.credential(), clock: s.clock, random: s.random });
  await assert.rejects(acc.acceptSecContext(encodeNegTokenResp({ responseToken: krb.initSecContext().output! })), ContextExpiredError);
});

test('RFC 4178 §6: unknown NegTokenResp fields are ignored; Microsoft NegTokenInit2 negHints are skipped', () => {
  const extra = encodeTlv(tag(TagClass.CONTEXT, 7, true), fromHex('0500'));
  const base = encodeNegTokenResp({ negState: NegState.ACCEPT_INCOMPLETE, supportedMech: MechOid.KRB5 });
  // Splice [7] NULL into the SEQUENCE: a1 L 30 L ... → rebuild the lengths.
  const seqContent = concatBytes(base.subarray(4), extra);
  const withExtra = encodeTlv(tag(TagClass.CONTEXT, 1, true), encodeTlv(tag(TagClass.UNIVERSAL, 16, true), seqContent));
  assert.deepEqual(resp(withExtra), { negState: NegState.ACCEPT_INCOMPLETE, supportedMech: MechOid.KRB5 });

  const hints = encodeTlv(tag(TagClass.CONTEXT, 3, true), encodeTlv(tag(TagClass.UNIVERSAL, 16, true),
    encodeTlv(tag(TagClass.CONTEXT, 0, true), concatBytes(fromHex('1b'), Uint8Array.of(5), utf8('hint!')))));
  const types = encodeTlv(tag(TagClass.CONTEXT, 0, true), encodeMechTypes([MechOid.KRB5]));
  const mic = encodeTlv(tag(TagClass.CONTEXT, 4, true), encodeTlv(tag(TagClass.UNIVERSAL, 4, false), fromHex('abcd')));
  const init2 = encodeInitialContextToken(MechOid.SPNEGO, encodeTlv(tag(TagClass.CONTEXT, 0, true),
    encodeTlv(tag(TagClass.UNIVERSAL, 16, true), concatBytes(types, hints, mic))));
  const d = decodeSpnegoToken(init2);
  assert.ok(d.type === 'init');
  assert.deepEqual(d.value.mechTypes, [MechOid.KRB5]);
  assert.equal(toHex(d.value.mechListMIC!), 'abcd');
  assert.throws(() => decodeSpnegoToken(fromHex('a203300100')), DefectiveTokenError);
});
