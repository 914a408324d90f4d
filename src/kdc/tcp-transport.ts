/**
 * RFC 4120 §7.2.2: each request and reply is preceded by a 4-byte big-endian
 * length. Frames may arrive split across reads or several in one read;
 * requests on one connection are answered in order. A length above the
 * maximum (or with the reserved high bit set) is answered with the
 * processor's KRB_ERR_FIELD_TOOLONG, then the connection is closed; so is a
 * request the processor answers with silence (MIT net-server.c does the same).
 *
 * Limits, so that no client can take the service from others
 * (docs/kdc-transport.md):
 * - connections per address (an IPv6 /64 counts as one address); beyond it a
 *   new connection is closed at once;
 * - connections per listener; when full, the oldest connection with no
 *   request under way is closed to make room (MIT's net-server evicts its
 *   oldest connection too), else the new one is refused;
 * - a request must arrive complete within `requestTimeoutMs` of its first
 *   byte (of the connection's opening for the first), however slowly it
 *   trickles in; between requests a connection may idle `idleTimeoutMs`;
 * - backpressure: while a client leaves replies unread (socket.write returns
 *   false) no further request is processed and the socket is not read, so
 *   the kernel's flow control, not our memory, holds what it sends; a client
 *   that reads nothing for `idleTimeoutMs` is dropped.
 * All timers come from the injected Clock.
 */

import { createServer, type Server, type Socket } from 'node:net';
import type { Clock, TimerHandle } from '../core/clock.js';
import { TcpFrameDecoder, encodeTcpFrame } from '../messages/index.js';
import { addressGroup, type KdcPeer, type KdcRequestHandler, type TransportLimitKind } from './transport.js';

export interface TcpOptions {
  readonly clock: Clock;
  /** Largest request accepted (bytes, without the length prefix). */
  readonly maxRequestSize: number;
  /** A connection that sends nothing between requests for this long is closed (ms). */
  readonly idleTimeoutMs: number;
  /** A request (the first: the connection's opening) must be complete this long after its first byte (ms). */
  readonly requestTimeoutMs: number;
  /** Connections per listener. */
  readonly maxConnections: number;
  /** Connections per client address (IPv6: per /64). */
  readonly maxConnectionsPerAddress: number;
}

export interface TcpStats {
  /** Open connections. */
  readonly connections: number;
  /** Connections not being read because their client leaves replies unread. */
  readonly paused: number;
  /** The largest number of reply bytes ever waiting in one connection's user-space write buffer. */
  readonly peakWriteBuffer: number;
  /** How often each limit refused or ended a connection. */
  readonly limits: Readonly<Partial<Record<TransportLimitKind, number>>>;
}

export interface TcpListener {
  readonly host: string;
  readonly port: number;
  /** Open connections (for tests and metrics). */
  readonly connections: number;
  stats(): TcpStats;
  close(): Promise<void>;
}

/**
 * Decoded requests a connection may hold waiting for processing before its
 * socket is paused (bytes; at least one request is always taken).
 */
const MAX_QUEUED_BYTES = 64 * 1024;

interface Connection {
  readonly socket: Socket;
  /** True while a request is queued or being processed (not evictable). */
  busy(): boolean;
  /** Ends the connection at once. */
  destroy(): void;
}

interface Shared {
  readonly handler: KdcRequestHandler;
  readonly options: TcpOptions;
  readonly limits: Partial<Record<TransportLimitKind, number>>;
  paused: number;
  peakWriteBuffer: number;
  limit(kind: TransportLimitKind, peer: KdcPeer, detail: string): void;
}

export async function listenTcp(handler: KdcRequestHandler, host: string, port: number, options: TcpOptions): Promise<TcpListener> {
  /** Insertion order = age order, for eviction. */
  const connections = new Map<Socket, Connection>();
  const perAddress = new Map<string, number>();
  const shared: Shared = {
    handler, options, limits: {}, paused: 0, peakWriteBuffer: 0,
    limit(kind, peer, detail) {
      this.limits[kind] = (this.limits[kind] ?? 0) + 1;
      try {
        handler.transportLimit?.(kind, peer, detail);
      } catch {
        // Reporting must never change what the transport does.
      }
    },
  };
  const server: Server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    const peer: KdcPeer = { transport: 'tcp', address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const group = addressGroup(peer.address);
    const held = perAddress.get(group) ?? 0;
    if (held >= options.maxConnectionsPerAddress) {
      shared.limit('tcp_per_address', peer, `${group} already holds ${held} TCP connections (limit ${options.maxConnectionsPerAddress})`);
      socket.destroy();
      return;
    }
    if (connections.size >= options.maxConnections && !evictOldestIdle(connections, shared, peer)) {
      shared.limit('tcp_connections', peer, `all ${options.maxConnections} TCP connections are processing requests`);
      socket.destroy();
      return;
    }
    perAddress.set(group, held + 1);
    socket.once('close', () => {
      connections.delete(socket);
      const left = (perAddress.get(group) ?? 1) - 1;
      if (left <= 0) perAddress.delete(group);
      else perAddress.set(group, left);
    });
    connections.set(socket, serveConnection(socket, peer, shared));
  });
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
    get connections() { return connections.size; },
    stats: () => ({
      connections: connections.size, paused: shared.paused, peakWriteBuffer: shared.peakWriteBuffer, limits: { ...shared.limits },
    }),
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of connections.values()) c.destroy();
      });
      return closed;
    },
  };
}

/** Closes the oldest connection with no request under way; false when every connection is busy. */
function evictOldestIdle(connections: Map<Socket, Connection>, shared: Shared, newcomer: KdcPeer): boolean {
  for (const [socket, c] of connections) {
    if (c.busy()) continue;
    connections.delete(socket);
    const victim: KdcPeer = { transport: 'tcp', address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    shared.limit('tcp_evicted', victim, `listener full (${shared.options.maxConnections} connections): closed the oldest connection without a request under way to admit ${newcomer.address}`);
    c.destroy();
    return true;
  }
  return false;
}

type TimerKind = 'request' | 'idle' | 'write';

function serveConnection(socket: Socket, peer: KdcPeer, shared: Shared): Connection {
  const { handler, options } = shared;
  const decoder = new TcpFrameDecoder({ maxLength: options.maxRequestSize });
  const queue: Uint8Array[] = [];
  let queuedBytes = 0;
  let processing = false;
  let served = false;
  let open = true;
  let ended = false;
  let paused = false;
  let timer: TimerHandle | undefined;
  let timerKind: TimerKind | undefined;

  const setPaused = (value: boolean): void => {
    if (value === paused) return;
    paused = value;
    shared.paused += value ? 1 : -1;
    if (value) socket.pause();
    else socket.resume();
  };
  const stopTimer = (): void => {
    timer?.cancel();
    timer = undefined;
    timerKind = undefined;
  };
  const destroy = (): void => {
    if (open) open = false;
    stopTimer();
    setPaused(false);
    socket.destroy();
  };
  /** Sends what is written, then closes; a client that does not read it is cut off after the idle time. */
  const finish = (last?: Uint8Array): void => {
    if (!open) return;
    open = false;
    stopTimer();
    setPaused(false);
    socket.pause();
    timer = options.clock.setTimer(options.idleTimeoutMs, () => socket.destroy());
    socket.end(last ?? new Uint8Array(0), () => { timer?.cancel(); socket.destroy(); });
  };
  const expire = (kind: TimerKind): void => {
    const detail = kind === 'request'
      ? `no complete request within ${options.requestTimeoutMs} ms (${decoder.pending} bytes of one received)`
      : kind === 'write' ? `replies left unread for ${options.idleTimeoutMs} ms` : `idle for ${options.idleTimeoutMs} ms`;
    shared.limit(kind === 'request' ? 'tcp_request_timeout' : kind === 'write' ? 'tcp_write_timeout' : 'tcp_idle_timeout', peer, detail);
    destroy();
  };
  /**
   * The one timer that applies in the connection's state. A timer already
   * running for the same state keeps its start, so trickling bytes does not
   * extend a request's deadline.
   */
  const rearm = (): void => {
    if (!open) return;
    let want: TimerKind | undefined;
    if (socket.writableNeedDrain) want = 'write';
    else if (processing || queue.length > 0) want = undefined; // our own work: not the client's time
    else if (decoder.pending > 0 || !served) want = 'request';
    else want = 'idle';
    if (want === timerKind) return;
    stopTimer();
    if (want === undefined) return;
    const ms = want === 'request' ? options.requestTimeoutMs : options.idleTimeoutMs;
    const kind = want;
    timerKind = want;
    timer = options.clock.setTimer(ms, () => expire(kind));
  };
  const updateReading = (): void => {
    if (open) setPaused(socket.writableNeedDrain || queuedBytes >= MAX_QUEUED_BYTES);
  };

  const pump = async (): Promise<void> => {
    if (processing) return;
    processing = true;
    try {
      while (open && queue.length > 0 && !socket.writableNeedDrain) {
        const frame = queue.shift()!;
        queuedBytes -= frame.length;
        rearm();
        const reply = await handler.process(frame, peer).catch(() => undefined);
        if (!open) return;
        served = true;
        if (reply === undefined) {
          finish();
          return;
        }
        socket.write(encodeTcpFrame(reply));
        if (socket.writableLength > shared.peakWriteBuffer) shared.peakWriteBuffer = socket.writableLength;
      }
    } finally {
      processing = false;
    }
    if (!open) return;
    updateReading();
    rearm();
    // A client that half-closed after its requests still gets the replies, then the connection ends.
    if (ended && queue.length === 0 && !socket.writableNeedDrain) finish();
  };

  socket.on('error', destroy);
  socket.on('close', () => { open = false; stopTimer(); setPaused(false); });
  socket.on('end', () => {
    ended = true;
    if (!processing && queue.length === 0 && !socket.writableNeedDrain) finish();
  });
  socket.on('drain', () => {
    if (!open) return;
    updateReading();
    rearm();
    void pump();
  });
  rearm();

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
      if (reply === undefined) destroy();
      else finish(encodeTcpFrame(reply));
      return;
    }
    for (const frame of frames) {
      queue.push(frame);
      queuedBytes += frame.length;
    }
    updateReading();
    rearm();
    if (frames.length > 0) void pump();
  });

  return { socket, busy: () => open && (processing || queue.length > 0), destroy };
}
