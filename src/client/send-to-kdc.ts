/**
 * Sending one request to a realm's KDCs (RFC 4120 §7.2.1–7.2.3; MIT
 * krb5.conf(5) `kdc`, `udp_preference_limit`): KDCs are tried in configured
 * order; a request larger than `udp_preference_limit` goes over TCP first,
 * otherwise UDP first; a UDP reply KRB_ERR_RESPONSE_TOO_BIG (52) is retried
 * over TCP at the same KDC; each try has a timeout measured on the injected
 * clock. The sockets are behind `KdcTransport` (socket-transport.ts for the
 * network, an in-process function in tests).
 */

import type { Clock } from '../core/clock.js';
import { KerbsideError } from '../core/errors.js';
import { KdcUnreachableError, NoKdcConfiguredError } from './errors.js';
import { formatKdcAddress, type KdcAddress, type KdcProtocol } from './kdc-address.js';

/** One request, one reply, over one protocol to one KDC. Rejects on failure or when `signal` aborts. */
export interface KdcTransport {
  exchange(address: KdcAddress, protocol: KdcProtocol, request: Uint8Array, signal: AbortSignal): Promise<Uint8Array>;
}

/** What the protocol layer says about a reply before the exchange uses it. */
export type ReplyClass = 'ok' | 'response_too_big' | 'try_next_kdc';

export interface SendToKdcOptions {
  readonly realm: string;
  readonly kdcs: readonly KdcAddress[];
  readonly transport: KdcTransport;
  readonly clock: Clock;
  /** Requests longer than this go over TCP first (MIT default 1465; 1 means always TCP). */
  readonly udpPreferenceLimit?: number;
  /** Per-try timeout in ms of clock time. */
  readonly timeout?: number;
  /** Classifies a reply (KRB_ERR_RESPONSE_TOO_BIG, KDC_ERR_SVC_UNAVAILABLE); defaults to 'ok'. */
  readonly classify?: (reply: Uint8Array) => ReplyClass;
  readonly signal?: AbortSignal;
}

export interface KdcReply {
  readonly reply: Uint8Array;
  readonly address: KdcAddress;
  readonly protocol: KdcProtocol;
}

export const DEFAULT_UDP_PREFERENCE_LIMIT = 1465;
export const DEFAULT_KDC_TIMEOUT = 3_000;

/** A try that did not finish within its timeout. */
export class KdcTimeoutError extends KerbsideError {
  static override readonly code = 'ERR_KDC_TIMEOUT';
}

export async function sendToKdc(request: Uint8Array, options: SendToKdcOptions): Promise<KdcReply> {
  const { realm, kdcs, transport, clock } = options;
  if (kdcs.length === 0) {
    throw new NoKdcConfiguredError(`no KDC is configured for realm ${realm}`, {
      hint: `add "kdc = host:port" to [realms] ${realm} in krb5.conf`,
      detail: { realm },
    });
  }
  const limit = options.udpPreferenceLimit ?? DEFAULT_UDP_PREFERENCE_LIMIT;
  const timeout = options.timeout ?? DEFAULT_KDC_TIMEOUT;
  const classify = options.classify ?? (() => 'ok' as const);
  const preferred: KdcProtocol[] = request.length > limit ? ['tcp', 'udp'] : ['udp', 'tcp'];
  const tried: string[] = [];

  for (const address of kdcs) {
    const order: KdcProtocol[] = address.protocol !== undefined ? [address.protocol] : [...preferred];
    for (let i = 0; i < order.length; i++) {
      const protocol = order[i]!;
      const label = formatKdcAddress({ host: address.host, port: address.port }, protocol);
      let reply: Uint8Array;
      try {
        reply = await tryOnce(transport, address, protocol, request, timeout, clock, options.signal);
      } catch (err) {
        if (options.signal?.aborted === true) throw err;
        tried.push(`${label} (${describeFailure(err, timeout)})`);
        continue;
      }
      const kind = classify(reply);
      if (kind === 'ok') return { reply, address, protocol };
      if (kind === 'response_too_big' && protocol === 'udp') {
        tried.push(`${label} (reply too big for UDP)`);
        // The KDC asks for TCP: try it next at this KDC unless it already failed.
        if (!order.slice(0, i).includes('tcp')) order.splice(i + 1, order.length, 'tcp');
        continue;
      }
      tried.push(`${label} (${kind === 'response_too_big' ? 'reply too big' : 'KDC unavailable'})`);
      break;
    }
  }
  throw new KdcUnreachableError(`cannot reach any KDC for realm ${realm} (tried ${tried.join(', ')})`, {
    hint: `check that a KDC for ${realm} is running and reachable from this host, and the "kdc" lines of [realms] ${realm} in krb5.conf`,
    detail: { realm, tried },
  });
}

async function tryOnce(
  transport: KdcTransport, address: KdcAddress, protocol: KdcProtocol, request: Uint8Array,
  timeout: number, clock: Clock, outer: AbortSignal | undefined,
): Promise<Uint8Array> {
  const controller = new AbortController();
  const onOuter = (): void => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onOuter, { once: true });
  let timedOut = false;
  const timer = clock.setTimer(timeout, () => {
    timedOut = true;
    controller.abort(new KdcTimeoutError(`no reply within ${timeout} ms`));
  });
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
      transport.exchange(address, protocol, request, controller.signal).then(resolve, reject);
    });
  } catch (err) {
    throw timedOut ? new KdcTimeoutError(`no reply within ${timeout} ms`, { cause: err }) : err;
  } finally {
    timer.cancel();
    outer?.removeEventListener('abort', onOuter);
    controller.abort();
  }
}

function describeFailure(err: unknown, timeout: number): string {
  if (err instanceof KdcTimeoutError) return `no reply within ${Math.round(timeout / 100) / 10} s`;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code !== '') return code;
  return err instanceof Error ? err.message : String(err);
}
