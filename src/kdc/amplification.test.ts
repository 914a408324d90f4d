/**
 * UDP amplification (docs/kdc-transport.md): what an unauthenticated sender
 * with a forged source address can make the KDC send to a victim. Requests
 * that do not decode get nothing (MIT dispatch.c); those that do get a
 * KRB-ERROR or an AS-REP whose size is bounded by the realm's own data, not
 * the request. The worst reply/request ratio is printed and asserted.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsReq } from '../messages/index.js';
import { UDP_PEER, asReq, harness, name, REALM } from '../testing/kdc-client.js';

/** Ratio bound: see docs/kdc-transport.md "Amplification" (a DNS-style open resolver reaches 28-54). */
const MAX_RATIO = 10;

/** A minimal AS-REQ: one enctype, no addresses, short names (the most favourable request for an attacker). */
function smallAsReq(client: string, service = `krbtgt/${REALM}`, realm = REALM, etypes = [18]): Uint8Array {
  return AsReq.encode({
    pvno: 5, msgType: 10,
    reqBody: {
      kdcOptions: 0, cname: name(client), realm, sname: name(service),
      till: new Date(Date.UTC(2037, 0, 1)), nonce: 1, etype: etypes,
    },
  });
}

test('unauthenticated UDP requests: no reply to what does not decode; worst reply/request ratio below 10', { timeout: 30_000 }, async () => {
  const h = await harness();
  const valid = asReq({});
  const cases: Array<[string, Uint8Array]> = [
    ['1 byte 0x6a', new Uint8Array([0x6a])],
    ['1 byte 0x6c', new Uint8Array([0x6c])],
    ['1 byte 0x00', new Uint8Array([0x00])],
    ['empty', new Uint8Array(0)],
    ['garbage 0x6a + 200 bytes', new Uint8Array(201).fill(0x41).fill(0x6a, 0, 1)],
    ['AS-REQ header announcing 64 KiB', new Uint8Array([0x6a, 0x83, 0x01, 0x00, 0x00])],
    ...Array.from({ length: Math.ceil(valid.length / 5) }, (_, i): [string, Uint8Array] => [`truncated at ${i * 5}`, valid.subarray(0, i * 5)]),
    ['valid AS-REQ, existing principal, no preauth (PREAUTH_REQUIRED)', smallAsReq('alice')],
    ['valid AS-REQ, principal without preauth (AS-REP)', smallAsReq('bob')],
    ['valid AS-REQ, unknown principal', smallAsReq('x')],
    ['valid AS-REQ, unknown realm', smallAsReq('alice', `krbtgt/${REALM}`, 'X')],
    ['valid AS-REQ, unknown service', smallAsReq('alice', 'y/z')],
    ['valid AS-REQ, every enctype', smallAsReq('alice', `krbtgt/${REALM}`, REALM, [18, 17, 20, 19, 23, 16, 3, 1])],
    ['valid AS-REQ, huge client name', smallAsReq('a'.repeat(1200))],
    ['valid AS-REQ, many name components', smallAsReq(Array.from({ length: 200 }, () => 'c').join('/'))],
    ['harness AS-REQ', valid],
  ];
  let worst = { ratio: 0, what: '' };
  const lines: string[] = [];
  for (const [what, request] of cases) {
    const reply = await h.kdc.process(request, UDP_PEER);
    const size = reply?.length ?? 0;
    const ratio = request.length === 0 ? (size === 0 ? 0 : Infinity) : size / request.length;
    lines.push(`${what}: ${request.length} -> ${size} bytes (x${ratio.toFixed(2)})`);
    if (ratio > worst.ratio) worst = { ratio, what };
    // Only well-formed KDC requests get an answer.
    const decodes = !what.startsWith('1 byte') && what !== 'empty' && !what.startsWith('garbage') && !what.startsWith('AS-REQ header') && !what.startsWith('truncated');
    if (!decodes) assert.equal(reply, undefined, `${what}: no reply`);
    else assert.ok(reply !== undefined, `${what}: answered`);
  }
  console.log(`amplification (UDP, unauthenticated):\n  ${lines.join('\n  ')}\n  worst ratio x${worst.ratio.toFixed(2)} (${worst.what})`);
  assert.ok(worst.ratio < MAX_RATIO, `worst reply/request ratio ${worst.ratio.toFixed(2)} (${worst.what}) must stay below ${MAX_RATIO}`);
});
