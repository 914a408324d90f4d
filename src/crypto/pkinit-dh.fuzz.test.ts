/**
 * Fuzzing the PKINIT key-agreement inputs (src/testing/fuzz.ts): a client's
 * SubjectPublicKeyInfo and a KDC's public value, mutated from valid ones,
 * give only typed errors (Asn1Error, DhParametersNotAcceptedError,
 * DhPublicValueError), never Node's own exceptions.
 */

import { seededRandom } from '../core/random.js';
import { fuzzSuite, type FuzzTargets } from '../testing/fuzz.js';
import { agree, decodeClientPublicKey, generateClientKey } from './index.js';

const targets: FuzzTargets = {
  decodeClientPublicKey: () => ({
    seeds: [generateClientKey('modp2048', seededRandom(1)).spkiDer, generateClientKey('P-256', seededRandom(1)).spkiDer,
      generateClientKey('P-384', seededRandom(1)).spkiDer],
    run(input) {
      decodeClientPublicKey(input);
    },
  }),
  agreeP256: () => ({
    seeds: [generateClientKey('P-256', seededRandom(1)).spkiDer],
    run(input) {
      agree(input, seededRandom(2), ['P-256']);
    },
  }),
  completeP256: () => {
    const client = generateClientKey('P-256', seededRandom(1));
    return {
      seeds: [agree(generateClientKey('P-256', seededRandom(3)).spkiDer, seededRandom(2)).serverPublicValue],
      run(input) {
        client.complete(input);
      },
    };
  },
  completeModp2048: () => {
    const client = generateClientKey('modp2048', seededRandom(1));
    return {
      seeds: [agree(generateClientKey('modp2048', seededRandom(3)).spkiDer, seededRandom(2)).serverPublicValue],
      run(input) {
        client.complete(input);
      },
    };
  },
};

fuzzSuite(import.meta.url, targets);
