/**
 * Real peer: MIT kinit (krb5 1.20) talks to a loopback TCP listener that
 * uses only this module. We decode MIT's AS-REQs (and check our encoding of
 * them is byte-identical), and answer with KRB-ERRORs we encode; kinit's
 * reaction shows MIT accepts them (RFC 4120 §5.9.1, §7.2.2 framing).
 */

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../core/bytes.js';
import {
  AsReq, EncryptedData, ErrorCode, EtypeInfo2, KdcReqBody, KrbError, MethodData, NameType, PaType, TcpFrameDecoder,
  decodeMessage, encodeTcpFrame,
} from './index.js';
import type { KrbError as KrbErrorT, PrincipalName } from './index.js';

const REALM = 'KERBSIDE.TEST';
const dir = mkdtempSync(join(tmpdir(), 'kerbside-messages-'));
const servers: Server[] = [];
const children: ReturnType<typeof spawn>[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A KDC stand-in: each received AS-REQ goes to `answer`, whose KRB-ERROR is sent back. */
async function fakeKdc(answer: (req: AsReq) => KrbErrorT): Promise<{ port: number; seen: AsReq[]; raws: Uint8Array[] }> {
  const seen: AsReq[] = [];
  const raws: Uint8Array[] = [];
  const server = createServer((sock: Socket) => {
    const frames = new TcpFrameDecoder();
    sock.on('data', (chunk) => {
      for (const frame of frames.push(chunk)) {
        const msg = decodeMessage(frame);
        if (msg.type !== 'AS-REQ') continue; // the test then fails on what was (not) seen
        seen.push(msg.value);
        raws.push(frame);
        sock.write(encodeTcpFrame(KrbError.encode(answer(msg.value))));
      }
    });
    sock.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, seen, raws };
}

function runKinit(port: number, principal: string, stdin: string): Promise<{ code: number | null; stderr: string }> {
  const conf = join(dir, `krb5-${port}.conf`);
  writeFileSync(conf, [
    '[libdefaults]', `  default_realm = ${REALM}`, '  dns_lookup_kdc = false', '  dns_lookup_realm = false',
    '  udp_preference_limit = 1', '[realms]', `  ${REALM} = {`, `    kdc = 127.0.0.1:${port}`, '  }', '',
  ].join('\n'));
  const child = spawn('kinit', ['-c', `FILE:${join(dir, `cc-${port}`)}`, principal], {
    env: { ...process.env, KRB5_CONFIG: conf, KRB5_TRACE: '/dev/null', LC_ALL: 'C' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdout!.on('data', () => undefined);
  child.stdin!.end(stdin);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

function error(req: AsReq, errorCode: number, eData?: Uint8Array): KrbErrorT {
  const sname: PrincipalName = req.reqBody.sname ?? { nameType: NameType.NT_SRV_INST, nameString: ['krbtgt', REALM] };
  return {
    pvno: 5, msgType: 30, stime: new Date(Date.UTC(2024, 0, 1)), susec: 0, errorCode, realm: REALM, sname,
    ...(req.reqBody.cname === undefined ? {} : { cname: req.reqBody.cname, crealm: REALM }),
    ...(eData === undefined ? {} : { eData }),
  };
}

test('MIT kinit AS-REQ decodes, re-encodes byte for byte, and accepts our KDC_ERR_C_PRINCIPAL_UNKNOWN', { timeout: 30_000 }, async () => {
  const kdc = await fakeKdc((req) => error(req, ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN));
  const { code, stderr } = await runKinit(kdc.port, 'alice', '');
  assert.notEqual(code, 0);
  assert.match(stderr, /Client 'alice@KERBSIDE\.TEST' not found in Kerberos database/);
  const req = kdc.seen[0]!;
  assert.equal(req.reqBody.realm, REALM);
  assert.deepEqual(req.reqBody.cname, { nameType: NameType.NT_PRINCIPAL, nameString: ['alice'] });
  assert.deepEqual(req.reqBody.sname, { nameType: NameType.NT_SRV_INST, nameString: ['krbtgt', REALM] });
  assert.ok(req.reqBody.etype.includes(18) && req.reqBody.etype.includes(17));
  // Strict DER both ways: what MIT sent is exactly what we would have written.
  assert.equal(toHex(AsReq.encode(req)), toHex(kdc.raws[0]!));
  assert.equal(toHex(KdcReqBody.encode(req.reqBody)), toHex(req.rawReqBody!));
});

test('MIT kinit follows our PREAUTH_REQUIRED with ETYPE-INFO2 and sends a PA-ENC-TIMESTAMP we can decode', { timeout: 30_000 }, async () => {
  const etypeInfo = EtypeInfo2.encode([{ etype: 18, salt: `${REALM}bob` }]);
  const kdc = await fakeKdc((req) => {
    if (req.padata?.some((p) => p.padataType === PaType.PA_ENC_TIMESTAMP)) return error(req, ErrorCode.KDC_ERR_PREAUTH_FAILED);
    return error(req, ErrorCode.KDC_ERR_PREAUTH_REQUIRED, MethodData.encode([
      { padataType: PaType.PA_ETYPE_INFO2, padataValue: etypeInfo },
      { padataType: PaType.PA_ENC_TIMESTAMP, padataValue: new Uint8Array(0) },
    ]));
  });
  const { code, stderr } = await runKinit(kdc.port, 'bob', 'not-the-password\n');
  assert.notEqual(code, 0);
  assert.match(stderr, /Preauthentication failed|Password incorrect/);
  assert.ok(kdc.seen.length >= 2, `kinit sent ${kdc.seen.length} request(s): ${stderr}`);
  const second = kdc.seen[kdc.seen.length - 1]!;
  const ts = second.padata!.find((p) => p.padataType === PaType.PA_ENC_TIMESTAMP)!;
  const enc = EncryptedData.decode(ts.padataValue);
  assert.equal(enc.etype, 18);
  assert.ok(enc.cipher.length > 16);
  assert.equal(toHex(AsReq.encode(second)), toHex(kdc.raws[kdc.raws.length - 1]!));
});
