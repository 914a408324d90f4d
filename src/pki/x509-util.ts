/** Small readers over pkijs certificates shared by validate.ts and cms.ts. */

import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toHex } from '../core/bytes.js';
import { CertificateInvalidError } from './errors.js';
import type { CertificateIdentity } from './errors.js';
import { ab } from './engine.js';

const SHORT: Readonly<Record<string, string>> = Object.freeze({
  '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST',
  '0.9.2342.19200300.100.1.25': 'DC', '1.2.840.113549.1.9.1': 'emailAddress',
});

/** RFC 4514-style text, most specific RDN first ('CN=alice,O=EXAMPLE.COM'). */
export function dnToString(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues.map((tv) => {
    const v = tv.value as { valueBlock?: { value?: unknown } };
    const text = typeof v.valueBlock?.value === 'string' ? v.valueBlock.value : '#' + toHex(new Uint8Array(tv.value.toBER(false)));
    return `${SHORT[tv.type] ?? tv.type}=${text}`;
  }).reverse().join(',');
}

/** Strict: exactly one DER element filling `der`. */
export function parseCertificate(der: Uint8Array, role: string): pkijs.Certificate {
  const parsed = asn1js.fromBER(ab(der));
  if (parsed.offset === -1 || parsed.offset !== der.length) {
    throw new CertificateInvalidError(`the ${role} certificate is not one DER element`, {
      hint: 'pass the DER bytes of an X.509 certificate (convert PEM with fromPem)',
    });
  }
  try {
    return new pkijs.Certificate({ schema: parsed.result });
  } catch (cause) {
    throw new CertificateInvalidError(`the ${role} certificate is not a well-formed X.509 certificate`, {
      hint: 'the file may be damaged or of another kind (a CSR, a key, a CMS message)', cause,
    });
  }
}

export function serialOf(cert: pkijs.Certificate): string {
  return toHex(cert.serialNumber.valueBlock.valueHexView);
}

export function identityOf(cert: pkijs.Certificate): CertificateIdentity {
  return { subject: dnToString(cert.subject), issuer: dnToString(cert.issuer), serial: serialOf(cert) };
}

/** Subject, issuer and serial of a DER certificate, as every pki error names them. */
export function certificateIdentity(der: Uint8Array): CertificateIdentity {
  return identityOf(parseCertificate(der, 'named'));
}

export function certificateDer(cert: pkijs.Certificate): Uint8Array {
  return new Uint8Array(cert.toSchema(false).toBER(false));
}

export function spkiDer(cert: pkijs.Certificate): Uint8Array {
  return new Uint8Array(cert.subjectPublicKeyInfo.toSchema().toBER(false));
}

export function extensionOf(cert: pkijs.Certificate, oid: string): pkijs.Extension | undefined {
  return (cert.extensions ?? []).find((e) => e.extnID === oid);
}

export function sameName(a: pkijs.RelativeDistinguishedNames, b: pkijs.RelativeDistinguishedNames): boolean {
  return a.isEqual(b);
}
