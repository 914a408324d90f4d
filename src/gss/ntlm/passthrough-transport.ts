/**
 * The NTLM pass-through protocol (passthrough.ts) over TCP with the Kerberos
 * framing of RFC 4120 §7.2.2 (a 4-byte big-endian length before each
 * message). The server side is the KDC's own TCP transport (kdc/serve.ts),
 * with its connection limits and timeouts (docs/kdc-transport.md); the
 * client side is the Kerberos client's TCP exchange.
 */

import type { Clock } from '../../core/clock.js';
import { parseKdcAddress, socketTransport } from '../../client/index.js';
import { serveKdc, type KdcServer, type ListenAddress, type ServeOptions } from '../../kdc/index.js';
import { MAX_PASSTHROUGH_MESSAGE, encodePassThroughRefusal, type NtlmPassThroughServer, type PassThroughExchange } from './passthrough.js';

export interface PassThroughListenOptions extends Omit<ServeOptions, 'listen' | 'maxTcpRequest' | 'maxUdpInFlight'> {
  /** TCP addresses (port 0 picks a free one). */
  readonly listen: readonly ListenAddress[];
}

/** Serves pass-through requests over TCP until closed. */
export function serveNtlmPassThrough(server: NtlmPassThroughServer, options: PassThroughListenOptions): Promise<KdcServer> {
  return serveKdc({
    process: (request, peer) => server.handle(request, { address: peer.address }),
    oversizedRequest: (length) => encodePassThroughRefusal(new Uint8Array(16), 'malformed', `a request of ${length} octets exceeds ${MAX_PASSTHROUGH_MESSAGE}`),
  }, {
    ...options,
    listen: options.listen.map((a) => ({ host: a.host, port: a.port, transports: ['tcp'] as const })),
    maxTcpRequest: MAX_PASSTHROUGH_MESSAGE,
  });
}

/** One TCP connection per request to `address` ('host:port' or { host, port }), abandoned after `timeoutMs` (default 10 s). */
export function tcpPassThroughExchange(
  address: string | { readonly host: string; readonly port: number }, options: { readonly clock: Clock; readonly timeoutMs?: number },
): PassThroughExchange {
  const target = typeof address === 'string' ? parseKdcAddress(address) : address;
  const transport = socketTransport();
  const timeoutMs = options.timeoutMs ?? 10_000;
  return async (request) => {
    const abort = new AbortController();
    const timer = options.clock.setTimer(timeoutMs, () => abort.abort(new Error(`no reply within ${timeoutMs} ms`)));
    try {
      return await transport.exchange({ host: target.host, port: target.port }, 'tcp', request, abort.signal);
    } finally {
      timer.cancel();
    }
  };
}
