/**
 * Test-side sockets for talking to a KDC over the network: a TCP client that
 * collects whole RFC 4120 §7.2.2 frames (optionally from a chosen loopback
 * source address), and a UDP client whose replies arrive in order, so a test
 * can prove "no reply" without waiting for a timeout: it sends the datagram
 * that should be ignored, then one that must be answered, and checks that the
 * first reply is the second one's. (No tests of its own.)
 */

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { concatBytes } from '../core/bytes.js';

/** A TCP client that collects whole frames. */
export class TcpFrameClient {
  readonly socket: Socket;
  #buffer: Uint8Array = new Uint8Array(0);
  #waiters: Array<() => void> = [];
  /** Bytes received so far (frames and length prefixes). */
  received = 0;
  readonly closed: Promise<void>;

  constructor(host: string, port: number, options: { localAddress?: string; read?: boolean } = {}) {
    this.socket = connect({ host, port, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) });
    this.socket.on('error', () => {});
    this.socket.on('data', (d) => {
      this.received += d.length;
      this.#buffer = concatBytes(this.#buffer, new Uint8Array(d));
      this.#wake();
    });
    if (options.read === false) this.socket.pause();
    this.closed = new Promise((resolve) => this.socket.once('close', () => { this.#wake(); resolve(); }));
  }

  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('close', () => reject(new Error('connection closed before it was established')));
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }

  /** The next complete frame; rejects if the connection closes first. */
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
      if (this.socket.destroyed || this.socket.readableEnded) throw new Error('connection closed before a complete frame');
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

/** A UDP client on one local port whose replies are taken in arrival order. */
export class UdpClient {
  readonly socket: UdpSocket;
  #replies: Uint8Array[] = [];
  #waiters: Array<() => void> = [];
  readonly #ready: Promise<void>;

  constructor(readonly host: string, readonly port: number, localAddress?: string) {
    this.socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    this.socket.on('error', () => {});
    this.socket.on('message', (msg) => {
      this.#replies.push(new Uint8Array(msg));
      for (const w of this.#waiters.splice(0)) w();
    });
    this.#ready = new Promise((resolve) => this.socket.bind(0, localAddress, () => resolve()));
  }

  async send(payload: Uint8Array): Promise<void> {
    await this.#ready;
    await new Promise<void>((resolve, reject) => this.socket.send(payload, this.port, this.host, (err) => (err ? reject(err) : resolve())));
  }

  /** The next reply that arrived (or arrives). */
  async reply(): Promise<Uint8Array> {
    for (;;) {
      const next = this.#replies.shift();
      if (next !== undefined) return next;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  async exchange(payload: Uint8Array): Promise<Uint8Array> {
    await this.send(payload);
    return this.reply();
  }

  close(): void {
    this.socket.close();
  }
}
