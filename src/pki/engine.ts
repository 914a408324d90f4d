/**
 * The WebCrypto both PKI libraries run on. Passed explicitly to every call
 * instead of relying on globals set at import time (@peculiar/x509's
 * provider, pkijs' engine), so kerbside never changes process-wide state.
 */

import { webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';

export const nodeCrypto: webcrypto.Crypto = webcrypto;

let engine: pkijs.CryptoEngine | undefined;

/** A pkijs engine over node:crypto's WebCrypto, created on first use. */
export function pkijsEngine(): pkijs.CryptoEngine {
  engine ??= new pkijs.CryptoEngine({ name: 'kerbside-node', crypto: nodeCrypto });
  return engine;
}

export function subtle(): webcrypto.SubtleCrypto {
  return nodeCrypto.subtle;
}

/** A copy as a plain ArrayBuffer (the libraries want BufferSource; some want exactly ArrayBuffer). */
export function ab(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer as ArrayBuffer;
}
