/**
 * Wire exactness as Wireshark sees it (docs/architecture.md "Interoperability targets"):
 * MIT kinit/kvno talk to a kerbside KDC over UDP and TCP while tshark captures
 * loopback; tshark's Kerberos dissector must then decode every AS/TGS request,
 * reply and KRB-ERROR with no malformed field or dissector error.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestRealm, type TestRealm } from './index.js';
import { baseEnvironment, mitTool, requireTool, runProgram } from '../testing/mit-tools.js';
import { systemClock } from '../core/clock.js';

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

/** Starts a capture of the KDC's port on loopback; resolves once tshark captures. */
async function startCapture(tshark: string, port: number, file: string): Promise<ChildProcess> {
  const child = spawn(tshark, ['-i', 'lo', '-f', `port ${port}`, '-w', file, '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.includes('Capture started')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`tshark exited (${code}) before capturing: ${stderr}\n` +
      'Capturing on loopback needs root or the wireshark group (dumpcap capabilities).')));
  });
  return child;
}

async function stopCapture(child: ChildProcess): Promise<void> {
  // dumpcap hands packets to the file asynchronously; a stop right after the
  // last exchange can lose them.
  await systemClock().sleep(1000);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
}

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
