/**
 * Puts a request processor on the network: UDP and TCP listeners (IPv4 or
 * IPv6) around one `KdcRequestHandler`. With port 0 both transports of an
 * address share one port number, as krb5.conf's `kdc = host:port` expects.
 */

import { systemClock, type Clock } from '../core/clock.js';
import { InvalidArgumentError } from '../core/errors.js';
import { listenTcp, type TcpListener } from './tcp-transport.js';
import type { KdcRequestHandler, KdcTransportKind } from './transport.js';
import { listenUdp, type UdpListener } from './udp-transport.js';

export interface ListenAddress {
  /** An IP address ('127.0.0.1', '::1', '0.0.0.0', '::'). */
  readonly host: string;
  /** 0 picks a free port (the same for UDP and TCP). */
  readonly port: number;
  /** Default both. */
  readonly transports?: readonly KdcTransportKind[];
}

export interface ServeOptions {
  readonly listen: readonly ListenAddress[];
  readonly clock?: Clock;
  /** Largest TCP request in bytes (default 64 KiB, as Heimdal's max-request). */
  readonly maxTcpRequest?: number;
  /** Idle TCP connections are closed after this long (ms, default 30 s). */
  readonly tcpIdleTimeoutMs?: number;
  /** Concurrent TCP connections per listener (default 1024). */
  readonly maxTcpConnections?: number;
}

export interface BoundAddress {
  readonly transport: KdcTransportKind;
  readonly host: string;
  readonly port: number;
}

export interface KdcServer {
  readonly addresses: readonly BoundAddress[];
  close(): Promise<void>;
}

/** Attempts at finding a port free for both UDP and TCP before giving up. */
const SHARED_PORT_ATTEMPTS = 20;

export async function serveKdc(handler: KdcRequestHandler, options: ServeOptions): Promise<KdcServer> {
  if (options.listen.length === 0) throw new InvalidArgumentError('serveKdc needs at least one listen address');
  const tcpOptions = {
    clock: options.clock ?? systemClock(),
    maxRequestSize: options.maxTcpRequest ?? 64 * 1024,
    idleTimeoutMs: options.tcpIdleTimeoutMs ?? 30_000,
    maxConnections: options.maxTcpConnections ?? 1024,
  };
  const listeners: Array<UdpListener | TcpListener> = [];
  const addresses: BoundAddress[] = [];
  try {
    for (const address of options.listen) {
      const transports = new Set(address.transports ?? ['udp', 'tcp']);
      const bound = await bindPair(handler, address.host, address.port, transports.has('udp'), transports.has('tcp'), tcpOptions);
      if (bound.udp !== undefined) {
        listeners.push(bound.udp);
        addresses.push({ transport: 'udp', host: address.host, port: bound.udp.port });
      }
      if (bound.tcp !== undefined) {
        listeners.push(bound.tcp);
        addresses.push({ transport: 'tcp', host: address.host, port: bound.tcp.port });
      }
    }
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    throw err;
  }
  let closed: Promise<void> | undefined;
  return {
    addresses,
    close() {
      closed ??= Promise.all(listeners.map((l) => l.close())).then(() => undefined);
      return closed;
    },
  };
}

async function bindPair(
  handler: KdcRequestHandler, host: string, port: number, udp: boolean, tcp: boolean,
  tcpOptions: Parameters<typeof listenTcp>[3],
): Promise<{ udp?: UdpListener; tcp?: TcpListener }> {
  if (!udp) return { tcp: await listenTcp(handler, host, port, tcpOptions) };
  for (let attempt = 1; ; attempt++) {
    const u = await listenUdp(handler, host, port);
    if (!tcp) return { udp: u };
    try {
      return { udp: u, tcp: await listenTcp(handler, host, u.port, tcpOptions) };
    } catch (err) {
      await u.close();
      const inUse = (err as { code?: unknown }).code === 'EADDRINUSE';
      // Port 0: the UDP port's TCP twin was taken; try another pair.
      if (port !== 0 || !inUse || attempt >= SHARED_PORT_ATTEMPTS) throw err;
    }
  }
}
