/**
 * Fuzzing the KDC's request processor (src/testing/fuzz.ts) with random
 * datagrams and mutations of real requests: AS-REQs with and without
 * PA-ENC-TIMESTAMP, TGS-REQs carrying a real TGT (with a subkey and
 * enc-authorization-data), and MIT's reference AS-REQ/TGS-REQ encodings.
 * `process` must always resolve (a reply or silence), and no request may
 * end in an internal error: every failure is a KdcRequestError with its
 * Kerberos code, so the processor never logs at 'error' severity.
 */

import assert from 'node:assert/strict';
import { fromHex } from '../core/bytes.js';
import { fuzzSuite } from '../testing/fuzz.js';
import { MIT_REFERENCE_ENCODE } from '../messages/vectors/mit-reference-encode.js';
import { REALM, TCP_PEER, UDP_PEER, asReq, encTimestamp, getTgt, harness, newSubkey, passwordKey, tgsReq } from '../testing/kdc-client.js';

const MIT_REQUESTS = Object.entries(MIT_REFERENCE_ENCODE)
  .filter(([k]) => /_(as|tgs)_req/.test(k)).map(([, hex]) => fromHex(hex.replace(/\s+/g, '')));

fuzzSuite(import.meta.url, {
  'KDC processor': async () => {
    const h = await harness({}, { lockout: true });
    const alice = await passwordKey('alice', 'alice-pw');
    const tgt = await getTgt(h);
    const now = h.clock.now();
    const seeds = [
      asReq(),
      asReq({ client: 'bob' }),
      asReq({ padata: [encTimestamp(alice, now)] }),
      asReq({ service: 'HTTP/localhost', padata: [encTimestamp(alice, now)], rtime: now + 86_400_000, from: now - 1000 }),
      tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, service: 'HTTP/localhost', now }),
      tgsReq({
        tgt: tgt.ticket, sessionKey: tgt.sessionKey, service: `krbtgt/${REALM}`, now, subkey: newSubkey(),
        authorizationData: [{ adType: 1, adData: Uint8Array.of(0x30, 0) }], addresses: [{ addrType: 2, address: Uint8Array.of(127, 0, 0, 1) }],
      }),
      ...MIT_REQUESTS,
    ];
    let n = 0;
    return {
      seeds,
      weight: 2,
      async run(input) {
        const before = h.events.events.length;
        await h.kdc.process(input, n++ % 2 === 0 ? UDP_PEER : TCP_PEER);
        const bad = h.events.events.slice(before).filter((e) => e.severity === 'error');
        assert.deepEqual(bad.map((e) => `${e.type}: ${e.message}`), [], 'the KDC reported an internal error');
        // Keep the event log from growing across the run.
        (h.events.events as unknown[]).length = 0;
      },
    };
  },
});
