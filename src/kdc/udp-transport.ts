/**
 * RFC 4120 §7.2.1: one request per datagram, one reply per request. Replies
 * too large for UDP are turned into KRB_ERR_RESPONSE_TOO_BIG by the processor
 * (it knows the peer came over UDP), so clients retry over TCP.
 *
 * At most `maxInFlight` datagrams are processed at once; one arriving beyond
 * that is dropped and counted, as the network drops datagrams under load, so
 * a flood cannot queue unbounded work and memory behind slow requests
 * (a client retransmits; docs/kdc-transport.md).
 */

import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import type { KdcPeer, KdcRequestHandler } from './transport.js';

export interface UdpOptions {
  /** Datagrams processed at once; more are dropped. */
  readonly maxInFlight: number;
}

export interface UdpStats {
  /** Datagrams being processed now. */
  readonly inFlight: number;
  /** Datagrams dropped because `maxInFlight` were being processed. */
  readonly dropped: number;
}

export interface UdpListener {
  readonly host: string;
  readonly port: number;
  stats(): UdpStats;
  close(): Promise<void>;
}

/**
 * Replies go to the address a datagram came from, an IP literal: answering
 * at once spares dns.lookup's deferred callback on every reply. Anything else
 * (a host name given to bind) is resolved as usual.
 */
const literalAddress: NonNullable<SocketOptions['lookup']> = (address, options, callback) => {
  const family = isIP(address);
  if (family === 0) dnsLookup(address, options, callback);
  else callback(null, address, family);
};

export async function listenUdp(handler: KdcRequestHandler, host: string, port: number, options: UdpOptions): Promise<UdpListener> {
  const socket: Socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', ipv6Only: isIPv6(host), lookup: literalAddress });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => { socket.close(); reject(err); };
    socket.once('error', onError);
    socket.bind(port, host, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  // Errors on a bound UDP socket (e.g. ICMP unreachable reported on send) must not stop the KDC.
  socket.on('error', () => {});
  let inFlight = 0;
  let dropped = 0;
  const done = (): void => { inFlight--; };
  socket.on('message', (msg, rinfo) => {
    const peer: KdcPeer = { transport: 'udp', address: rinfo.address, port: rinfo.port };
    if (inFlight >= options.maxInFlight) {
      dropped++;
      try {
        handler.transportLimit?.('udp_in_flight', peer, `${inFlight} UDP requests are being processed (limit ${options.maxInFlight}); datagram dropped`);
      } catch {
        // Reporting must never change what the transport does.
      }
      return;
    }
    inFlight++;
    const request = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
    handler.process(request, peer).then((reply) => {
      done();
      // No callback: a send error goes to the 'error' listener above, and none is allocated per reply.
      if (reply !== undefined) socket.send(reply, rinfo.port, rinfo.address);
    }, done /* the processor never throws; a bug there must not stop the socket */);
  });
  let closed: Promise<void> | undefined;
  return {
    host,
    port: socket.address().port,
    stats: () => ({ inFlight, dropped }),
    close() {
      closed ??= new Promise<void>((resolve) => { socket.close(() => resolve()); });
      return closed;
    },
  };
}
