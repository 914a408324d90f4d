/**
 * PKINIT as Wireshark sees it: MIT kinit with a certificate against a
 * kerbside KDC, and the same against MIT krb5kdc, while tshark captures
 * loopback. tshark must decode kerbside's PA-PK-AS-REQ/REP exchange with no
 * complaint it does not also make about MIT's own (Debian 12's Wireshark does
 * not know the RFC 8070/8636 fields MIT 1.20 sends).
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../core/clock.js';
import { systemKeyPairs } from '../core/index.js';
import { systemRandom } from '../core/random.js';
import { createRealmCa, issueKdcCertificate, issueUserCertificate, softwareSigner } from '../pki/index.js';
import { startMitRealm } from '../testing/mit-realm.js';
import { startCapture, stopCapture } from '../testing/tshark.js';
import { baseEnvironment, mitTool, requireTool, runProgram, type RunResult } from '../testing/mit-tools.js';
import { pkinitMechanism } from './pkinit.js';
import { DEFAULT_PREAUTH, preauthRegistry } from './preauth.js';
import { startTestRealm } from './test-realm.js';

/** tshark's complaints about a capture, without frame-specific numbers: "<message part>: <BER error>". */
function problems(text: string): string[] {
  const out: string[] = [];
  let context = '';
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (/^(as-req|as-rep|krb-error|tgs-req|tgs-rep)$/.test(t)) context = t;
    if (/Malformed Packet|Dissector bug|BER Error:/.test(t) && !t.startsWith('[')) out.push(`${context}: ${t}`);
  }
  return [...new Set(out)].sort();
}

async function captureKinit(tshark: string, dir: string, port: number, name: string, kinit: () => Promise<RunResult>): Promise<string> {
  const pcap = join(dir, `${name}.pcap`);
  const capture = await startCapture(tshark, port, pcap);
  try {
    const r = await kinit();
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
  } finally {
    await stopCapture(capture);
  }
  const decoded = await runProgram(tshark, ['-r', pcap, '-d', `tcp.port==${port},kerberos`, '-V'], { env: { ...baseEnvironment(), HOME: dir } });
  assert.equal(decoded.code, 0, decoded.stderr);
  return decoded.stdout;
}

test('tshark decodes a PKINIT exchange with a kerbside KDC as it decodes MIT krb5kdc\'s: no complaint that MIT\'s own exchange does not get', { timeout: 90_000 }, async () => {
  const tshark = requireTool('tshark', 'tshark');
  const dir = await mkdtemp(join(tmpdir(), 'kerbside-pkinit-tshark-'));
  const ca = await createRealmCa({ realm: 'EXAMPLE.TEST', clock: systemClock(), random: systemRandom(), keys: systemKeyPairs() });
  const kdc = await issueKdcCertificate(ca);
  const kdcPem = kdc.pem();
  const user = (await issueUserCertificate(ca, { principal: 'alice@EXAMPLE.TEST' })).pem();
  await writeFile(join(dir, 'ca.pem'), ca.pem().certificate);
  await writeFile(join(dir, 'kdc.pem'), kdcPem.certificate);
  await writeFile(join(dir, 'kdc.key'), kdcPem.key!, { mode: 0o600 });
  await writeFile(join(dir, 'alice.pem'), user.certificate);
  await writeFile(join(dir, 'alice.key'), user.key!, { mode: 0o600 });
  const identity = `X509_user_identity=FILE:${join(dir, 'alice.pem')},${join(dir, 'alice.key')}`;
  const realm = await startTestRealm({
    principals: [{ name: 'alice', password: 'alice-pw-1' }],
    preauth: preauthRegistry([...DEFAULT_PREAUTH.mechanisms, pkinitMechanism({
      signer: softwareSigner(kdc.certificate, kdc.privateKey!), anchors: [ca.certificate], random: systemRandom(),
    })]),
  });
  const mitKdc = await startMitRealm({
    principals: [{ name: 'alice', password: 'alice-pw-1', attrs: ['+requires_preauth'] }],
    kdcRealmConf: { pkinit_identity: `FILE:${join(dir, 'kdc.pem')},${join(dir, 'kdc.key')}`, pkinit_anchors: `FILE:${join(dir, 'ca.pem')}` },
    libdefaults: { pkinit_anchors: `FILE:${join(dir, 'ca.pem')}`, udp_preference_limit: 1 },
  });
  try {
    await writeFile(join(dir, 'krb5.conf'), realm.krb5ConfWith({ pkinit_anchors: `FILE:${join(dir, 'ca.pem')}`, udp_preference_limit: 1 }));
    const ours = await captureKinit(tshark, dir, realm.port, 'kerbside', () => runProgram(mitTool('kinit'), ['-X', identity, 'alice@EXAMPLE.TEST'], {
      env: { ...baseEnvironment(), HOME: dir, KRB5_CONFIG: join(dir, 'krb5.conf'), KRB5CCNAME: `FILE:${join(dir, 'cc')}` },
    }));
    const theirs = await captureKinit(tshark, dir, mitKdc.kdcPort, 'mit', () => mitKdc.run(mitTool('kinit'), ['-X', identity, 'alice@EXAMPLE.TEST']));
    for (const field of [/padata-type: pA-PK-AS-REQ \(16\)/, /padata-type: pA-PK-AS-REP \(17\)/, /signedAuthPack \(id-signedData\)/, /AuthPack/,
      /pkAuthenticator/, /dhSignedData/, /padata-type: pA-AS-FRESHNESS \(150\)/]) {
      assert.match(ours, field);
    }
    // Debian 12's Wireshark predates RFC 8070/8636 fields (freshnessToken, supportedKDFs, kdf) and
    // dissects RFC 4556's DHRepInfo as the older Windows form; it says so for MIT's exchange too.
    const extra = problems(ours).filter((p) => !problems(theirs).includes(p));
    assert.deepEqual(extra, [], `tshark complaints about kerbside's exchange that MIT's does not get\n(MIT's: ${JSON.stringify(problems(theirs))})`);
  } finally {
    await mitKdc.stop();
    await realm.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
