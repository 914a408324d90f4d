/**
 * RFC 4120 §7.2.2: each request and reply is preceded by a 4-byte big-endian
 * length. Frames may arrive split across reads or several in one read;
 * requests on one connection are answered in order. A length above the
 * maximum (or with the reserved high bit set) is answered with the
 * processor's KRB_ERR_FIELD_TOOLONG, then the connection is closed. An idle
 * connection is closed after `idleTimeoutMs` of the injected Clock.
 */

import { createServer, type Server, type Socket } from 'node:net';
import type { Clock, TimerHandle } from '../core/clock.js';
import { TcpFrameDecoder, encodeTcpFrame } from '../messages/index.js';
import type { KdcPeer, KdcRequestHandler } from './transport.js';

/** Reply bytes a client may leave unread before the connection is dropped. */
const MAX_UNREAD_REPLIES = 1024 * 1024;

export interface TcpOptions {
  readonly clock: Clock;
  /** Largest request accepted (bytes, without the length prefix). */
  readonly maxRequestSize: number;
  /** A connection with no complete request for this long is closed (ms). */
  readonly idleTimeoutMs: number;
  /** Connections beyond this are refused. */
  readonly maxConnections: number;
}

export interface TcpListener {
  readonly host: string;
  readonly port: number;
  /** Open connections (for tests and metrics). */
  readonly connections: number;
  close(): Promise<void>;
}

export async function listenTcp(handler: KdcRequestHandler, host: string, port: number, options: TcpOptions): Promise<TcpListener> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveConnection(socket, handler, options);
  });
  server.maxConnections = options.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: host.includes(':') }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => {});
  const address = server.address();
  let closed: Promise<void> | undefined;
  return {
    host,
    port: typeof address === 'object' && address !== null ? address.port : port,
    get connections() { return sockets.size; },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closed;
    },
  };
}

function serveConnection(socket: Socket, handler: KdcRequestHandler, options: TcpOptions): void {
  const peer: KdcPeer = { transport: 'tcp', address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
  const decoder = new TcpFrameDecoder({ maxLength: options.maxRequestSize });
  let queue: Promise<void> = Promise.resolve();
  let timer: TimerHandle | undefined;
  let open = true;

  const close = (): void => {
    if (!open) return;
    open = false;
    timer?.cancel();
    socket.destroy();
  };
  const armIdleTimer = (): void => {
    timer?.cancel();
    if (open) timer = options.clock.setTimer(options.idleTimeoutMs, close);
  };

  socket.on('error', close);
  socket.on('close', () => { open = false; timer?.cancel(); });
  // A client that half-closes after its request still gets the replies.
  socket.on('end', () => { void queue.then(() => { if (open) socket.end(); }); });
  armIdleTimer();

  socket.on('data', (chunk: Buffer) => {
    if (!open) return;
    let frames: Uint8Array[];
    try {
      frames = decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } catch (err) {
      // FrameError / FrameTooLargeError: the announced length is in the error's detail.
      const announced = (err as { detail?: { length?: unknown; lengthField?: unknown } }).detail;
      const length = Number(announced?.length ?? announced?.lengthField ?? 0);
      const reply = handler.oversizedRequest?.(length, peer);
      socket.pause();
      if (reply === undefined || !open) {
        close();
      } else {
        open = false;
        timer?.cancel();
        socket.end(encodeTcpFrame(reply), () => socket.destroy());
      }
      return;
    }
    if (frames.length > 0) armIdleTimer();
    for (const frame of frames) {
      // Answer in order: each request waits for the previous reply to be written.
      queue = queue.then(async () => {
        if (!open) return;
        const reply = await handler.process(frame, peer).catch(() => undefined);
        if (open && reply !== undefined) socket.write(encodeTcpFrame(reply));
        // A client that sends requests but never reads its replies is dropped.
        if (socket.writableLength > MAX_UNREAD_REPLIES) close();
        armIdleTimer();
      });
    }
  });
}
