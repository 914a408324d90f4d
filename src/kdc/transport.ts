/**
 * What the transports and the request processor share (RFC 4120 §7.2.1 UDP,
 * §7.2.2 TCP). The processor is sans-IO: bytes in, bytes (or silence) out.
 */

export type KdcTransportKind = 'udp' | 'tcp';

/** Who sent a request and how. */
export interface KdcPeer {
  readonly transport: KdcTransportKind;
  /** The sender's IP address (IPv4 dotted or IPv6 text). */
  readonly address: string;
  readonly port: number;
}

/** The processor a transport feeds. Never throws; `undefined` means "send nothing". */
export interface KdcRequestHandler {
  process(request: Uint8Array, peer: KdcPeer): Promise<Uint8Array | undefined>;
  /**
   * The reply to a TCP request whose length prefix exceeds what the transport
   * accepts (a KRB_ERR_FIELD_TOOLONG error), sent before the connection is closed.
   */
  oversizedRequest?(length: number, peer: KdcPeer): Uint8Array | undefined;
}
