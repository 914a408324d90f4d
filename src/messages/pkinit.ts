/**
 * RFC 4556 (PKINIT) values that are Kerberos ASN.1. The CMS and X.509
 * structures around them are not parsed here: src/pki/ handles them through
 * pkijs and @peculiar/x509.
 */

import { ctx, seq } from '../asn1/index.js';
import type { Codec } from '../asn1/index.js';
import { PrincipalName, Realm } from './basic.js';

/** RFC 4556 §3.2.2 KRB5PrincipalName: the value of the id-pkinit-san otherName (1.3.6.1.5.2.2). */
export interface Krb5PrincipalName {
  realm: string;
  principalName: PrincipalName;
}
export const Krb5PrincipalName: Codec<Krb5PrincipalName> = seq({
  realm: ctx(0, Realm),
  principalName: ctx(1, PrincipalName),
}, 'KRB5PrincipalName');
