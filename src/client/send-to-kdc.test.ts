import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { utf8, fromUtf8 } from '../core/bytes.js';
import { sendToKdc, type KdcTransport } from './send-to-kdc.js';
import { parseKdcAddress, formatKdcAddress, type KdcAddress, type KdcProtocol } from './kdc-address.js';
import { KdcUnreachableError, NoKdcConfiguredError } from './errors.js';

test('parseKdcAddress: MIT krb5.conf kdc syntax (host, host:port, [v6]:port, tcp/ and udp/ prefixes)', () => {
  assert.deepEqual(parseKdcAddress('kdc.example.test'), { host: 'kdc.example.test', port: 88 });
  assert.deepEqual(parseKdcAddress('127.0.0.1:8888'), { host: '127.0.0.1', port: 8888 });
  assert.deepEqual(parseKdcAddress('tcp/kdc:750'), { host: 'kdc', port: 750, protocol: 'tcp' });
  assert.deepEqual(parseKdcAddress('UDP/[::1]:88'), { host: '::1', port: 88, protocol: 'udp' });
  assert.deepEqual(parseKdcAddress('[fe80::1]'), { host: 'fe80::1', port: 88 });
  assert.throws(() => parseKdcAddress('host:99999'), /out of range/);
  assert.throws(() => parseKdcAddress('a b'), /not a KDC address/);
  assert.equal(formatKdcAddress({ host: '::1', port: 88 }, 'tcp'), 'tcp/[::1]:88');
});

type Behaviour = 'hang' | 'refuse' | 'too_big' | 'ok' | 'unavailable';

/** A scripted network: what each "protocol/host:port" does. Records the tries. */
function scripted(plan: Record<string, Behaviour>) {
  const calls: string[] = [];
  const transport: KdcTransport = {
    exchange(address: KdcAddress, protocol: KdcProtocol, request: Uint8Array, signal: AbortSignal) {
      const label = formatKdcAddress({ host: address.host, port: address.port }, protocol);
      calls.push(label);
      const b = plan[label] ?? 'refuse';
      if (b === 'hang') return new Promise((_, reject) => { signal.addEventListener('abort', () => reject(signal.reason)); });
      if (b === 'refuse') return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      return Promise.resolve(utf8(`${b}:${label}:${request.length}`));
    },
  };
  const classify = (reply: Uint8Array) => {
    const kind = fromUtf8(reply).split(':')[0];
    return kind === 'too_big' ? 'response_too_big' as const : kind === 'unavailable' ? 'try_next_kdc' as const : 'ok' as const;
  };
  return { transport, calls, classify };
}

const kdcs = ['kdc1:88', 'kdc2:88'].map(parseKdcAddress);

test('a small request goes over UDP first; a KDC that does not answer times out on the clock and the next is tried', async () => {
  const clock = new ManualClock(0);
  const net = scripted({ 'udp/kdc1:88': 'hang', 'tcp/kdc1:88': 'refuse', 'udp/kdc2:88': 'ok' });
  const pending = sendToKdc(new Uint8Array(100), { realm: 'EXAMPLE.TEST', kdcs, transport: net.transport, clock, classify: net.classify, timeout: 1000 });
  await clock.advance(1000);
  const r = await pending;
  assert.deepEqual(net.calls, ['udp/kdc1:88', 'tcp/kdc1:88', 'udp/kdc2:88']);
  assert.equal(r.protocol, 'udp');
  assert.equal(r.address.host, 'kdc2');
});

test('a request above udp_preference_limit goes over TCP first (limit 1: always TCP)', async () => {
  const clock = new ManualClock(0);
  const net = scripted({ 'tcp/kdc1:88': 'ok', 'udp/kdc1:88': 'ok' });
  const big = await sendToKdc(new Uint8Array(1466), { realm: 'R', kdcs, transport: net.transport, clock, classify: net.classify });
  assert.equal(big.protocol, 'tcp');
  const small = await sendToKdc(new Uint8Array(1465), { realm: 'R', kdcs, transport: net.transport, clock, classify: net.classify });
  assert.equal(small.protocol, 'udp');
  const forced = await sendToKdc(new Uint8Array(10), { realm: 'R', kdcs, transport: net.transport, clock, classify: net.classify, udpPreferenceLimit: 1 });
  assert.equal(forced.protocol, 'tcp');
});

test('KRB_ERR_RESPONSE_TOO_BIG over UDP is retried over TCP at the same KDC', async () => {
  const clock = new ManualClock(0);
  const net = scripted({ 'udp/kdc1:88': 'too_big', 'tcp/kdc1:88': 'ok' });
  const r = await sendToKdc(new Uint8Array(10), { realm: 'R', kdcs, transport: net.transport, clock, classify: net.classify });
  assert.deepEqual(net.calls, ['udp/kdc1:88', 'tcp/kdc1:88']);
  assert.equal(r.protocol, 'tcp');
  // Also when the address was pinned to UDP.
  const pinned = scripted({ 'udp/kdc1:88': 'too_big', 'tcp/kdc1:88': 'ok' });
  const r2 = await sendToKdc(new Uint8Array(10), { realm: 'R', kdcs: [parseKdcAddress('udp/kdc1')], transport: pinned.transport, clock, classify: pinned.classify });
  assert.equal(r2.protocol, 'tcp');
});

test('a pinned tcp/ address is tried over TCP only; an unavailable KDC passes to the next', async () => {
  const clock = new ManualClock(0);
  const net = scripted({ 'tcp/kdc1:88': 'unavailable', 'tcp/kdc2:88': 'ok' });
  const r = await sendToKdc(new Uint8Array(10), {
    realm: 'R', kdcs: [parseKdcAddress('tcp/kdc1'), parseKdcAddress('tcp/kdc2')], transport: net.transport, clock, classify: net.classify,
  });
  assert.deepEqual(net.calls, ['tcp/kdc1:88', 'tcp/kdc2:88']);
  assert.equal(r.address.host, 'kdc2');
});

test('no KDC answers: KdcUnreachableError lists every address tried and why', async () => {
  const clock = new ManualClock(0);
  const net = scripted({ 'udp/kdc1:88': 'hang', 'tcp/kdc1:88': 'refuse', 'udp/kdc2:88': 'refuse', 'tcp/kdc2:88': 'hang' });
  const pending = sendToKdc(new Uint8Array(10), { realm: 'EXAMPLE.TEST', kdcs, transport: net.transport, clock, classify: net.classify, timeout: 2000 });
  const failure = assert.rejects(pending, (err: unknown) => {
    assert.ok(err instanceof KdcUnreachableError);
    assert.equal(err.code, 'ERR_KDC_UNREACHABLE');
    assert.deepEqual(err.tried, [
      'udp/kdc1:88 (no reply within 2 s)', 'tcp/kdc1:88 (ECONNREFUSED)',
      'udp/kdc2:88 (ECONNREFUSED)', 'tcp/kdc2:88 (no reply within 2 s)',
    ]);
    assert.match(err.message, /EXAMPLE\.TEST/);
    assert.match(err.hint ?? '', /\[realms\] EXAMPLE\.TEST/);
    return true;
  });
  await clock.advance(2000);
  await clock.advance(2000);
  await failure;
  assert.equal(clock.pendingTimers, 0, 'no timer left behind');
});

test('a realm without KDCs is a configuration error, not "unreachable"', async () => {
  await assert.rejects(
    sendToKdc(new Uint8Array(1), { realm: 'NOWHERE', kdcs: [], transport: scripted({}).transport, clock: new ManualClock() }),
    NoKdcConfiguredError,
  );
});
