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
 * The kerbside side drives the sans-IO core (encodeNegotiate, encodeChallenge,
 * buildAuthenticate, acceptAuthenticate) directly.
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../core/clock.js';
import { seededRandom, systemRandom, type RandomSource } from '../../core/random.js';
import { generateKey } from '../../crypto/index.js';
import { masterKeyProtector, realmAdmin } from '../../kdc/index.js';
import { MemoryStore } from '../../store/index.js';
import { baseEnvironment } from '../../testing/mit-tools.js';
import { ntlmAuthPath, startNtlmAuth, startSambaAd, type NtlmAuthHelper, type SambaAd } from '../../testing/samba-ad.js';
import { staticKeys } from '../acceptor-keys.js';
import {
  MsvAv, NegotiateFlags as F, NtlmIntegrityError, NtlmLogonFailureError, acceptAuthenticate, avTimestamp, buildAuthenticate, decodeAuthenticate,
  decodeNegotiate, encodeChallenge, encodeNegotiate, filetimeFromUnixMs, localNtlmValidator, ntlmPassThroughServer, passThroughNtlmValidator,
} from './index.js';

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const unb64 = (line: string): Uint8Array => new Uint8Array(Buffer.from(line.slice(3), 'base64'));
const u16 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf16le'));

/** What a kerbside acceptor answers a NEGOTIATE with (MS-NLMP §3.2.5.1.1): the flags it shares, TargetInfo with a timestamp. */
function acceptorChallenge(negotiate: Uint8Array, domain: string, random: RandomSource): Uint8Array {
  const offered = decodeNegotiate(negotiate).flags;
  const supported = F.UNICODE | F.REQUEST_TARGET | F.SIGN | F.SEAL | F.NTLM | F.ALWAYS_SIGN | F.EXTENDED_SESSIONSECURITY | F.NEGOTIATE_128 | F.KEY_EXCH | F.NEGOTIATE_56;
  const flags = ((offered & supported) | F.TARGET_INFO | F.TARGET_TYPE_DOMAIN) >>> 0;
  return encodeChallenge({
    flags, serverChallenge: random.bytes(8), targetName: domain,
    targetInfo: {
      pairs: [
        { id: MsvAv.NbDomainName, value: u16(domain) }, { id: MsvAv.NbComputerName, value: u16('WEB') },
        { id: MsvAv.DnsDomainName, value: u16(`${domain.toLowerCase()}.test`) }, { id: MsvAv.DnsComputerName, value: u16(`web.${domain.toLowerCase()}.test`) },
        avTimestamp(filetimeFromUnixMs(systemClock().now())),
      ],
    },
  });
}

/** One ntlm_auth client exchange: its NEGOTIATE, our CHALLENGE, its AUTHENTICATE. */
async function sambaClientLogon(user: string, password: string, domain: string): Promise<{ negotiate: Uint8Array; challenge: Uint8Array; authenticate: Uint8Array }> {
  const helper = startNtlmAuth([ntlmAuthPath(), '--helper-protocol=ntlmssp-client-1', `--username=${user}`, `--password=${password}`, `--domain=${domain}`], baseEnvironment());
  try {
    const yr = await helper.ask('YR');
    assert.match(yr, /^YR /, helper.stderr());
    const negotiate = unb64(yr);
    const challenge = acceptorChallenge(negotiate, domain, systemRandom());
    const kk = await helper.ask(`TT ${b64(challenge)}`);
    assert.match(kk, /^(KK|AF) /, `${kk}\n${helper.stderr()}`);
    return { negotiate, challenge, authenticate: unb64(kk) };
  } finally {
    await helper.close();
  }
}

describe('ntlm_auth ntlmssp-client-1 as the client of a kerbside acceptor', () => {
  test('localNtlmValidator with the user\'s password accepts it; a wrong password is a logon failure', async () => {
    const { challenge, authenticate } = await sambaClientLogon('alice', 'Alice-Pass.1', 'EXAMPLE');
    const m = decodeAuthenticate(authenticate);
    assert.equal(m.user, 'alice');
    assert.equal(m.domain, 'EXAMPLE');
    assert.ok(m.ntlmv2 !== undefined, 'an NTLMv2 response');
    const ok = await localNtlmValidator({ alice: { principal: 'alice@EXAMPLE.TEST', secret: { password: 'Alice-Pass.1' } } })
      .validate({ challenge, authenticate, service: 'HTTP/web.example.test@EXAMPLE.TEST' });
    assert.equal(ok.principal, 'alice@EXAMPLE.TEST');
    assert.equal(ok.sessionBaseKey.length, 16);
    await assert.rejects(localNtlmValidator({ alice: { principal: 'alice@EXAMPLE.TEST', secret: { password: 'other' } } })
      .validate({ challenge, authenticate, service: 'HTTP/web.example.test@EXAMPLE.TEST' }), NtlmLogonFailureError);
  });

  test('raw NTLMSSP from ntlm_auth carries no MIC (Samba adds one only under SPNEGO): the core acceptor refuses it', async () => {
    const { negotiate, challenge, authenticate } = await sambaClientLogon('alice', 'Alice-Pass.1', 'EXAMPLE');
    assert.equal(decodeAuthenticate(authenticate).mic, undefined);
    assert.throws(() => acceptAuthenticate(negotiate, challenge, authenticate, () => ({ password: 'Alice-Pass.1' })),
      (err: unknown) => err instanceof NtlmIntegrityError && /no MIC/.test(err.message));
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
    const ok = await validator.validate({ ...await sambaClientLogon('alice', 'Alice-Pass.1', 'EXAMPLE'), service: 'HTTP/web.example.test@EXAMPLE.TEST' });
    assert.equal(ok.principal, 'alice@EXAMPLE.TEST');
    await assert.rejects(validator.validate({ ...await sambaClientLogon('alice', 'Wrong-Pass.1', 'EXAMPLE'), service: 'HTTP/web.example.test@EXAMPLE.TEST' }),
      (err: unknown) => err instanceof NtlmLogonFailureError && err.detail['cause'] === 'bad_password');
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
      const random = systemRandom();
      const negotiate = encodeNegotiate({
        flags: (F.UNICODE | F.REQUEST_TARGET | F.NTLM | F.ALWAYS_SIGN | F.EXTENDED_SESSIONSECURITY | F.TARGET_INFO | F.NEGOTIATE_128 | F.KEY_EXCH | F.SIGN | F.SEAL) >>> 0,
      });
      const tt = await helper.ask(`YR ${b64(negotiate)}`);
      assert.match(tt, /^TT /, `${tt}\n${helper.stderr()}`);
      const challenge = unb64(tt);
      const { authenticate } = buildAuthenticate({
        negotiate, challenge, user, domain: ad.domain, workstation: 'KERBSIDE', secret: { password },
        timestamp: filetimeFromUnixMs(systemClock().now()), random,
      });
      return await helper.ask(`KK ${b64(authenticate)}`);
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
