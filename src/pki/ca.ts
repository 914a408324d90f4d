/**
 * The realm CA: a self-signed RSA (SHA-256) authority that issues the KDC's
 * certificate and the users' PKINIT certificates (RFC 4556 §3.2.2, §3.2.4),
 * and their CRL. Serial numbers come from the injected RandomSource, validity
 * from the injected Clock, key pairs from the injected KeyPairFactory.
 */

import type { webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';
import * as asn1js from 'asn1js';
import type { Clock } from '../core/clock.js';
import type { RandomSource } from '../core/random.js';
import type { KeyPairFactory } from '../core/keypairs.js';
import { InvalidArgumentError } from '../core/errors.js';
import { fromHex, toHex, utf8 } from '../core/bytes.js';
import { Krb5PrincipalName, principalNameFromString } from '../messages/index.js';
import { Oid } from './oids.js';
import { ab, subtle } from './engine.js';
import { fromPem, toPem } from './pem.js';
import { dnToString as dnText } from './x509-util.js';

type CryptoKey = webcrypto.CryptoKey;
const DAY = 86_400_000;
const RSA_SHA256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

/** KeyUsage bits (RFC 5280 §4.2.1.3), numbered from the most significant bit of the first octet. */
const KU = Object.freeze({ digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 });

export interface RealmCaOptions {
  readonly realm: string;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly keys: KeyPairFactory;
  /** Distinguished name, RFC 4514 text (default `CN=<realm> Kerberos CA,O=<realm>`). */
  readonly subject?: string;
  /** Default 3650. */
  readonly validityDays?: number;
  /** RSA modulus length, default 2048. */
  readonly rsaBits?: number;
}

export interface PemPair {
  readonly certificate: string;
  readonly key: string;
}

export interface RealmCa {
  readonly realm: string;
  readonly subject: string;
  /** DER of the self-signed CA certificate. */
  readonly certificate: Uint8Array;
  readonly privateKey: CryptoKey;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly keys: KeyPairFactory;
  readonly rsaBits: number;
  /** Certificate and PKCS#8 key in PEM (the key is secret: write it with mode 0600). */
  pem(): PemPair;
}

export interface IssuedCertificate {
  readonly certificate: Uint8Array;
  /** Hex serial number, as `openssl x509 -serial` prints it (lower case). */
  readonly serial: string;
  /** Present when the CA generated the key pair (none given). */
  readonly privateKey?: CryptoKey;
  /** Certificate PEM, and the PKCS#8 key PEM when the CA generated the key. */
  pem(): { certificate: string; key?: string };
}

/** Creates the CA key pair and its self-signed certificate. */
export async function createRealmCa(options: RealmCaOptions): Promise<RealmCa> {
  checkRealm(options.realm);
  const bits = options.rsaBits ?? 2048;
  const pair = await options.keys.generateRsa(bits);
  const subject = options.subject ?? `CN=${options.realm} Kerberos CA,O=${options.realm}`;
  const now = options.clock.now();
  const name = parseDn(subject);
  const cert = await buildCertificate({
    serial: serialBytes(options.random),
    issuer: name,
    subject: name,
    notBefore: now,
    notAfter: now + days(options.validityDays, 3650),
    spki: await spkiOf(pair.publicKey),
    signingKey: pair.privateKey,
    extensions: [
      extension(Oid.basicConstraints, true, new pkijs.BasicConstraints({ cA: true }).toSchema()),
      extension(Oid.keyUsage, true, keyUsage([KU.keyCertSign, KU.cRLSign])),
    ],
  });
  const der = cert;
  const pkcs8 = new Uint8Array(await subtle().exportKey('pkcs8', pair.privateKey));
  return Object.freeze({
    realm: options.realm,
    subject,
    certificate: der,
    privateKey: pair.privateKey,
    clock: options.clock,
    random: options.random,
    keys: options.keys,
    rsaBits: bits,
    pem: () => ({ certificate: toPem('CERTIFICATE', der), key: toPem('PRIVATE KEY', pkcs8) }),
  });
}

export interface LoadRealmCaOptions extends Omit<RealmCaOptions, 'subject' | 'validityDays'> {
  /** The CA certificate, DER or PEM. */
  readonly certificate: Uint8Array | string;
  /** Its RSA private key, PKCS#8 DER or PEM ("PRIVATE KEY"). */
  readonly privateKey: Uint8Array | string;
}

/** A realm CA from files written earlier by `pem()` (or by openssl, RSA only). */
export async function loadRealmCa(options: LoadRealmCaOptions): Promise<RealmCa> {
  checkRealm(options.realm);
  const der = typeof options.certificate === 'string' ? fromPem(options.certificate, 'CERTIFICATE') : options.certificate.slice();
  const pkcs8 = typeof options.privateKey === 'string' ? fromPem(options.privateKey, 'PRIVATE KEY') : options.privateKey.slice();
  let privateKey: CryptoKey;
  try {
    privateKey = await subtle().importKey('pkcs8', pkcs8, RSA_SHA256, true, ['sign']);
  } catch (cause) {
    throw new InvalidArgumentError('the CA private key is not an RSA PKCS#8 key', {
      hint: 'convert it with "openssl pkcs8 -topk8 -nocrypt"', cause,
    });
  }
  const cert = pkijs.Certificate.fromBER(ab(der));
  const spkiFromKey = new Uint8Array(await subtle().exportKey('spki', await publicFromPrivate(privateKey)));
  const spkiFromCert = new Uint8Array(cert.subjectPublicKeyInfo.toSchema().toBER(false));
  if (toHex(spkiFromKey) !== toHex(spkiFromCert)) {
    throw new InvalidArgumentError('the CA private key does not belong to the CA certificate', {
      hint: 'pass the key file written together with this certificate',
    });
  }
  const subject = dnText(cert.subject);
  return Object.freeze({
    realm: options.realm,
    subject,
    certificate: der,
    privateKey,
    clock: options.clock,
    random: options.random,
    keys: options.keys,
    rsaBits: options.rsaBits ?? 2048,
    pem: () => ({ certificate: toPem('CERTIFICATE', der), key: toPem('PRIVATE KEY', pkcs8) }),
  });
}

/** The public half of an extractable RSA private key (through its JWK: n and e). */
async function publicFromPrivate(key: CryptoKey): Promise<CryptoKey> {
  const jwk = await subtle().exportKey('jwk', key);
  return subtle().importKey('jwk', { kty: 'RSA', n: jwk.n!, e: jwk.e!, ext: true }, RSA_SHA256, true, ['verify']);
}

export interface KdcCertificateOptions {
  readonly realm?: string;
  /** SPKI DER of the KDC's key; a new RSA key pair is made when absent. */
  readonly publicKey?: Uint8Array;
  /** dNSName SANs (MIT clients match them against pkinit_kdc_hostname). */
  readonly hostnames?: readonly string[];
  readonly validityDays?: number;
  readonly notBefore?: number;
  readonly subject?: string;
}

/**
 * RFC 4556 §3.2.4: the KDC certificate names krbtgt/REALM@REALM in an
 * id-pkinit-san otherName and carries EKU id-pkinit-KPKdc. serverAuth is
 * added for tools that look for it; PKINIT ignores it.
 */
export async function issueKdcCertificate(ca: RealmCa, options: KdcCertificateOptions = {}): Promise<IssuedCertificate> {
  const realm = options.realm ?? ca.realm;
  checkRealm(realm);
  // checkRealm leaves no character that MIT quoting would escape.
  const names: asn1js.BaseBlock[] = [pkinitSan(`krbtgt/${realm}@${realm}`)];
  for (const host of options.hostnames ?? []) names.push(dnsName(host));
  return issue(ca, {
    subject: options.subject ?? `CN=krbtgt/${realm},O=${realm}`,
    sans: names,
    ekus: [Oid.pkinitKpKdc, Oid.serverAuth],
    keyUsage: [KU.digitalSignature, KU.keyEncipherment],
    ...(options.publicKey === undefined ? {} : { publicKey: options.publicKey }),
    ...(options.validityDays === undefined ? {} : { validityDays: options.validityDays }),
    ...(options.notBefore === undefined ? {} : { notBefore: options.notBefore }),
  });
}

export interface UserCertificateOptions {
  /** 'alice@REALM' (MIT quoting rules; the realm is required). */
  readonly principal: string;
  /** SPKI DER, e.g. of a key generated on a smart card; a new RSA key pair is made when absent. */
  readonly publicKey?: Uint8Array;
  /** Adds the Microsoft UPN otherName SAN ('alice@example.com'). */
  readonly upn?: string;
  /** Adds the Microsoft smart-card logon EKU next to id-pkinit-KPClientAuth. */
  readonly smartCardLogonEku?: boolean;
  readonly validityDays?: number;
  /** Milliseconds since the epoch; default the CA clock's now. */
  readonly notBefore?: number;
  readonly subject?: string;
  /** Replaces the EKUs entirely (tests of the key-purpose check). */
  readonly ekus?: readonly string[];
}

/** RFC 4556 §3.2.2: a client certificate with id-pkinit-san and EKU id-pkinit-KPClientAuth. */
export async function issueUserCertificate(ca: RealmCa, options: UserCertificateOptions): Promise<IssuedCertificate> {
  const parsed = principalNameFromString(options.principal);
  if (parsed.realm === undefined) {
    throw new InvalidArgumentError(`principal "${options.principal}" has no realm`, {
      hint: 'write the principal as name@REALM', detail: { principal: options.principal },
    });
  }
  const names: asn1js.BaseBlock[] = [pkinitSan(options.principal)];
  if (options.upn !== undefined) names.push(upnSan(options.upn));
  const ekus = options.ekus ?? [Oid.pkinitKpClientAuth, ...(options.smartCardLogonEku === true ? [Oid.msSmartCardLogon] : [])];
  return issue(ca, {
    subject: options.subject ?? `CN=${parsed.name.nameString.join('/')},O=${parsed.realm}`,
    sans: names,
    ekus,
    keyUsage: [KU.digitalSignature],
    ...(options.publicKey === undefined ? {} : { publicKey: options.publicKey }),
    ...(options.validityDays === undefined ? {} : { validityDays: options.validityDays }),
    ...(options.notBefore === undefined ? {} : { notBefore: options.notBefore }),
  });
}

export interface RevokedEntry {
  /** Hex serial (as in IssuedCertificate.serial). */
  readonly serial: string;
  /** Revocation time, ms since the epoch. */
  readonly date: number;
}

export interface CrlOptions {
  readonly revoked: readonly RevokedEntry[];
  readonly thisUpdate: number;
  readonly nextUpdate: number;
}

/** RFC 5280 §5: a v2 CRL signed by the CA. */
export async function createCrl(ca: RealmCa, options: CrlOptions): Promise<Uint8Array> {
  const caCert = pkijs.Certificate.fromBER(ab(ca.certificate));
  const crl = new pkijs.CertificateRevocationList({
    version: 1,
    issuer: caCert.subject,
    thisUpdate: pkixTime(options.thisUpdate),
    nextUpdate: pkixTime(options.nextUpdate),
  });
  if (options.revoked.length > 0) {
    crl.revokedCertificates = options.revoked.map((r) => new pkijs.RevokedCertificate({
      userCertificate: new asn1js.Integer({ valueHex: ab(fromHex(r.serial)) }),
      revocationDate: pkixTime(r.date),
    }));
  }
  await signTbs(crl, ca.privateKey);
  return new Uint8Array(crl.toSchema(false).toBER(false));
}

// ---------------------------------------------------------------- internals

interface IssueSpec {
  readonly subject: string;
  readonly sans: readonly asn1js.BaseBlock[];
  readonly ekus: readonly string[];
  readonly keyUsage: readonly number[];
  readonly publicKey?: Uint8Array;
  readonly validityDays?: number;
  readonly notBefore?: number;
}

async function issue(ca: RealmCa, spec: IssueSpec): Promise<IssuedCertificate> {
  let spki: pkijs.PublicKeyInfo;
  let privateKey: CryptoKey | undefined;
  if (spec.publicKey === undefined) {
    const pair = await ca.keys.generateRsa(ca.rsaBits);
    spki = await spkiOf(pair.publicKey);
    privateKey = pair.privateKey;
  } else {
    spki = pkijs.PublicKeyInfo.fromBER(ab(spec.publicKey));
  }
  const caCert = pkijs.Certificate.fromBER(ab(ca.certificate));
  const notBefore = spec.notBefore ?? ca.clock.now();
  const serial = serialBytes(ca.random);
  const der = await buildCertificate({
    serial,
    issuer: caCert.subject,
    subject: parseDn(spec.subject),
    notBefore,
    notAfter: notBefore + days(spec.validityDays, 365),
    spki,
    signingKey: ca.privateKey,
    extensions: [
      extension(Oid.basicConstraints, true, new pkijs.BasicConstraints({ cA: false }).toSchema()),
      extension(Oid.keyUsage, true, keyUsage(spec.keyUsage)),
      extension(Oid.extKeyUsage, false, new pkijs.ExtKeyUsage({ keyPurposes: [...spec.ekus] }).toSchema()),
      // RFC 5280 §4.2.1.6: non-critical, the subject DN is not empty.
      extension(Oid.subjectAltName, false, new asn1js.Sequence({ value: [...spec.sans] })),
      extension('2.5.29.14', false, new asn1js.OctetString({ valueHex: await keyId(spki) })),
      extension('2.5.29.35', false, new pkijs.AuthorityKeyIdentifier({
        keyIdentifier: new asn1js.OctetString({ valueHex: await keyId(caCert.subjectPublicKeyInfo) }),
      }).toSchema()),
    ],
  });
  const pkcs8 = privateKey === undefined ? undefined : new Uint8Array(await subtle().exportKey('pkcs8', privateKey));
  return Object.freeze({
    certificate: der,
    serial: toHex(serial),
    ...(privateKey === undefined ? {} : { privateKey }),
    pem: () => ({
      certificate: toPem('CERTIFICATE', der),
      ...(pkcs8 === undefined ? {} : { key: toPem('PRIVATE KEY', pkcs8) }),
    }),
  });
}

interface CertificateSpec {
  readonly serial: Uint8Array;
  readonly issuer: pkijs.RelativeDistinguishedNames;
  readonly subject: pkijs.RelativeDistinguishedNames;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly spki: pkijs.PublicKeyInfo;
  readonly signingKey: CryptoKey;
  readonly extensions: pkijs.Extension[];
}

/** An X.509 v3 certificate signed sha256WithRSAEncryption by `signingKey`. */
async function buildCertificate(spec: CertificateSpec): Promise<Uint8Array> {
  const cert = new pkijs.Certificate({
    version: 2,
    serialNumber: new asn1js.Integer({ valueHex: ab(spec.serial) }),
    issuer: spec.issuer,
    subject: spec.subject,
    notBefore: pkixTime(spec.notBefore),
    notAfter: pkixTime(spec.notAfter),
    subjectPublicKeyInfo: spec.spki,
    extensions: spec.extensions,
  });
  await signTbs(cert, spec.signingKey);
  return new Uint8Array(cert.toSchema(false).toBER(false));
}

interface Signable {
  signature: pkijs.AlgorithmIdentifier;
  signatureAlgorithm: pkijs.AlgorithmIdentifier;
  signatureValue: asn1js.BitString;
  tbsView: Uint8Array;
}

/**
 * Signs a certificate or CRL ourselves rather than with pkijs' sign(), which
 * leaves the sha256WithRSAEncryption parameters absent; RFC 4055 §5 says they
 * MUST be NULL, and that is what openssl and MIT's tooling write.
 */
async function signTbs(obj: pkijs.Certificate | pkijs.CertificateRevocationList, key: CryptoKey): Promise<void> {
  const target = obj as unknown as Signable & { encodeTBS(): asn1js.Sequence };
  const alg = () => new pkijs.AlgorithmIdentifier({ algorithmId: Oid.sha256WithRsa, algorithmParams: new asn1js.Null() });
  target.signature = alg();
  target.signatureAlgorithm = alg();
  const tbs = new Uint8Array(target.encodeTBS().toBER(false));
  target.tbsView = tbs;
  const sig = await subtle().sign({ name: 'RSASSA-PKCS1-v1_5' }, key, tbs);
  target.signatureValue = new asn1js.BitString({ valueHex: sig });
}

function extension(extnID: string, critical: boolean, value: asn1js.BaseBlock): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });
}

function keyUsage(bits: readonly number[]): asn1js.BitString {
  const highest = Math.max(...bits);
  const bytes = new Uint8Array((highest >> 3) + 1);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  // DER (X.690 §11.2.2): no trailing zero bits, so the unused count stops at the last set bit.
  return new asn1js.BitString({ valueHex: ab(bytes), unusedBits: 7 - (highest & 7) });
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits (an identifier, not a signature). */
async function keyId(spki: pkijs.PublicKeyInfo): Promise<ArrayBuffer> {
  return subtle().digest('SHA-1', spki.subjectPublicKey.valueBlock.valueHexView);
}

async function spkiOf(key: CryptoKey): Promise<pkijs.PublicKeyInfo> {
  return pkijs.PublicKeyInfo.fromBER(await subtle().exportKey('spki', key));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function pkixTime(ms: number): pkijs.Time {
  const value = new Date(ms);
  return new pkijs.Time({ type: value.getUTCFullYear() < 2050 ? 0 : 1, value });
}

const DN_TYPES: Readonly<Record<string, string>> = Object.freeze({
  CN: '2.5.4.3', O: '2.5.4.10', OU: '2.5.4.11', C: '2.5.4.6', L: '2.5.4.7', ST: '2.5.4.8', DC: '0.9.2342.19200300.100.1.25',
});

/**
 * 'CN=x,O=y' (RFC 4514 order, most specific first; no escapes: the names
 * kerbside makes never need them). DER lists RDNs the other way round, one
 * attribute per RDN (pkijs would put them all in one multi-valued RDN).
 */
function parseDn(text: string): pkijs.RelativeDistinguishedNames {
  const rdns = text.split(',').map((part) => {
    const eq = part.indexOf('=');
    const type = DN_TYPES[part.slice(0, eq).trim().toUpperCase()];
    const value = part.slice(eq + 1).trim();
    if (eq < 0 || type === undefined || value.length === 0) {
      throw new InvalidArgumentError(`cannot use "${text}" as a distinguished name`, {
        hint: 'write it as CN=…,O=… using CN, O, OU, C, L, ST or DC', detail: { subject: text },
      });
    }
    const str = type === '2.5.4.6' ? new asn1js.PrintableString({ value })
      : type === DN_TYPES.DC ? new asn1js.IA5String({ value }) : new asn1js.Utf8String({ value });
    return new asn1js.Set({ value: [new pkijs.AttributeTypeAndValue({ type, value: str }).toSchema()] });
  });
  return pkijs.RelativeDistinguishedNames.fromBER(new asn1js.Sequence({ value: rdns.reverse() }).toBER(false));
}

/** GeneralName otherName: [0] IMPLICIT OtherName { type-id, [0] EXPLICIT value } (RFC 5280 §4.2.1.6). */
function otherName(typeId: string, valueDer: Uint8Array): asn1js.BaseBlock {
  return new asn1js.Constructed({
    idBlock: { tagClass: 3, tagNumber: 0 },
    value: [
      new asn1js.ObjectIdentifier({ value: typeId }),
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [parseOne(valueDer)] }),
    ],
  });
}

/** One complete element; the encodings we put in are our own DER, so re-encoding keeps them byte for byte (tested). */
function parseOne(der: Uint8Array): asn1js.AsnType {
  const parsed = asn1js.fromBER(ab(der));
  if (parsed.offset !== der.length || parsed.result.error !== '') throw new InvalidArgumentError('internal: value is not one DER element');
  return parsed.result;
}

/** RFC 4556 §3.2.2: id-pkinit-san whose value is the DER of KRB5PrincipalName (our own strict codec). */
function pkinitSan(principal: string): asn1js.BaseBlock {
  const parsed = principalNameFromString(principal);
  const value = Krb5PrincipalName.encode({ realm: parsed.realm!, principalName: parsed.name });
  return otherName(Oid.pkinitSan, value);
}

function upnSan(upn: string): asn1js.BaseBlock {
  return otherName(Oid.msUpn, new Uint8Array(new asn1js.Utf8String({ value: upn }).toBER(false)));
}

/** dNSName [2] IMPLICIT IA5String. */
function dnsName(host: string): asn1js.BaseBlock {
  if (!/^[A-Za-z0-9*]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host)) {
    throw new InvalidArgumentError(`"${host}" is not a DNS host name`, { detail: { hostname: host } });
  }
  return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 }, valueHex: ab(utf8(host)) });
}

/** RFC 5280 §4.1.2.2: positive, at most 20 octets; 16 random octets with the top bit clear and the next set (no leading zero). */
function serialBytes(random: RandomSource): Uint8Array {
  const bytes = random.bytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes;
}

function days(value: number | undefined, fallback: number): number {
  const d = value ?? fallback;
  if (!Number.isFinite(d) || d <= 0) throw new InvalidArgumentError(`validityDays must be positive, got ${d}`);
  return d * DAY;
}

function checkRealm(realm: string): void {
  if (realm.length === 0 || /[,=+<>#;\\"/@\n]/.test(realm)) {
    throw new InvalidArgumentError(`realm "${realm}" cannot be used in a certificate name`, {
      hint: 'realms are usually upper-case DNS names such as EXAMPLE.COM', detail: { realm },
    });
  }
}
