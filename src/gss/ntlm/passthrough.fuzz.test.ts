/**
 * Fuzzing the NTLM pass-through decoders (src/testing/fuzz.ts) and the
 * server: mutated requests and replies give typed errors from the decoders,
 * and the server answers every input with a refusal or a reply, never a throw.
 */

import { fromHex } from '../../core/bytes.js';
import { ManualClock } from '../../core/clock.js';
import { seededRandom } from '../../core/random.js';
import { plainKeysForTests, realmAdmin } from '../../kdc/index.js';
import { MemoryStore } from '../../store/index.js';
import { fuzzSuite, type FuzzTargets } from '../../testing/fuzz.js';
import { staticKeys } from '../acceptor-keys.js';
import {
  decodePassThroughReply, decodePassThroughRequest, encodePassThroughRefusal, ntlmPassThroughServer, passThroughNtlmValidator,
} from './index.js';
import { V2 } from './vectors.js';

const REALM = 'EXAMPLE.TEST';
const SERVICE = `HTTP/web.example.test@${REALM}`;
const T0 = Date.UTC(2026, 11, 3);

/** One real request and reply of the protocol (MS-NLMP §4.2.4 CHALLENGE/AUTHENTICATE inside), as seeds. */
async function samples(): Promise<{ request: Uint8Array; reply: Uint8Array; handle: (b: Uint8Array) => Promise<Uint8Array> }> {
  const clock = new ManualClock(T0);
  const store = new MemoryStore({ clock });
  const admin = realmAdmin({ realm: REALM, store, clock, random: seededRandom(1), keys: plainKeysForTests(), ntlm: true });
  await admin.addPrincipal('HTTP/web.example.test');
  await admin.addPrincipal('User', { password: 'Password', allowNtlm: true });
  const server = ntlmPassThroughServer({ realm: REALM, principals: store, keys: plainKeysForTests(), clock, random: seededRandom(2), replayCache: { seen: () => false } });
  let request: Uint8Array | undefined;
  let reply: Uint8Array | undefined;
  const v = passThroughNtlmValidator({
    keys: staticKeys(await admin.keytabEntries(SERVICE)), service: SERVICE, clock, random: seededRandom(3),
    exchange: async (r) => { request = r; reply = await server.handle(r); return reply; },
  });
  await v.validate({ challenge: fromHex(V2.challenge), authenticate: fromHex(V2.authenticate), service: SERVICE }).catch(() => undefined);
  return { request: request!, reply: reply!, handle: (b) => server.handle(b) };
}

const dictionary = [Uint8Array.from(Buffer.from('KSNT')), Uint8Array.of(1, 1), Uint8Array.of(1, 2), Uint8Array.of(1, 3), Uint8Array.of(0xff, 0xff), Uint8Array.of(0, 0, 0, 0)];

const targets: FuzzTargets = {
  decodePassThroughRequest: async () => ({ seeds: [(await samples()).request], dictionary, run: (input) => { decodePassThroughRequest(input); } }),
  decodePassThroughReply: async () => {
    const { reply } = await samples();
    return { seeds: [reply, encodePassThroughRefusal(new Uint8Array(16), 'replay', 'the request was already answered')], dictionary, run: (input) => { decodePassThroughReply(input); } };
  },
  serverHandle: async () => {
    const { request, handle } = await samples();
    return {
      seeds: [request], dictionary, weight: 0.3,
      async run(input) {
        // The server never throws: every input gets a reply or a refusal that decodes.
        decodePassThroughReply(await handle(input));
      },
    };
  },
};

fuzzSuite(import.meta.url, targets);
