/**
 * kerbside's NTLM against Samba 4.17's ntlm_auth (Debian package winbind;
 * docs/ntlm.md "Peer tests"):
 *
 * - `ntlm_auth --helper-protocol=ntlmssp-client-1` is the client: its
 *   AUTHENTICATE is accepted by localNtlmValidator, and by the pass-through
 *   validator through a kerbside realm (needs no DC);
 * - `ntlm_auth --helper-protocol=squid-2.5-ntlmssp` inside a Samba AD DC's
 *   namespace (src/testing/samba-ad.ts) is the server: it checks kerbside's
 *   AUTHENTICATE for an AD user through the DC's winbind. (Samba has no
 *   "ntlmssp-server-1"; squid-2.5-ntlmssp is its NTLMSSP server helper.)
 *
 * The kerbside side is the GSS mechanism: NtlmInitiator and NtlmAcceptor
 * (context.ts).
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../../core/random.js';
import { generateKey } from '../../crypto/index.js';
import { masterKeyProtector, realmAdmin } from '../../kdc/index.js';
import { MemoryStore } from '../../store/index.js';
import { baseEnvironment } from '../../testing/mit-tools.js';
import { ntlmAuthPath, startNtlmAuth, startSambaAd, type NtlmAuthHelper, type SambaAd } from '../../testing/samba-ad.js';
import { staticKeys } from '../acceptor-keys.js';
import {
  NtlmAcceptor, NtlmChallengeRegistry, NtlmInitiator, NtlmLogonFailureError, NtlmMicRequiredError, decodeAuthenticate, localNtlmValidator,
  ntlmPassThroughServer, passThroughNtlmValidator, type NtlmValidator,
} from './index.js';

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const unb64 = (line: string): Uint8Array => new Uint8Array(Buffer.from(line.slice(3), 'base64'));

const SERVICE = 'HTTP/web.example.test@EXAMPLE.TEST';

/**
 * One ntlm_auth client exchange against a kerbside NtlmAcceptor: its
 * NEGOTIATE, the acceptor's CHALLENGE, its AUTHENTICATE, and what the
 * acceptor made of the AUTHENTICATE.
 */
async function sambaClientLogon(user: string, password: string, domain: string, validator: NtlmValidator, requireMic = false): Promise<{
  challenge: Uint8Array; authenticate: Uint8Array; accepted: Promise<unknown>;
}> {
  const helper = startNtlmAuth([ntlmAuthPath(), '--helper-protocol=ntlmssp-client-1', `--username=${user}`, `--password=${password}`, `--domain=${domain}`], baseEnvironment());
  try {
    const yr = await helper.ask('YR');
    assert.match(yr, /^YR /, helper.stderr());
    const acceptor = new NtlmAcceptor({ validator, service: SERVICE, issuedChallenges: new NtlmChallengeRegistry(), requireMic }).newContext();
    const challenge = (await acceptor.acceptSecContext(unb64(yr))).output!;
    const kk = await helper.ask(`TT ${b64(challenge)}`);
    assert.match(kk, /^(KK|AF) /, `${kk}\n${helper.stderr()}`);
    const authenticate = unb64(kk);
    const accepted = acceptor.acceptSecContext(authenticate);
    accepted.catch(() => undefined);
    return { challenge, authenticate, accepted };
  } finally {
    await helper.close();
  }
}

describe('ntlm_auth ntlmssp-client-1 as the client of a kerbside acceptor', () => {
  const local = (password: string): NtlmValidator => localNtlmValidator({ alice: { principal: 'alice@EXAMPLE.TEST', secret: { password } } });

  test('localNtlmValidator with the user\'s password accepts its response to the NtlmAcceptor\'s CHALLENGE; a wrong password is a logon failure', async () => {
    const { challenge, authenticate } = await sambaClientLogon('alice', 'Alice-Pass.1', 'EXAMPLE', local('Alice-Pass.1'));
    const m = decodeAuthenticate(authenticate);
    assert.equal(m.user, 'alice');
    assert.equal(m.domain, 'EXAMPLE');
    assert.ok(m.ntlmv2 !== undefined, 'an NTLMv2 response');
    const ok = await local('Alice-Pass.1').validate({ challenge, authenticate, service: SERVICE });
    assert.equal(ok.principal, 'alice@EXAMPLE.TEST');
    assert.equal(ok.sessionBaseKey.length, 16);
    await assert.rejects(local('other').validate({ challenge, authenticate, service: SERVICE }), NtlmLogonFailureError);
    const wrong = await sambaClientLogon('alice', 'Alice-Pass.1', 'EXAMPLE', local('other'));
    await assert.rejects(wrong.accepted, NtlmLogonFailureError);
  });

  test('raw NTLMSSP from ntlm_auth carries no MIC (Samba adds one only under SPNEGO): NtlmAcceptor accepts it, and refuses it with requireMic', async () => {
    const { authenticate, accepted } = await sambaClientLogon('alice', 'Alice-Pass.1', 'EXAMPLE', local('Alice-Pass.1'));
    assert.equal(decodeAuthenticate(authenticate).mic, undefined);
    const r = (await accepted) as { complete: boolean };
    assert.equal(r.complete, true);
    const strict = await sambaClientLogon('alice', 'Alice-Pass.1', 'EXAMPLE', local('Alice-Pass.1'), true);
    await assert.rejects(strict.accepted, NtlmMicRequiredError);
  });

  test('the pass-through validator checks it through a kerbside realm holding alice\'s NTLM credential', async () => {
    const random = seededRandom(21);
    const store = new MemoryStore();
    const keys = masterKeyProtector(generateKey(18, random), random);
    const admin = realmAdmin({ realm: 'EXAMPLE.TEST', store, random, keys, ntlm: true });
    await admin.addPrincipal('alice', { password: 'Alice-Pass.1', allowNtlm: true });
    await admin.addPrincipal('HTTP/web.example.test');
    const server = ntlmPassThroughServer({ realm: 'EXAMPLE.TEST', principals: store, keys });
    const validator = passThroughNtlmValidator({
      exchange: (r) => server.handle(r), keys: staticKeys(await admin.keytabEntries('HTTP/web.example.test')), service: 'HTTP/web.example.test@EXAMPLE.TEST',
    });
    const good = await sambaClientLogon('alice', 'Alice-Pass.1', 'EXAMPLE', validator);
    const ok = await validator.validate({ challenge: good.challenge, authenticate: good.authenticate, service: SERVICE });
    assert.equal(ok.principal, 'alice@EXAMPLE.TEST');
    const bad = await sambaClientLogon('alice', 'Wrong-Pass.1', 'EXAMPLE', validator);
    await assert.rejects(bad.accepted, (err: unknown) => err instanceof NtlmLogonFailureError && err.detail['cause'] === 'bad_password');
  });
});

describe('Samba AD DC: ntlm_auth squid-2.5-ntlmssp validates kerbside\'s NTLM initiator', { timeout: 300_000 }, () => {
  let ad: SambaAd;
  let home: string;

  before(async () => {
    ad = await startSambaAd();
    home = await mkdtemp(join(tmpdir(), 'kerbside-ntlm-auth-'));
  });

  after(async () => {
    await ad?.stop();
    if (home !== undefined) await rm(home, { recursive: true, force: true });
  });

  const server = (): NtlmAuthHelper => startNtlmAuth(
    ad.netnsCommand([ntlmAuthPath(), '--helper-protocol=squid-2.5-ntlmssp', `--configfile=${ad.smbConfPath}`]), { ...ad.env, HOME: home },
  );

  /** NEGOTIATE → the DC's CHALLENGE → kerbside's AUTHENTICATE; resolves with ntlm_auth's verdict line. */
  async function logon(user: string, password: string): Promise<string> {
    const helper = server();
    try {
      const initiator = new NtlmInitiator({ credential: { user, domain: ad.domain, secret: { password } }, workstation: 'KERBSIDE' });
      const tt = await helper.ask(`YR ${b64(initiator.initSecContext().output!)}`);
      assert.match(tt, /^TT /, `${tt}\n${helper.stderr()}`);
      const step = initiator.initSecContext(unb64(tt));
      assert.equal(step.complete, true);
      return await helper.ask(`KK ${b64(step.output!)}`);
    } finally {
      await helper.close();
    }
  }

  test('an AD user with the right password: AF with the user\'s name', async () => {
    const verdict = await logon('alice', ad.users.get('alice')!);
    assert.match(verdict, /^AF (ADTEST\\)?alice$/i, `${verdict}\n--- samba log tail:\n${(await ad.log()).slice(-3000)}`);
  });

  test('a wrong password: NA with the DC\'s status', async () => {
    const verdict = await logon('alice', 'not-alices-password');
    assert.match(verdict, /^NA /, verdict);
    assert.match(verdict, /NT_STATUS_(WRONG_PASSWORD|LOGON_FAILURE)/, verdict);
  });
});
