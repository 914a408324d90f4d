import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { concatBytes } from '../core/bytes.js';
import { encodeTcpFrame } from '../messages/index.js';
import { TcpFrameClient, UdpClient } from '../testing/kdc-sockets.js';
import { serveKdc, type KdcServer, type ServeOptions } from './serve.js';
import { addressGroup, type KdcRequestHandler } from './transport.js';

/** Replies with the request reversed, prefixed by the transport. */
const echo: KdcRequestHandler = {
  async process(request, peer) {
    return concatBytes(new TextEncoder().encode(`${peer.transport}:`), request.slice().reverse());
  },
};

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Waits (event-loop turns, not time) until `done()`; the per-test timeout bounds it. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await turn();
}

async function tcpServer(options: Omit<ServeOptions, 'listen'>, handler = echo): Promise<{ server: KdcServer; port: number }> {
  const server = await serveKdc(handler, { listen: [{ host: '127.0.0.1', port: 0, transports: ['tcp'] }], ...options });
  return { server, port: server.addresses[0]!.port };
}

test('addressGroup: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64', () => {
  assert.equal(addressGroup('127.0.0.1'), '127.0.0.1');
  assert.equal(addressGroup('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(addressGroup('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  assert.equal(addressGroup('2001:db8:1:2::99'), '2001:db8:1:2::/64');
  assert.equal(addressGroup('2001:DB8::1'), '2001:db8:0:0::/64');
  assert.equal(addressGroup('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(addressGroup('::1'), '0:0:0:0::/64');
});

test('one address holding more than its share of TCP connections does not keep a second address out', { timeout: 20_000 }, async () => {
  const { server, port } = await tcpServer({ maxTcpConnections: 8, maxTcpConnectionsPerAddress: 4 });
  const hogs: TcpFrameClient[] = [];
  try {
    for (let i = 0; i < 20; i++) hogs.push(new TcpFrameClient('127.0.0.1', port, { localAddress: '127.0.0.2' }));
    // Established in the kernel before the next client connects, so the server accepts them first.
    await Promise.all(hogs.map((h) => h.ready().catch(() => undefined)));
    const other = new TcpFrameClient('127.0.0.1', port, { localAddress: '127.0.0.3' });
    await other.ready();
    await other.write(encodeTcpFrame(new Uint8Array([0x61, 0x62])));
    assert.equal(text(await other.frame()), 'tcp:ba', 'the second address is served');
    const stats = server.stats().tcp;
    assert.equal(stats.limits.tcp_per_address, 16, '16 of the 20 connections from 127.0.0.2 were refused');
    assert.equal(stats.connections, 5);
    other.close();
  } finally {
    for (const h of hogs) h.close();
    await server.close();
  }
});

test('a full listener evicts its oldest connection without a request under way to admit a new client', { timeout: 20_000 }, async () => {
  const { server, port } = await tcpServer({ maxTcpConnections: 4, maxTcpConnectionsPerAddress: 32 });
  const idle: TcpFrameClient[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      const c = new TcpFrameClient('127.0.0.1', port, { localAddress: '127.0.0.2' });
      await c.ready();
      idle.push(c);
    }
    await until(() => server.stats().tcp.connections === 4);
    const late = new TcpFrameClient('127.0.0.1', port, { localAddress: '127.0.0.3' });
    await late.ready();
    await late.write(encodeTcpFrame(new Uint8Array([0x7a])));
    assert.equal(text(await late.frame()), 'tcp:z');
    await idle[0]!.closed;
    assert.equal(server.stats().tcp.limits.tcp_evicted, 1, 'the oldest idle connection made room');
    late.close();
  } finally {
    for (const c of idle) c.close();
    await server.close();
  }
});

test('slowloris: a connection that sends 3 bytes and stalls is closed at the request timeout, not the idle timeout', { timeout: 20_000 }, async () => {
  const clock = new ManualClock();
  const { server, port } = await tcpServer({ clock, tcpRequestTimeoutMs: 5_000, tcpIdleTimeoutMs: 30_000 });
  try {
    const c = new TcpFrameClient('127.0.0.1', port);
    await c.ready();
    await until(() => server.stats().tcp.connections === 1);
    await c.write(new Uint8Array([0, 0, 0])); // three bytes of a length prefix
    await clock.advance(4_999);
    assert.equal(c.socket.destroyed, false);
    await clock.advance(1);
    assert.equal(server.stats().tcp.limits.tcp_request_timeout, 1, 'closed at the 5 s request timeout');
    await c.closed;
  } finally {
    await server.close();
  }
});

test('slowloris: trickling a request a byte at a time does not extend its deadline; a silent connection is closed too', { timeout: 20_000 }, async () => {
  const clock = new ManualClock();
  const { server, port } = await tcpServer({ clock, tcpRequestTimeoutMs: 5_000, tcpIdleTimeoutMs: 30_000 });
  try {
    // A complete first request, then the next one a byte per second.
    const c = new TcpFrameClient('127.0.0.1', port);
    await c.ready();
    await c.write(encodeTcpFrame(new Uint8Array([0x41])));
    assert.equal(text(await c.frame()), 'tcp:A');
    await clock.advance(10_000); // idle between requests: allowed up to 30 s
    assert.equal(c.socket.destroyed, false);
    const next = encodeTcpFrame(new Uint8Array(100));
    for (let i = 0; i < 5; i++) {
      await c.write(next.subarray(i, i + 1));
      await until(() => false === c.socket.destroyed && c.socket.writableLength === 0);
      await clock.advance(1_000);
    }
    assert.equal(server.stats().tcp.limits.tcp_request_timeout, 1, '5 s after the first byte, though a byte came every second');
    await c.closed;
    const silent = new TcpFrameClient('127.0.0.1', port);
    await silent.ready();
    await until(() => server.stats().tcp.connections === 1);
    await clock.advance(5_000);
    await silent.closed;
    assert.equal(server.stats().tcp.limits.tcp_request_timeout, 2);
  } finally {
    await server.close();
  }
});

test('backpressure: a client that sends many requests and never reads gets its socket paused, not its replies buffered', { timeout: 30_000 }, async () => {
  let processed = 0;
  const counting: KdcRequestHandler = {
    async process(request, peer) {
      processed++;
      return echo.process(request, peer);
    },
  };
  const { server, port } = await tcpServer({ maxTcpRequest: 16 * 1024 }, counting);
  const requests = 3000;
  const size = 8 * 1024; // 24 MB of replies: more than the kernel buffers of both ends hold
  try {
    const c = new TcpFrameClient('127.0.0.1', port, { read: false });
    await c.ready();
    for (let i = 0; i < requests; i++) {
      const body = new Uint8Array(size).fill(i & 0xff);
      new DataView(body.buffer).setUint32(0, i);
      c.socket.write(encodeTcpFrame(body));
    }
    await until(() => server.stats().tcp.paused === 1 || processed === requests || c.socket.destroyed);
    assert.equal(server.stats().tcp.paused, 1, 'the connection is paused');
    assert.ok(processed < requests, `processing stopped (${processed} of ${requests} done)`);
    // Only what fits above Node's high-water mark: one reply beyond 16 KiB.
    assert.ok(server.stats().tcp.peakWriteBuffer <= 16 * 1024 + size + 64, `peak write buffer ${server.stats().tcp.peakWriteBuffer}`);
    c.socket.resume();
    for (let i = 0; i < requests; i++) {
      const reply = await c.frame();
      assert.equal(reply.length, 4 + size);
      assert.equal(new DataView(reply.buffer, reply.byteOffset + reply.length - 4).getUint32(0, true), i, `reply ${i} in order`);
    }
    assert.equal(c.socket.destroyed, false, 'the slow reader was kept, not cut off');
    assert.equal(server.stats().tcp.paused, 0);
    c.close();
  } finally {
    await server.close();
  }
});

test('UDP: at most maxUdpInFlight datagrams are processed at once; the rest are dropped and counted', { timeout: 20_000 }, async () => {
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const held: KdcRequestHandler = {
    async process(request) {
      calls++;
      await gate;
      return request;
    },
  };
  const server = await serveKdc(held, { listen: [{ host: '127.0.0.1', port: 0, transports: ['udp'] }], maxUdpInFlight: 4 });
  const c = new UdpClient('127.0.0.1', server.addresses[0]!.port);
  try {
    for (let i = 0; i < 20; i++) await c.send(new Uint8Array([i]));
    await until(() => calls + server.stats().udp.dropped === 20);
    assert.equal(calls, 4);
    assert.deepEqual(server.stats().udp, { inFlight: 4, dropped: 16 });
    release();
    const replies = new Set<number>();
    for (let i = 0; i < 4; i++) replies.add((await c.reply())[0]!);
    assert.deepEqual([...replies].sort((a, b) => a - b), [0, 1, 2, 3]);
    await until(() => server.stats().udp.inFlight === 0);
    await c.send(new Uint8Array([99]));
    assert.deepEqual([...await c.reply()], [99], 'served again once the work drained');
  } finally {
    c.close();
    await server.close();
  }
});
