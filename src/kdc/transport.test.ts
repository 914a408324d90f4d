import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { concatBytes } from '../core/bytes.js';
import { encodeTcpFrame } from '../messages/index.js';
import { asReq, encTimestamp, expectAsRep, harness, openAsRep, passwordKey } from '../testing/kdc-client.js';
import { TcpFrameClient as TcpClient, UdpClient } from '../testing/kdc-sockets.js';
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

async function udpExchange(host: string, port: number, payload: Uint8Array): Promise<Uint8Array> {
  const c = new UdpClient(host, port);
  try {
    return await c.exchange(payload);
  } finally {
    c.close();
  }
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

test('UDP and TCP share one port; both answer over IPv4 and IPv6', { timeout: 10_000 }, async () => {
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

test('RFC 4120 §7.2.2: frames split across writes and several frames in one write are answered in order', { timeout: 10_000 }, async () => {
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
    await c.write(concatBytes(encodeTcpFrame(new Uint8Array([0x31])), encodeTcpFrame(new Uint8Array([0x32])), encodeTcpFrame(new Uint8Array([0x33]))));
    assert.equal(text(await c.frame()), 'tcp:1');
    assert.equal(text(await c.frame()), 'tcp:2');
    assert.equal(text(await c.frame()), 'tcp:3');
    c.close();
  } finally {
    await server.close();
  }
});

test('a TCP request answered with silence closes the connection after the replies before it (MIT net-server)', { timeout: 10_000 }, async () => {
  const server = await serveKdc(echo, { listen: [{ host: '127.0.0.1', port: 0, transports: ['tcp'] }] });
  try {
    const c = new TcpClient('127.0.0.1', server.addresses[0]!.port);
    await c.ready();
    await c.write(concatBytes(encodeTcpFrame(new Uint8Array([0x31])), encodeTcpFrame(new Uint8Array([0xff])), encodeTcpFrame(new Uint8Array([0x33]))));
    assert.equal(text(await c.frame()), 'tcp:1');
    await assert.rejects(c.frame(), /closed/, 'nothing after the silent request');
    await c.closed;
  } finally {
    await server.close();
  }
});

test('an oversized TCP request (or the reserved high bit) is answered with the processor\'s error, then the connection closes', { timeout: 10_000 }, async () => {
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

test('a TCP connection idle between requests is closed after the idle timeout of the injected clock', { timeout: 10_000 }, async () => {
  const clock = new ManualClock();
  const server = await serveKdc(echo, { listen: [{ host: '127.0.0.1', port: 0, transports: ['tcp'] }], clock, tcpIdleTimeoutMs: 30_000 });
  try {
    const c = new TcpClient('127.0.0.1', server.addresses[0]!.port);
    await c.ready();
    await c.write(encodeTcpFrame(new Uint8Array([0x61])));
    assert.equal(text(await c.frame()), 'tcp:a');
    await clock.advance(29_000);
    assert.equal(c.socket.destroyed, false, 'idle less than the idle timeout: kept');
    await c.write(encodeTcpFrame(new Uint8Array([0x62])));
    assert.equal(text(await c.frame()), 'tcp:b', 'a request restarts the idle time');
    await clock.advance(29_000);
    assert.equal(c.socket.destroyed, false);
    await clock.advance(1_000);
    await c.closed;
    assert.equal(server.stats().tcp.limits.tcp_idle_timeout, 1);
  } finally {
    await server.close();
  }
});

test('malformed packets over UDP and TCP never stop the KDC and get no reply (MIT dispatch); the next valid request succeeds on both', { timeout: 30_000 }, async () => {
  const h = await harness();
  const server = await serveKdc(h.kdc, { listen: [{ host: '127.0.0.1', port: 0 }], clock: h.clock });
  try {
    const port = server.addresses[0]!.port;
    const key = await passwordKey('alice', 'alice-pw');
    const valid = asReq({ padata: [encTimestamp(key, h.clock.now())] });
    // UDP replies arrive in order: if a truncation were answered, its reply would come before the valid one's.
    const udp = new UdpClient('127.0.0.1', port);
    for (let cut = 1; cut < valid.length; cut += 7) await udp.send(valid.subarray(0, cut));
    await udp.send(asReq({ nonce: 77, padata: [encTimestamp(key, h.clock.now())] }));
    assert.equal(openAsRep(expectAsRep(await udp.reply()), key).nonce, 77, 'the first reply is the valid request\'s');
    udp.close();
    // TCP: a request that does not decode closes the connection without a reply, as MIT's KDC does.
    for (let cut = 1; cut < valid.length; cut += 11) {
      const tcp = new TcpClient('127.0.0.1', port);
      await tcp.ready();
      await tcp.write(encodeTcpFrame(valid.subarray(0, cut)));
      await assert.rejects(tcp.frame(), /closed/, `cut at ${cut}`);
    }
    const tcp = new TcpClient('127.0.0.1', port);
    await tcp.ready();
    await tcp.write(encodeTcpFrame(valid));
    assert.equal(openAsRep(expectAsRep(await tcp.frame()), key).nonce, 12345);
    await tcp.write(encodeTcpFrame(new Uint8Array([1, 2, 3]))); // not Kerberos: no answer, the connection closes
    await tcp.closed;
    const again = asReq({ nonce: 4321, padata: [encTimestamp(key, h.clock.now())] });
    assert.equal(openAsRep(expectAsRep(await udpExchange('127.0.0.1', port, again)), key).nonce, 4321);
  } finally {
    await server.close();
  }
});
