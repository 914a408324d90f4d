/**
 * Fuzzing the HTTP Negotiate server (src/testing/fuzz.ts): the
 * Authorization and Cookie headers as text (RFC 4559 §4 "Negotiate <base64>",
 * other schemes, session cookies), and the SPNEGO token inside a well-formed
 * header (mutated real tokens, base64-encoded), and NTLM messages under
 * `Authorization: NTLM` (a mutated NEGOTIATE on a fresh connection, a mutated
 * AUTHENTICATE after a real NEGOTIATE on its connection). `authenticate` must never
 * throw and never answer 500 'internal-error' (which is what an untyped
 * exception from the acceptor becomes).
 */

import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { utf8 } from '../core/bytes.js';
import { seededRandom } from '../core/random.js';
import { localNtlmValidator, NtlmChallengeRegistry, NtlmInitiator, SpnegoInitiator, staticKeys } from '../gss/index.js';
import { fuzzSuite } from '../testing/fuzz.js';
import { mintTicket, serviceKey } from '../testing/gss-fixtures.js';
import { negotiateServer, type NegotiateServer } from './index.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);

async function setup() {
  const clock = new ManualClock(T0);
  const random = seededRandom(4559);
  const key = serviceKey(random, { kvno: 2 });
  const server = negotiateServer({ keytab: staticKeys([key]), clock, random, sessionCookie: { key: new Uint8Array(32).fill(9) } });
  const token = () => new SpnegoInitiator({ krb5: { credential: mintTicket({ service: key, now: clock.now(), random }), clock, random }, clock })
    .initSecContext().output!;
  const first = token();
  const ok = await server.authenticate({ method: 'GET', headers: { authorization: `Negotiate ${Buffer.from(first).toString('base64')}` }, connection: {} });
  assert.ok(ok.authenticated, 'the seed handshake authenticates');
  const cookie = ok.headers.find(([n]) => n === 'Set-Cookie')?.[1].split(';')[0];
  assert.ok(cookie !== undefined);
  return { server, tokens: [first, token(), token()], cookie };
}

/** A server with NTLM, a real NEGOTIATE and an AUTHENTICATE answering one of its CHALLENGEs. */
async function setupNtlm() {
  const clock = new ManualClock(T0);
  const random = seededRandom(4178);
  const server = negotiateServer({
    keytab: staticKeys([serviceKey(random, { kvno: 2 })]), principal: 'HTTP/web.example.test@EXAMPLE.TEST', clock, random,
    ntlm: { validator: localNtlmValidator({ alice: { principal: 'alice@EXAMPLE.TEST', secret: { password: 'pw' } } }), issuedChallenges: new NtlmChallengeRegistry() },
  });
  const initiator = new NtlmInitiator({ credential: { user: 'alice', domain: 'EXAMPLE', secret: { password: 'pw' } }, targetName: 'HTTP/web.example.test', clock, random });
  const negotiate = initiator.initSecContext().output!;
  const first = await server.authenticate({ method: 'GET', headers: { authorization: `NTLM ${Buffer.from(negotiate).toString('base64')}` }, connection: {} });
  const challenge = first.headers.find(([n, v]) => n === 'WWW-Authenticate' && v.startsWith('NTLM '))![1].slice(5);
  const authenticate = initiator.initSecContext(new Uint8Array(Buffer.from(challenge, 'base64'))).output!;
  return { server, negotiate, authenticate };
}

async function check(server: NegotiateServer, authorization: string | undefined, cookie: string | undefined, connection: object = {}): Promise<void> {
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers['authorization'] = authorization;
  if (cookie !== undefined) headers['cookie'] = cookie;
  const outcome = await server.authenticate({ method: 'GET', headers, connection, url: '/x?y' });
  if (!outcome.authenticated) {
    assert.notEqual(outcome.cause, 'internal-error', `the server failed: ${outcome.body}`);
    assert.ok([400, 401, 503].includes(outcome.status), `status ${outcome.status}`);
  }
}

fuzzSuite(import.meta.url, {
  'Authorization and Cookie headers': async () => {
    const s = await setup();
    const b64 = Buffer.from(s.tokens[1]!).toString('base64');
    return {
      // authorization, NUL, cookie
      seeds: [`Negotiate ${b64}\0${s.cookie}`, 'Negotiate\0', `negotiate   ${b64}  \0a=b; ${s.cookie}; c`, 'NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==\0',
        'Basic YTpi\0kerbside_session=AAAA', `Negotiate ${b64.slice(0, 20)}==\0`].map(utf8),
      dictionary: ['Negotiate ', '=', '==', '+', '/', ' ', ';', 'kerbside_session=', '\0'].map(utf8),
      weight: 0.5,
      async run(input) {
        const text = Buffer.from(input).toString('latin1');
        const nul = text.indexOf('\0');
        await check(s.server, nul < 0 ? text : text.slice(0, nul) || undefined, nul < 0 ? undefined : text.slice(nul + 1));
      },
    };
  },
  'SPNEGO token in a Negotiate header': async () => {
    const s = await setup();
    return {
      seeds: s.tokens,
      weight: 0.5,
      async run(input) {
        if (input.length === 0) return;
        await check(s.server, `Negotiate ${Buffer.from(input).toString('base64')}`, undefined);
      },
    };
  },
  'NTLM messages in an NTLM header': async () => {
    const s = await setupNtlm();
    return {
      seeds: [s.negotiate, s.authenticate],
      weight: 0.5,
      async run(input) {
        if (input.length === 0) return;
        // A (mutated) AUTHENTICATE follows a real NEGOTIATE on its connection; anything else starts one.
        const connection = {};
        if (input[8] === 3) await check(s.server, `NTLM ${Buffer.from(s.negotiate).toString('base64')}`, undefined, connection);
        await check(s.server, `NTLM ${Buffer.from(input).toString('base64')}`, undefined, connection);
      },
    };
  },
});
