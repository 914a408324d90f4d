/**
 * Fuzzing the NTLM decoders (src/testing/fuzz.ts): mutated §4.2.4.3 and
 * Chromium messages give only typed errors (NtlmFormatError and its
 * subclasses, NtlmV1RefusedError, NtlmIntegrityError), never Node's own.
 * The same holds for the mechanism state machines fed mutated tokens from a
 * real exchange: the acceptor's NEGOTIATE and AUTHENTICATE steps, the
 * initiator's CHALLENGE step, and SPNEGO carrying NTLM.
 */

import { fromHex } from '../../core/bytes.js';
import { fuzzSuite, type FuzzTargets } from '../../testing/fuzz.js';
import { ManualClock } from '../../core/clock.js';
import { seededRandom } from '../../core/random.js';
import { Krb5Acceptor, SpnegoAcceptor, SpnegoInitiator, staticKeys } from '../index.js';
import {
  decodeAuthenticate, decodeChallenge, decodeNegotiate, decodeTargetInfo, kxkeyV2, localNtlmValidator, NtlmAcceptor, NtlmChallengeRegistry,
  NtlmInitiator, ntowfv2, verifyMic, verifyNtlmv2Response,
} from './index.js';
import { CHROMIUM, V2, WINDOWS_CBT } from './vectors.js';

const dictionary = [
  fromHex('4e544c4d53535000'), fromHex('01000000'), fromHex('02000000'), fromHex('03000000'), fromHex('00000000'),
  fromHex('06000400'), fromHex('07000800'), fromHex('0a001000'), fromHex('08003000'), fromHex('18001800'), fromHex('ffff'),
];

const targets: FuzzTargets = {
  decodeNegotiate: () => ({ seeds: [fromHex(CHROMIUM.negotiate)], dictionary, weight: 0.5, run: (input) => { decodeNegotiate(input); } }),
  decodeChallenge: () => ({ seeds: [fromHex(V2.challenge)], dictionary, run: (input) => { decodeChallenge(input); } }),
  decodeAuthenticate: () => ({ seeds: [fromHex(V2.authenticate), fromHex(CHROMIUM.authenticate), fromHex(WINDOWS_CBT.authenticate)], dictionary, run: (input) => { decodeAuthenticate(input); } }),
  decodeTargetInfo: () => ({ seeds: [fromHex(V2.targetInfo), fromHex(CHROMIUM.targetInfo)], dictionary, weight: 0.5, run: (input) => { decodeTargetInfo(input); } }),
  acceptAuthenticate: () => {
    const negotiate = fromHex(CHROMIUM.negotiate);
    const challenge = fromHex(V2.challenge);
    const serverChallenge = decodeChallenge(challenge).serverChallenge;
    return {
      seeds: [fromHex(CHROMIUM.authenticate), fromHex(V2.authenticate)],
      dictionary,
      weight: 0.5,
      run(input) {
        const a = decodeAuthenticate(input);
        if (a.ntlmv2 === undefined) return;
        const key = ntowfv2({ password: 'Password' }, a.user, a.domain);
        const sbk = verifyNtlmv2Response(key, serverChallenge, a.ntlmv2.ntProofStr, a.ntlmv2.blob);
        if (a.mic !== undefined) verifyMic(kxkeyV2(sbk), negotiate, challenge, input);
      },
    };
  },
};

/** A real exchange between kerbside's own initiator and acceptor (separate challenge registries: both run here). */
async function exchange() {
  const clock = new ManualClock(Date.UTC(2026, 2, 1));
  const acceptor = new NtlmAcceptor({
    validator: localNtlmValidator({ alice: { principal: 'alice@EXAMPLE.TEST', secret: { password: 'Password' } } }),
    service: 'HTTP/web.example.test@EXAMPLE.TEST', clock, random: seededRandom(11), issuedChallenges: new NtlmChallengeRegistry(),
  });
  const credential = { user: 'alice', domain: 'EXAMPLE', secret: { password: 'Password' } };
  const newInitiator = () => new NtlmInitiator({ credential, targetName: 'HTTP/web.example.test', clock, random: seededRandom(12) });
  const i = newInitiator();
  const ctx = acceptor.newContext();
  const negotiate = i.initSecContext().output!;
  const challenge = (await ctx.acceptSecContext(negotiate)).output!;
  const authenticate = i.initSecContext(challenge).output!;
  return { clock, acceptor, newInitiator, negotiate, challenge, authenticate, credential };
}

const contextTargets: FuzzTargets = {
  'NtlmAcceptorContext NEGOTIATE': async () => {
    const x = await exchange();
    return { seeds: [x.negotiate, fromHex(CHROMIUM.negotiate)], dictionary, weight: 0.5, run: async (input) => { await x.acceptor.newContext().acceptSecContext(input); } };
  },
  'NtlmAcceptorContext AUTHENTICATE': async () => {
    const x = await exchange();
    return {
      seeds: [x.authenticate, fromHex(CHROMIUM.authenticate), fromHex(WINDOWS_CBT.authenticate)], dictionary, weight: 0.5,
      run: async (input) => { await x.acceptor.authenticate(x.negotiate, x.challenge, input, undefined); },
    };
  },
  'NtlmInitiator CHALLENGE': async () => {
    const x = await exchange();
    return {
      seeds: [x.challenge, fromHex(V2.challenge)], dictionary, weight: 0.5,
      run: (input) => { const i = x.newInitiator(); i.initSecContext(); i.initSecContext(input); },
    };
  },
  'SpnegoAcceptor with NTLM': async () => {
    const x = await exchange();
    const spnego = new SpnegoAcceptor({ krb5: new Krb5Acceptor({ keys: staticKeys([]), clock: x.clock }), ntlm: x.acceptor, clock: x.clock });
    const first = new SpnegoInitiator({ ntlm: { credential: x.credential, clock: x.clock, random: seededRandom(13) } }).initSecContext().output!;
    return { seeds: [first, x.negotiate], dictionary, weight: 0.3, run: async (input) => { await spnego.newContext().acceptSecContext(input); } };
  },
};

fuzzSuite(import.meta.url, { ...targets, ...contextTargets });
