/**
 * Puts a request processor on the network: UDP and TCP listeners (IPv4 or
 * IPv6) around one `KdcRequestHandler`. With port 0 both transports of an
 * address share one port number, as krb5.conf's `kdc = host:port` expects.
 */

import { systemClock, type Clock } from '../core/clock.js';
import { InvalidArgumentError } from '../core/errors.js';
import { listenTcp, type TcpListener, type TcpOptions, type TcpStats } from './tcp-transport.js';
import type { KdcRequestHandler, KdcTransportKind } from './transport.js';
import { listenUdp, type UdpListener, type UdpOptions, type UdpStats } from './udp-transport.js';

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
  /** TCP connections idle between requests are closed after this long (ms, default 30 s). */
  readonly tcpIdleTimeoutMs?: number;
  /** A TCP request must be complete this long after its first byte, the first after the connection opens (ms, default 5 s). */
  readonly tcpRequestTimeoutMs?: number;
  /** Concurrent TCP connections per listener (default 1024). */
  readonly maxTcpConnections?: number;
  /** Concurrent TCP connections from one address, an IPv6 /64 counting as one (default 32). */
  readonly maxTcpConnectionsPerAddress?: number;
  /** UDP requests processed at once per listener; more are dropped (default 256). */
  readonly maxUdpInFlight?: number;
}

/** The defaults of the transport limits (docs/kdc-transport.md says why these values). */
export const TRANSPORT_DEFAULTS = Object.freeze({
  maxTcpRequest: 64 * 1024,
  tcpIdleTimeoutMs: 30_000,
  tcpRequestTimeoutMs: 5_000,
  maxTcpConnections: 1024,
  maxTcpConnectionsPerAddress: 32,
  maxUdpInFlight: 256,
});

/** What the listeners counted, summed over all of them. */
export interface KdcServerStats {
  readonly tcp: TcpStats;
  readonly udp: UdpStats;
}

export interface BoundAddress {
  readonly transport: KdcTransportKind;
  readonly host: string;
  readonly port: number;
}

export interface KdcServer {
  readonly addresses: readonly BoundAddress[];
  stats(): KdcServerStats;
  close(): Promise<void>;
}

/** Attempts at finding a port free for both UDP and TCP before giving up. */
const SHARED_PORT_ATTEMPTS = 20;

export async function serveKdc(handler: KdcRequestHandler, options: ServeOptions): Promise<KdcServer> {
  if (options.listen.length === 0) throw new InvalidArgumentError('serveKdc needs at least one listen address');
  const d = TRANSPORT_DEFAULTS;
  const tcpOptions: TcpOptions = {
    clock: options.clock ?? systemClock(),
    maxRequestSize: positive('maxTcpRequest', options.maxTcpRequest ?? d.maxTcpRequest),
    idleTimeoutMs: positive('tcpIdleTimeoutMs', options.tcpIdleTimeoutMs ?? d.tcpIdleTimeoutMs),
    requestTimeoutMs: positive('tcpRequestTimeoutMs', options.tcpRequestTimeoutMs ?? d.tcpRequestTimeoutMs),
    maxConnections: positive('maxTcpConnections', options.maxTcpConnections ?? d.maxTcpConnections),
    maxConnectionsPerAddress: positive('maxTcpConnectionsPerAddress', options.maxTcpConnectionsPerAddress ?? d.maxTcpConnectionsPerAddress),
  };
  const udpOptions: UdpOptions = { maxInFlight: positive('maxUdpInFlight', options.maxUdpInFlight ?? d.maxUdpInFlight) };
  const listeners: Array<UdpListener | TcpListener> = [];
  const udpListeners: UdpListener[] = [];
  const tcpListeners: TcpListener[] = [];
  const addresses: BoundAddress[] = [];
  try {
    for (const address of options.listen) {
      const transports = new Set(address.transports ?? ['udp', 'tcp']);
      const bound = await bindPair(handler, address.host, address.port, transports.has('udp'), transports.has('tcp'), udpOptions, tcpOptions);
      if (bound.udp !== undefined) {
        listeners.push(bound.udp);
        udpListeners.push(bound.udp);
        addresses.push({ transport: 'udp', host: address.host, port: bound.udp.port });
      }
      if (bound.tcp !== undefined) {
        listeners.push(bound.tcp);
        tcpListeners.push(bound.tcp);
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
    stats: () => sumStats(udpListeners.map((l) => l.stats()), tcpListeners.map((l) => l.stats())),
    close() {
      closed ??= Promise.all(listeners.map((l) => l.close())).then(() => undefined);
      return closed;
    },
  };
}

async function bindPair(
  handler: KdcRequestHandler, host: string, port: number, udp: boolean, tcp: boolean,
  udpOptions: UdpOptions, tcpOptions: TcpOptions,
): Promise<{ udp?: UdpListener; tcp?: TcpListener }> {
  if (!udp) return { tcp: await listenTcp(handler, host, port, tcpOptions) };
  for (let attempt = 1; ; attempt++) {
    const u = await listenUdp(handler, host, port, udpOptions);
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

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`serveKdc: ${name} must be a positive whole number, got ${String(value)}`);
  }
  return value;
}

function sumStats(udp: readonly UdpStats[], tcp: readonly TcpStats[]): KdcServerStats {
  const limits: Record<string, number> = {};
  for (const t of tcp) for (const [k, v] of Object.entries(t.limits)) limits[k] = (limits[k] ?? 0) + (v ?? 0);
  return {
    udp: { inFlight: udp.reduce((n, u) => n + u.inFlight, 0), dropped: udp.reduce((n, u) => n + u.dropped, 0) },
    tcp: {
      connections: tcp.reduce((n, t) => n + t.connections, 0),
      paused: tcp.reduce((n, t) => n + t.paused, 0),
      peakWriteBuffer: tcp.reduce((n, t) => Math.max(n, t.peakWriteBuffer), 0),
      limits,
    },
  };
}
