/** PEM armour (RFC 7468) for certificates, CRLs and keys: the one place kerbside writes or reads it. */

import { InvalidArgumentError } from '../core/errors.js';

export type PemLabel = 'CERTIFICATE' | 'X509 CRL' | 'PRIVATE KEY' | 'PUBLIC KEY' | 'CMS' | 'PKCS7';

/** RFC 7468 §2: base64 in 64-column lines between BEGIN/END lines. */
export function toPem(label: PemLabel, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Every block with `label` in `text`, in order (a bundle of CA certificates has several). */
export function fromPemAll(text: string, label: PemLabel): Uint8Array[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  const out: Uint8Array[] = [];
  for (const m of text.matchAll(re)) {
    const body = (m[1] ?? '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) {
      throw new InvalidArgumentError(`the PEM block "${label}" is not valid base64`, {
        hint: 'the file may be truncated or edited; export it again',
      });
    }
    out.push(new Uint8Array(Buffer.from(body, 'base64')));
  }
  return out;
}

/** The first block with `label`; throws when there is none. */
export function fromPem(text: string, label: PemLabel): Uint8Array {
  const first = fromPemAll(text, label)[0];
  if (first === undefined) {
    throw new InvalidArgumentError(`no "-----BEGIN ${label}-----" block found`, {
      hint: 'pass a PEM file of the right kind, or the DER bytes directly',
    });
  }
  return first;
}
