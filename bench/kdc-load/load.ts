/**
 * The load generator: N workers, each with its own client principal and
 * socket, send one request at a time to a KDC for D seconds.
 *
 * - AS: a fresh AS-REQ carrying PA-ENC-TIMESTAMP (RFC 4120 §5.2.7.2) made with
 *   the client's key derived once from its password and the default salt, so
 *   each request is one round trip that the KDC answers with a full AS-REP
 *   (pre-authentication checked, ticket and reply encrypted).
 * - TGS: a TGS-REQ for a service with a fresh authenticator (unique
 *   ctime/cusec per worker, so no replay cache can refuse it), presenting a
 *   TGT obtained once per worker through the client module's AsExchange.
 *
 * Replies are classified by their first byte (AS-REP 0x6b, TGS-REP 0x6d,
 * KRB-ERROR 0x7e); the setup exchange has already checked a full reply.
 * Latency is measured per request with performance.now().
 */

import { createSocket, type Socket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { systemRandom, type RandomSource } from '../../src/core/random.js';
import { AsExchange } from '../../src/client/index.js';
import {
  KeyUsage, defaultChecksumType, encrypt, makeChecksum, stringToKey, defaultSalt, type Key,
} from '../../src/crypto/index.js';
import type { Credential } from '../../src/files/index.js';
import {
  ApReq, AsReq, Authenticator, EncryptedData, KdcOptions, KdcReqBody, NameType, PaEncTsEnc, PaType, Ticket, TgsReq,
  TcpFrameDecoder, encodeTcpFrame, type PrincipalName,
} from '../../src/messages/index.js';
import { percentile, treeCpuTicks } from '../common/measure.js';

export type Workload = 'AS' | 'TGS';
export type Transport = 'udp' | 'tcp';

export interface LoadTarget {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly realm: string;
  /** One client per worker (worker i uses clients[i % length]). */
  readonly clients: readonly { readonly name: string; readonly password: string }[];
  /** Service principal for the TGS workload, e.g. 'host/bench.test'. */
  readonly service: string;
  /** The KDC process, for CPU time per request. */
  readonly pid?: number;
}

export interface LoadOptions {
  readonly workload: Workload;
  readonly workers: number;
  readonly seconds: number;
  readonly transport: Transport;
  /** Seconds of load before measuring (JIT warm-up, caches). */
  readonly warmupSeconds: number;
}

export interface LoadResult {
  readonly target: string;
  readonly workload: Workload;
  readonly workers: number;
  readonly requests: number;
  readonly errors: number;
  readonly errorKinds: Readonly<Record<string, number>>;
  readonly seconds: number;
  readonly p50ms: number;
  readonly p99ms: number;
  /** KDC CPU (user + system) per successful request, µs; undefined without a pid. */
  readonly kdcCpuUsPerRequest: number | undefined;
  /** The load generator's own CPU use, as a share of one core. */
  readonly clientCpuShare: number;
}

const TIMEOUT_MS = 2_000;
const TAG_AS_REP = 0x6b;
const TAG_TGS_REP = 0x6d;
const TAG_KRB_ERROR = 0x7e;

/** One request at a time over UDP or TCP. */
interface Channel {
  send(request: Uint8Array): Promise<Uint8Array>;
  close(): void;
}

function udpChannel(host: string, port: number): Channel {
  const socket: Socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  let pending: { resolve: (b: Uint8Array) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  socket.on('message', (msg) => {
    const p = pending;
    if (p === undefined) return; // a late reply to a request that timed out
    pending = undefined;
    clearTimeout(p.timer);
    p.resolve(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
  });
  socket.on('error', () => {});
  return {
    send(request) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { pending = undefined; reject(new Error('timeout')); }, TIMEOUT_MS);
        pending = { resolve, reject, timer };
        socket.send(request, port, host);
      });
    },
    close() { socket.close(); },
  };
}

async function tcpChannel(host: string, port: number): Promise<Channel> {
  const socket: TcpSocket = connect({ host, port, noDelay: true });
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  const decoder = new TcpFrameDecoder({ maxLength: 1 << 20 });
  let pending: { resolve: (b: Uint8Array) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  socket.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
      const p = pending;
      pending = undefined;
      if (p !== undefined) { clearTimeout(p.timer); p.resolve(frame); }
    }
  });
  socket.on('error', (err) => { pending?.reject(err); pending = undefined; });
  return {
    send(request) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { pending = undefined; reject(new Error('timeout')); }, TIMEOUT_MS);
        pending = { resolve, reject, timer };
        socket.write(encodeTcpFrame(request));
      });
    },
    close() { socket.destroy(); },
  };
}

function openChannel(target: LoadTarget, transport: Transport): Promise<Channel> {
  return transport === 'udp' ? Promise.resolve(udpChannel(target.host, target.port)) : tcpChannel(target.host, target.port);
}

function principalName(name: string): PrincipalName {
  const parts = name.split('/');
  return { nameType: parts.length > 1 ? NameType.NT_SRV_INST : NameType.NT_PRINCIPAL, nameString: parts };
}

const ENCTYPE = 18; // aes256-cts-hmac-sha1-96, the one enctype both realms hold keys in

/** Builds fresh requests for one worker. */
interface RequestFactory {
  next(): Uint8Array;
  readonly replyTag: number;
}

async function asFactory(target: LoadTarget, client: { name: string; password: string }, random: RandomSource): Promise<RequestFactory> {
  const cname = principalName(client.name);
  const key: Key = await stringToKey(ENCTYPE, client.password, defaultSalt(target.realm, cname.nameString));
  const sname: PrincipalName = { nameType: NameType.NT_SRV_INST, nameString: ['krbtgt', target.realm] };
  return {
    replyTag: TAG_AS_REP,
    next() {
      const now = Date.now();
      const ts = PaEncTsEnc.encode({ patimestamp: new Date(now - (now % 1000)), pausec: (now % 1000) * 1000 });
      const padataValue = EncryptedData.encode({ etype: ENCTYPE, cipher: encrypt(key, KeyUsage.PA_ENC_TIMESTAMP, ts, random) });
      return AsReq.encode({
        pvno: 5, msgType: 10, padata: [{ padataType: PaType.PA_ENC_TIMESTAMP, padataValue }],
        reqBody: {
          kdcOptions: (KdcOptions.forwardable | KdcOptions.renewableOk) >>> 0, cname, realm: target.realm, sname,
          till: new Date(now - (now % 1000) + 10 * 3600_000), nonce: random.int(0x7fffffff), etype: [ENCTYPE],
        },
      });
    },
  };
}

/** Runs an AS exchange with the client module (PREAUTH_REQUIRED round included) and returns the TGT. */
async function obtainTgt(target: LoadTarget, client: { name: string; password: string }, channel: Channel, random: RandomSource): Promise<Credential> {
  const exchange = new AsExchange({
    client: { realm: target.realm, nameType: NameType.NT_PRINCIPAL, components: client.name.split('/') },
    keySource: { kind: 'password', password: client.password },
    etypes: [ENCTYPE],
    lifetime: 10 * 3600_000,
  }, { now: () => Date.now(), random });
  let request = exchange.request();
  for (;;) {
    const step = await exchange.handle(await channel.send(request));
    if (step.kind === 'done') return step.result.credential;
    request = step.request;
  }
}

function tgsFactory(target: LoadTarget, tgt: Credential, random: RandomSource): RequestFactory {
  const ticket = Ticket.decode(tgt.ticket);
  const key: Key = { enctype: tgt.key.enctype, keyvalue: tgt.key.keyvalue };
  const cksumtype = defaultChecksumType(key.enctype);
  const cname: PrincipalName = { nameType: tgt.client.nameType, nameString: [...tgt.client.components] };
  const sname = principalName(target.service);
  let lastSecond = 0;
  let usec = 0;
  return {
    replyTag: TAG_TGS_REP,
    next() {
      const now = Date.now();
      const second = now - (now % 1000);
      // A unique (ctime, cusec) per request of this client: replay caches see a new authenticator every time.
      if (second !== lastSecond) { lastSecond = second; usec = 0; } else usec++;
      const body: KdcReqBody = {
        kdcOptions: 0, realm: target.realm, sname, till: new Date(second + 10 * 3600_000),
        nonce: random.int(0x7fffffff), etype: [ENCTYPE],
      };
      const checksum = makeChecksum(cksumtype, key, KeyUsage.TGS_REQ_AUTH_CKSUM, KdcReqBody.encode(body));
      const authenticator = Authenticator.encode({
        authenticatorVno: 5, crealm: target.realm, cname, cksum: { cksumtype, checksum }, cusec: usec, ctime: new Date(second),
      });
      const apReq = ApReq.encode({
        pvno: 5, msgType: 14, apOptions: 0, ticket,
        authenticator: { etype: key.enctype, cipher: encrypt(key, KeyUsage.TGS_REQ_AUTH, authenticator, random) },
      });
      return TgsReq.encode({ pvno: 5, msgType: 12, padata: [{ padataType: PaType.PA_TGS_REQ, padataValue: apReq }], reqBody: body });
    },
  };
}

export async function runLoad(target: LoadTarget, options: LoadOptions, clockTicks: number): Promise<LoadResult> {
  const random = systemRandom();
  const workers = await Promise.all(Array.from({ length: options.workers }, async (_, i) => {
    const client = target.clients[i % target.clients.length]!;
    const channel = await openChannel(target, options.transport);
    const factory = options.workload === 'AS'
      ? await asFactory(target, client, random)
      : tgsFactory(target, await obtainTgt(target, client, channel, random), random);
    return { channel, factory };
  }));

  let measuring = false;
  let stop = false;
  const latencies: number[] = [];
  const errorKinds: Record<string, number> = {};
  let errors = 0;
  const loops = workers.map(async ({ channel, factory }) => {
    while (!stop) {
      const request = factory.next();
      const start = performance.now();
      let kind: string | undefined;
      try {
        const reply = await channel.send(request);
        if (reply[0] !== factory.replyTag) kind = reply[0] === TAG_KRB_ERROR ? 'KRB-ERROR' : `tag 0x${(reply[0] ?? 0).toString(16)}`;
      } catch (err) {
        kind = (err as Error).message;
      }
      if (!measuring) continue;
      if (kind === undefined) latencies.push(performance.now() - start);
      else { errors++; errorKinds[kind] = (errorKinds[kind] ?? 0) + 1; }
    }
  });

  await new Promise((r) => setTimeout(r, options.warmupSeconds * 1000));
  const cpuBefore = target.pid === undefined ? undefined : treeCpuTicks(target.pid) / clockTicks;
  const clientBefore = process.cpuUsage();
  const t0 = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, options.seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  const clientCpu = process.cpuUsage(clientBefore);
  const cpuAfter = target.pid === undefined ? undefined : treeCpuTicks(target.pid) / clockTicks;
  stop = true;
  await Promise.all(loops);
  for (const w of workers) w.channel.close();

  latencies.sort((a, b) => a - b);
  const requests = latencies.length;
  return {
    target: target.name,
    workload: options.workload,
    workers: options.workers,
    requests,
    errors,
    errorKinds,
    seconds: elapsed,
    p50ms: percentile(latencies, 0.5),
    p99ms: percentile(latencies, 0.99),
    kdcCpuUsPerRequest: cpuBefore === undefined || cpuAfter === undefined || requests === 0
      ? undefined : ((cpuAfter - cpuBefore) * 1e6) / requests,
    clientCpuShare: (clientCpu.user + clientCpu.system) / 1e6 / elapsed,
  };
}
