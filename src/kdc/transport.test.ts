import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { ManualClock } from '../core/clock.js';
import { concatBytes } from '../core/bytes.js';
import { ErrorCode, KrbError, encodeTcpFrame } from '../messages/index.js';
import { asReq, encTimestamp, expectAsRep, expectError, harness, openAsRep, passwordKey } from '../testing/kdc-client.js';
import { serveKdc } from './serve.js';
import type { KdcRequestHandler } from './transport.js';

/** Replies with the request reversed; a 1-byte request [0xff] gets silence. */
const echo: KdcRequestHandler = {
  async process(request, peer) {
    if (request.length === 1 && request[0] === 0xff) return undefined;
    return concatBytes(new TextEncoder().encode(`${peer.transport}:`), request.slice().reverse());
  },
  oversizedRequest: (length) => new TextEncoder().encode(`too long ${length}`),
};

function udpExchange(host: string, port: number, payload: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.once('error', reject);
    s.once('message', (msg) => { s.close(); resolve(new Uint8Array(msg)); });
    s.send(payload, port, host);
  });
}

/** A TCP client that collects whole frames. */
class TcpClient {
  readonly socket: Socket;
  #buffer: Uint8Array = new Uint8Array(0);
  #waiters: Array<() => void> = [];
  closed: Promise<void>;

  constructor(host: string, port: number) {
    this.socket = connect({ host, port });
    this.socket.on('data', (d) => { this.#buffer = concatBytes(this.#buffer, new Uint8Array(d)); this.#wake(); });
    this.closed = new Promise((resolve) => this.socket.once('close', () => { this.#wake(); resolve(); }));
  }

  ready(): Promise<void> {
    return new Promise((resolve) => this.socket.once('connect', () => resolve()));
  }

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }

  async frame(): Promise<Uint8Array> {
    for (;;) {
      if (this.#buffer.length >= 4) {
        const len = new DataView(this.#buffer.buffer, this.#buffer.byteOffset).getUint32(0);
        if (this.#buffer.length >= 4 + len) {
          const out = this.#buffer.slice(4, 4 + len);
          this.#buffer = this.#buffer.slice(4 + len);
          return out;
        }
      }
      if (this.socket.destroyed) throw new Error('connection closed before a complete frame');
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  close(): void {
    this.socket.destroy();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

test('UDP and TCP share one port; both answer over IPv4 and IPv6', async () => {
  const server = await serveKdc(echo, { listen: [{ host: '127.0.0.1', port: 0 }, { host: '::1', port: 0 }] });
  try {
    assert.equal(server.addresses.length, 4);
    for (const host of ['127.0.0.1', '::1']) {
      const [udp, tcp] = server.addresses.filter((a) => a.host === host);
      assert.equal(udp!.port, tcp!.port, 'UDP and TCP on the same port');
      assert.equal(text(await udpExchange(host, udp!.port, new Uint8Array([0x61, 0x62]))), 'udp:ba');
      const c = new TcpClient(host, tcp!.port);
      await c.ready();
      await c.write(encodeTcpFrame(new Uint8Array([0x61, 0x62, 0x63])));
      assert.equal(text(await c.frame()), 'tcp:cba');
      c.close();
    }
  } finally {
    await server.close();
  }
});

test('RFC 4120 §7.2.2: frames split across writes and several frames in one write are answered in order', async () => {
  const server = await serveKdc(echo, { listen: [{ host: '127.0.0.1', port: 0, transports: ['tcp'] }] });
  try {
    const c = new TcpClient('127.0.0.1', server.addresses[0]!.port);
    await c.ready();
    const frame = encodeTcpFrame(new TextEncoder().encode('hello'));
    for (let cut = 1; cut < frame.length; cut++) {
      await c.write(frame.subarray(0, cut));
      await new Promise((r) => setImmediate(r));
      await c.write(frame.subarray(cut));
      assert.equal(text(await c.frame()), 'tcp:olleh', `split at ${cut}`);
    }
    await c.write(concatBytes(encodeTcpFrame(new Uint8Array([0x31])), encodeTcpFrame(new Uint8Array([0x32])), encodeTcpFrame(new Uint8Array([0xff])), encodeTcpFrame(new Uint8Array([0x33]))));
    assert.equal(text(await c.frame()), 'tcp:1');
    assert.equal(text(await c.frame()), 'tcp:2');
    assert.equal(text(await c.frame()), 'tcp:3', 'a silent request sends nothing');
    c.close();
  } finally {
    await server.close();
  }
});

test('an oversized TCP request (or the reserved high bit) is answered with the processor\'s error, then the connection closes', async () => {
  const server = await serveKdc(echo, { listen: [{ host: '127.0.0.1', port: 0, transports: ['tcp'] }], maxTcpRequest: 100 });
  try {
    for (const header of [[0, 0, 0, 101], [0x80, 0, 0, 1]]) {
      const c = new TcpClient('127.0.0.1', server.addresses[0]!.port);
      await c.ready();
      await c.write(new Uint8Array(header));
      assert.match(text(await c.frame()), /^too long/);
      await c.closed;
    }
  } finally {
    await server.close();
  }
});

test('an idle TCP connection is closed after the idle timeout of the injected clock', async () => {
  const clock = new ManualClock();
  const server = await serveKdc(echo, { listen: [{ host: '127.0.0.1', port: 0, transports: ['tcp'] }], clock, tcpIdleTimeoutMs: 30_000 });
  try {
    const c = new TcpClient('127.0.0.1', server.addresses[0]!.port);
    await c.ready();
    await c.write(new Uint8Array([0, 0, 0])); // half a header: not a request
    while (clock.pendingTimers === 0) await new Promise((r) => setImmediate(r));
    await clock.advance(29_000);
    assert.equal(c.socket.destroyed, false);
    await clock.advance(1_000);
    await c.closed;
  } finally {
    await server.close();
  }
});

test('malformed packets over UDP and TCP never stop the KDC; the next valid request succeeds on both', async () => {
  const h = await harness();
  const server = await serveKdc(h.kdc, { listen: [{ host: '127.0.0.1', port: 0 }], clock: h.clock });
  try {
    const port = server.addresses[0]!.port;
    const key = await passwordKey('alice', 'alice-pw');
    const valid = asReq({ padata: [encTimestamp(key, h.clock.now())] });
    // Truncations that still start like an AS-REQ get KRB_ERR_GENERIC over UDP.
    for (let cut = 1; cut < valid.length; cut += 7) {
      const err = KrbError.decode(await udpExchange('127.0.0.1', port, valid.subarray(0, cut)));
      assert.equal(err.errorCode, ErrorCode.KRB_ERR_GENERIC);
    }
    const tcp = new TcpClient('127.0.0.1', port);
    await tcp.ready();
    for (let cut = 1; cut < valid.length; cut += 11) {
      await tcp.write(encodeTcpFrame(valid.subarray(0, cut)));
      assert.equal(expectError(await tcp.frame()).errorCode, ErrorCode.KRB_ERR_GENERIC);
    }
    await tcp.write(encodeTcpFrame(new Uint8Array([1, 2, 3]))); // not Kerberos: no answer, connection stays
    await tcp.write(encodeTcpFrame(valid));
    assert.equal(openAsRep(expectAsRep(await tcp.frame()), key).nonce, 12345);
    tcp.close();
    const again = asReq({ nonce: 4321, padata: [encTimestamp(key, h.clock.now())] });
    assert.equal(openAsRep(expectAsRep(await udpExchange('127.0.0.1', port, again)), key).nonce, 4321);
  } finally {
    await server.close();
  }
});
