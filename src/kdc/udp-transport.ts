/**
 * RFC 4120 §7.2.1: one request per datagram, one reply per request. Replies
 * too large for UDP are turned into KRB_ERR_RESPONSE_TOO_BIG by the processor
 * (it knows the peer came over UDP), so clients retry over TCP.
 */

import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import type { KdcRequestHandler } from './transport.js';

export interface UdpListener {
  readonly host: string;
  readonly port: number;
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

export async function listenUdp(handler: KdcRequestHandler, host: string, port: number): Promise<UdpListener> {
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
  socket.on('message', (msg, rinfo) => {
    const request = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
    handler.process(request, { transport: 'udp', address: rinfo.address, port: rinfo.port }).then((reply) => {
      // No callback: a send error goes to the 'error' listener above, and none is allocated per reply.
      if (reply !== undefined) socket.send(reply, rinfo.port, rinfo.address);
    }, () => { /* the processor never throws; a bug there must not stop the socket */ });
  });
  let closed: Promise<void> | undefined;
  return {
    host,
    port: socket.address().port,
    close() {
      closed ??= new Promise<void>((resolve) => { socket.close(() => resolve()); });
      return closed;
    },
  };
}
