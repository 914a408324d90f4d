/**
 * KDC addresses as written in krb5.conf `[realms] R = { kdc = … }` (MIT
 * krb5.conf(5)): `host`, `host:port`, `[v6addr]:port`, optionally prefixed
 * with `udp/` or `tcp/` to pin the transport. The default port is 88
 * (RFC 4120 §7.2.3).
 */

import { InvalidArgumentError } from '../core/errors.js';

export type KdcProtocol = 'udp' | 'tcp';

export interface KdcAddress {
  readonly host: string;
  readonly port: number;
  /** Set when the configuration pins one transport (`tcp/host`). */
  readonly protocol?: KdcProtocol;
}

export const KERBEROS_PORT = 88;

export function parseKdcAddress(text: string): KdcAddress {
  let rest = text.trim();
  let protocol: KdcProtocol | undefined;
  const prefix = /^(udp|tcp)\//i.exec(rest);
  if (prefix !== null) {
    protocol = prefix[1]!.toLowerCase() as KdcProtocol;
    rest = rest.slice(prefix[0].length);
  }
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (v6 !== null) {
    host = v6[1]!;
    portText = v6[2];
  } else {
    const m = /^([^:\s/]+)(?::(\d+))?$/.exec(rest);
    if (m === null) throw new InvalidArgumentError(`"${text}" is not a KDC address (host, host:port, [v6]:port, optionally tcp/ or udp/ before)`);
    host = m[1]!;
    portText = m[2];
  }
  const port = portText === undefined ? KERBEROS_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError(`KDC address "${text}" has port ${portText} out of range`);
  return { host, port, ...(protocol !== undefined ? { protocol } : {}) };
}

export function formatKdcAddress(a: KdcAddress, protocol?: KdcProtocol): string {
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  const p = protocol ?? a.protocol;
  return `${p !== undefined ? `${p}/` : ''}${host}:${a.port}`;
}
