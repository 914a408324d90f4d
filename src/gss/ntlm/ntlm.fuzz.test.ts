/**
 * Fuzzing the NTLM decoders (src/testing/fuzz.ts): mutated §4.2.4.3 and
 * Chromium messages give only typed errors (NtlmFormatError and its
 * subclasses, NtlmV1RefusedError, NtlmIntegrityError), never Node's own.
 */

import { fromHex } from '../../core/bytes.js';
import { fuzzSuite, type FuzzTargets } from '../../testing/fuzz.js';
import { decodeAuthenticate, decodeChallenge, decodeNegotiate, decodeTargetInfo, kxkeyV2, ntowfv2, verifyMic, verifyNtlmv2Response } from './index.js';
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

fuzzSuite(import.meta.url, targets);
