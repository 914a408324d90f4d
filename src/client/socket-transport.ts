/**
 * The network side of `KdcTransport`: one UDP datagram (RFC 4120 §7.2.1) or
 * one length-prefixed TCP exchange (§7.2.2) per call. Everything else —
 * order, failover, timeouts — is decided in send-to-kdc.ts.
 */

import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { asBuffer } from '../core/bytes.js';
import { TcpFrameDecoder, encodeTcpFrame } from '../messages/index.js';
import type { KdcAddress, KdcProtocol } from './kdc-address.js';
import type { KdcTransport } from './send-to-kdc.js';

/** Largest reply accepted over TCP. */
export const MAX_TCP_REPLY = 1 << 20;
/** Largest UDP datagram. */
const MAX_UDP = 65_535;

export function socketTransport(): KdcTransport {
  return {
    async exchange(address: KdcAddress, protocol: KdcProtocol, request: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
      signal.throwIfAborted();
      const family = isIP(address.host);
      const ip = family !== 0 ? { address: address.host, family } : await lookup(address.host);
      signal.throwIfAborted();
      return protocol === 'udp'
        ? udpExchange(ip.address, ip.family, address.port, request, signal)
        : tcpExchange(ip.address, address.port, request, signal);
    },
  };
}

function udpExchange(host: string, family: number, port: number, request: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', recvBufferSize: MAX_UDP });
    const finish = (err: unknown, reply?: Uint8Array): void => {
      signal.removeEventListener('abort', onAbort);
      socket.close();
      if (err !== undefined) reject(err);
      else resolve(reply!);
    };
    const onAbort = (): void => finish(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err) => finish(err));
    socket.on('message', (msg, rinfo) => {
      // Only the KDC we asked may answer (a stray datagram is ignored).
      if (rinfo.port !== port) return;
      finish(undefined, new Uint8Array(msg));
    });
    socket.connect(port, host, () => {
      socket.send(asBuffer(request), (err) => { if (err) finish(err); });
    });
  });
}

function tcpExchange(host: string, port: number, request: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const decoder = new TcpFrameDecoder({ maxLength: MAX_TCP_REPLY });
    const socket = connect({ host, port, noDelay: true });
    let done = false;
    const finish = (err: unknown, reply?: Uint8Array): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err !== undefined) reject(err);
      else resolve(reply!);
    };
    const onAbort = (): void => finish(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err) => finish(err));
    socket.on('connect', () => { socket.write(asBuffer(encodeTcpFrame(request))); });
    socket.on('data', (chunk: Buffer) => {
      try {
        const frames = decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if (frames.length > 0) finish(undefined, frames[0]!);
      } catch (err) {
        finish(err);
      }
    });
    socket.on('end', () => finish(Object.assign(new Error('connection closed before a reply'), { code: 'ECONNRESET' })));
  });
}
