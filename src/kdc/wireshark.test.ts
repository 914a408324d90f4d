/**
 * Wire exactness as Wireshark sees it (docs/architecture.md "Interoperability targets"):
 * MIT kinit/kvno talk to a kerbside KDC over UDP and TCP while tshark captures
 * loopback; tshark's Kerberos dissector must then decode every AS/TGS request,
 * reply and KRB-ERROR with no malformed field or dissector error.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestRealm, type TestRealm } from './index.js';
import { baseEnvironment, mitTool, requireTool, runProgram } from '../testing/mit-tools.js';
import { startCapture, stopCapture } from '../testing/tshark.js';

let realm: TestRealm;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kerbside-tshark-'));
  realm = await startTestRealm({
    principals: [{ name: 'alice', password: 'alice-pw' }, { name: 'HTTP/localhost', randomKey: true }],
  });
});

after(async () => {
  await realm?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('tshark decodes the AS, TGS and KRB-ERROR messages of a kerbside KDC without malformed fields (UDP and TCP)', async () => {
  const tshark = requireTool('tshark', 'tshark');
  const pcap = join(dir, 'kdc.pcap');
  const udpConf = join(dir, 'udp.conf');
  const tcpConf = join(dir, 'tcp.conf');
  await realm.writeKrb5Conf(udpConf);
  await realm.writeKrb5Conf(tcpConf, { udp_preference_limit: 1 });
  const env = (conf: string, cache: string): Record<string, string> =>
    ({ ...baseEnvironment(), HOME: dir, KRB5_CONFIG: conf, KRB5CCNAME: `FILE:${join(dir, cache)}` });

  const capture = await startCapture(tshark, realm.port, pcap);
  try {
    for (const [conf, cache] of [[udpConf, 'udp.cc'], [tcpConf, 'tcp.cc']] as const) {
      const kinit = await runProgram(mitTool('kinit'), ['alice'], { env: env(conf, cache), input: 'alice-pw\n' });
      assert.equal(kinit.code, 0, kinit.stderr);
      const kvno = await runProgram(mitTool('kvno'), ['HTTP/localhost'], { env: env(conf, cache) });
      assert.equal(kvno.code, 0, kvno.stderr);
      const wrong = await runProgram(mitTool('kinit'), ['alice'], { env: env(conf, 'wrong.cc'), input: 'nope\n' });
      assert.notEqual(wrong.code, 0);
    }
  } finally {
    await stopCapture(capture);
  }

  const decoded = await runProgram(tshark, [
    '-r', pcap, '-d', `udp.port==${realm.port},kerberos`, '-d', `tcp.port==${realm.port},kerberos`, '-V',
  ], { env: { ...baseEnvironment(), HOME: dir } });
  assert.equal(decoded.code, 0, decoded.stderr);
  const text = decoded.stdout;
  for (const msg of ['as-req', 'as-rep', 'tgs-req', 'tgs-rep', 'krb-error']) {
    assert.match(text, new RegExp(`^\\s+${msg}$`, 'm'), `tshark saw a ${msg}`);
  }
  assert.match(text, /error-code: eRR-PREAUTH-REQUIRED/);
  assert.match(text, /error-code: eRR-PREAUTH-FAILED/);
  // Both transports were seen (the TCP record mark is dissected as "Record Mark").
  assert.match(text, /User Datagram Protocol/);
  assert.match(text, /Record Mark/);
  const problems = text.split('\n').filter((l) => /Malformed Packet|Dissector bug|\[Expert Info \(Error|BER Error/.test(l));
  assert.deepEqual(problems, [], 'tshark reports no malformed fields');
});
