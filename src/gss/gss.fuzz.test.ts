/**
 * Fuzzing GSS-API tokens (src/testing/fuzz.ts): the RFC 2743 framing, the
 * RFC 4121 §4.1.1 authenticator checksum, SPNEGO NegTokenInit/NegTokenResp
 * (RFC 4178), and the state machines fed mutated real tokens: the krb5 and
 * SPNEGO acceptors given AP-REQs, the initiators given AP-REPs and
 * NegTokenResps, an established context given MIC and Wrap tokens. Only
 * GssError (or other KerbsideError) subclasses come out.
 */

import { ManualClock } from '../core/clock.js';
import { utf8 } from '../core/bytes.js';
import { KerbsideError } from '../core/errors.js';
import { seededRandom } from '../core/random.js';
import { fuzzSuite, type FuzzTarget } from '../testing/fuzz.js';
import { mintTicket, serviceKey } from '../testing/gss-fixtures.js';
import {
  Krb5Acceptor, Krb5Initiator, SpnegoAcceptor, SpnegoInitiator, decodeGssChecksum, decodeInitialContextToken,
  decodeKrb5Token, decodeSpnegoToken, encodeGssChecksum, staticKeys,
} from './index.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);

/** A service key, tickets for it, and tokens of a real krb5 and SPNEGO handshake. */
async function world() {
  const clock = new ManualClock(T0);
  const random = seededRandom(4121);
  const key = serviceKey(random, { kvno: 2 });
  const credential = mintTicket({ service: key, now: clock.now(), random });
  const krb5 = new Krb5Acceptor({ keys: staticKeys([key]), clock, random });
  const spnego = new SpnegoAcceptor({ krb5, clock });

  const init = new Krb5Initiator({ credential, clock, random });
  const apReq = init.initSecContext().output!;
  const acc = krb5.newContext();
  const apRep = (await acc.acceptSecContext(apReq)).output!;
  init.initSecContext(apRep);
  const wrapToken = init.context.wrap(utf8('hello'));
  const micToken = init.context.getMic(utf8('hello'));

  const sInit = new SpnegoInitiator({ krb5: { credential, clock, random }, clock });
  const negInit = sInit.initSecContext().output!;
  const sAcc = spnego.newContext();
  const negResp = (await sAcc.acceptSecContext(negInit)).output!;

  return { clock, random, key, credential, krb5, spnego, apReq, apRep, wrapToken, micToken, negInit, negResp, context: acc.context };
}

type World = Awaited<ReturnType<typeof world>>;
let shared: Promise<World> | undefined;
const theWorld = (): Promise<World> => (shared ??= world());

function target(make: (w: World) => Omit<FuzzTarget, 'seeds'> & { seeds: (w: World) => Uint8Array[] }): () => Promise<FuzzTarget> {
  return async () => {
    const w = await theWorld();
    const t = make(w);
    return { ...t, seeds: t.seeds(w) };
  };
}

fuzzSuite(import.meta.url, {
  'InitialContextToken framing': target(() => ({
    seeds: (w) => [w.apReq, w.negInit],
    run: (input) => decodeInitialContextToken(input),
  })),
  'krb5 token framing': target(() => ({
    seeds: (w) => [w.apReq, w.apRep],
    run: (input) => decodeKrb5Token(input),
  })),
  'GSS authenticator checksum (0x8003)': target(() => ({
    seeds: () => [
      encodeGssChecksum({ bnd: new Uint8Array(16), flags: 0x3e }),
      encodeGssChecksum({ bnd: new Uint8Array(16).fill(7), flags: 0x3f, delegation: Uint8Array.of(0x76, 0x03, 0x30, 0x01, 0x00) }),
    ],
    maxRandomLength: 64,
    run: (input) => decodeGssChecksum(input),
  })),
  'SPNEGO tokens': target(() => ({
    seeds: (w) => [w.negInit, w.negResp],
    weight: 2,
    run: (input) => decodeSpnegoToken(input),
  })),
  'krb5 acceptor (AP-REQ tokens)': target((w) => ({
    seeds: (s) => [s.apReq],
    weight: 0.5,
    run: (input) => w.krb5.newContext().acceptSecContext(input),
  })),
  'SPNEGO acceptor (NegTokenInit)': target((w) => ({
    seeds: (s) => [s.negInit],
    weight: 0.5,
    run: (input) => w.spnego.newContext().acceptSecContext(input),
  })),
  'krb5 initiator (AP-REP tokens)': target((w) => ({
    seeds: (s) => [s.apRep],
    weight: 0.5,
    run(input) {
      const init = new Krb5Initiator({ credential: w.credential, clock: w.clock, random: w.random });
      init.initSecContext();
      return init.initSecContext(input);
    },
  })),
  'SPNEGO initiator (NegTokenResp)': target((w) => ({
    seeds: (s) => [s.negResp],
    weight: 0.5,
    run(input) {
      const init = new SpnegoInitiator({ krb5: { credential: w.credential, clock: w.clock, random: w.random }, clock: w.clock });
      init.initSecContext();
      return init.initSecContext(input);
    },
  })),
  'established context (Wrap and MIC tokens)': target((w) => ({
    seeds: (s) => [s.wrapToken, s.micToken],
    run(input) {
      // Both readers see every input; a typed refusal of one does not hide an untyped failure of the other.
      for (const read of [() => w.context.unwrap(input), () => w.context.verifyMic(utf8('hello'), input)]) {
        try {
          read();
        } catch (err) {
          if (!(err instanceof KerbsideError)) throw err;
        }
      }
    },
  })),
});

