/**
 * What the transports and the request processor share (RFC 4120 §7.2.1 UDP,
 * §7.2.2 TCP). The processor is sans-IO: bytes in, bytes (or silence) out.
 */

import { isIPv4 } from 'node:net';

export type KdcTransportKind = 'udp' | 'tcp';

/** Who sent a request and how. */
export interface KdcPeer {
  readonly transport: KdcTransportKind;
  /** The sender's IP address (IPv4 dotted or IPv6 text). */
  readonly address: string;
  readonly port: number;
}

/**
 * A transport limit that refused or ended something (docs/kdc-transport.md):
 * - `tcp_per_address`: a connection beyond the per-address (IPv6: per /64) limit was refused;
 * - `tcp_connections`: the listener was full and nothing could be evicted, so a connection was refused;
 * - `tcp_evicted`: the listener was full and its oldest connection without a request under way was closed;
 * - `tcp_request_timeout`: a connection did not deliver a complete request in time (slow or silent client);
 * - `tcp_idle_timeout`: a connection sent nothing between requests for the idle time;
 * - `tcp_write_timeout`: a client did not read its replies for the idle time;
 * - `udp_in_flight`: a datagram arrived while the maximum number of UDP requests were being processed.
 */
export type TransportLimitKind =
  | 'tcp_per_address' | 'tcp_connections' | 'tcp_evicted'
  | 'tcp_request_timeout' | 'tcp_idle_timeout' | 'tcp_write_timeout'
  | 'udp_in_flight';

/** The processor a transport feeds. Never throws. */
export interface KdcRequestHandler {
  /**
   * The reply to `request`. `undefined` means "send nothing": over UDP the
   * datagram is dropped; over TCP the connection is closed once the replies
   * before it are written (as MIT's net-server does).
   */
  process(request: Uint8Array, peer: KdcPeer): Promise<Uint8Array | undefined>;
  /**
   * The reply to a TCP request whose length prefix exceeds what the transport
   * accepts (a KRB_ERR_FIELD_TOOLONG error), sent before the connection is closed.
   */
  oversizedRequest?(length: number, peer: KdcPeer): Uint8Array | undefined;
  /** Told whenever a transport limit refuses or ends something (for the log). Must not throw. */
  transportLimit?(kind: TransportLimitKind, peer: KdcPeer, detail: string): void;
}

/**
 * The key a per-address limit counts under: the IPv4 address (an
 * IPv4-mapped IPv6 address counts as its IPv4 address), or for IPv6 the /64
 * prefix, since one host is usually given a whole /64 and can pick any
 * address in it.
 */
export function addressGroup(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return mapped[1]!;
  if (isIPv4(address) || !address.includes(':')) return address;
  const zoneless = address.split('%')[0]!.toLowerCase();
  const [head = '', tail] = zoneless.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...new Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => Number.parseInt(g === '' ? '0' : g, 16).toString(16)).join(':')}::/64`;
}
