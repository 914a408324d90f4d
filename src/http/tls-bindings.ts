/**
 * RFC 5929 §4 `tls-server-end-point` channel bindings of a TLS connection's
 * server certificate, as node:tls hands it over (DER in `raw`), for both the
 * server adapters (getCertificate) and negotiateFetch (getPeerCertificate).
 */

import { tlsServerEndPoint, type ChannelBindings } from '../gss/index.js';

/** The bindings of a DER certificate; none without one, or when RFC 5929 defines no hash for its signature algorithm. */
export function certificateBindings(certificate: { raw?: Buffer } | null | undefined): ChannelBindings | undefined {
  const der = certificate?.raw;
  if (der === undefined || der.length === 0) return undefined;
  try {
    return tlsServerEndPoint(new Uint8Array(der.buffer, der.byteOffset, der.length));
  } catch {
    // No RFC 5929 hash for this certificate: no bindings (a 'require' acceptor then refuses, with its own cause).
    return undefined;
  }
}
