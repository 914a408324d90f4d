/**
 * The realm's certificate authority files (DIR/pkinit): loading the CA for
 * `kerbside ca` and `kerbside smartcard`, the CRL and the kdc.conf lines
 * that turn PKINIT on (docs/pkinit.md).
 */

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { utf8 } from '../core/bytes.js';
import { systemKeyPairs } from '../core/index.js';
import type { RandomSource } from '../core/random.js';
import { writeFileAtomic } from '../files/index.js';
import type { PkinitKdcOptions } from '../kdc/index.js';
import { createCrl, fromPem, fromPemAll, loadRealmCa, softwareSigner, toPem, type RealmCa } from '../pki/index.js';
import { RealmDirectoryError } from './errors.js';
import type { CliIO } from './io.js';
import { REALM_FILES, readRealmSettings, type PkinitSettings } from './kdc-conf.js';

export const PKINIT_DIR = 'pkinit';
export const CA_FILES = Object.freeze({
  caCert: 'ca.pem', caKey: 'ca.key', kdcCert: 'kdc.pem', kdcKey: 'kdc.key', crl: 'crl.pem', revoked: 'revoked.json',
});

export interface Revoked { readonly serial: string; readonly date: number }

export async function loadCa(dir: string, io: CliIO): Promise<{ ca: RealmCa; realm: string; pkinit: string }> {
  const settings = await readRealmSettings(dir);
  const pkinit = join(settings.dir, PKINIT_DIR);
  let certificate: string;
  let key: string;
  try {
    certificate = await readFile(join(pkinit, CA_FILES.caCert), 'utf8');
    key = await readFile(join(pkinit, CA_FILES.caKey), 'utf8');
  } catch {
    throw new RealmDirectoryError(`the realm in ${settings.dir} has no certificate authority`, { hint: `create one with: kerbside ca init --dir ${dir}` });
  }
  const ca = await loadRealmCa({
    realm: settings.realm, certificate, privateKey: key, // loadRealmCa reads PEM itself
    clock: io.clock, random: io.random, keys: systemKeyPairs(),
  });
  return { ca, realm: settings.realm, pkinit };
}

export async function readRevoked(pkinit: string): Promise<Revoked[]> {
  try {
    return JSON.parse(await readFile(join(pkinit, CA_FILES.revoked), 'utf8')) as Revoked[];
  } catch {
    return [];
  }
}

export async function writeCrl(ca: RealmCa, pkinit: string, revoked: readonly Revoked[], io: CliIO): Promise<void> {
  const now = io.clock.now();
  const crl = await createCrl(ca, { revoked, thisUpdate: now, nextUpdate: now + 30 * 86_400_000 });
  await writeFileAtomic(join(pkinit, CA_FILES.crl), utf8(toPem('X509 CRL', crl)), 'CRL', 0o644);
  await writeFileAtomic(join(pkinit, CA_FILES.revoked), utf8(`${JSON.stringify(revoked, null, 2)}\n`), 'revocation list', 0o644);
}

/** Adds the PKINIT relations to the realm's section of kdc.conf (the file realm init wrote). */
export async function enablePkinit(dir: string, realm: string): Promise<void> {
  const file = join(dir, REALM_FILES.config);
  const text = await readFile(file, 'utf8');
  if (/^\s*pkinit_identity\s*=/m.test(text)) return;
  const section = new RegExp(`^(\\s*)${realm.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*=\\s*\\{\\s*$`, 'm');
  const m = section.exec(text);
  const lines = [
    `pkinit_identity = FILE:${PKINIT_DIR}/${CA_FILES.kdcCert},${PKINIT_DIR}/${CA_FILES.kdcKey}`,
    `pkinit_anchors = FILE:${PKINIT_DIR}/${CA_FILES.caCert}`,
    `pkinit_revoke = FILE:${PKINIT_DIR}/${CA_FILES.crl}`,
  ];
  if (m === null) {
    throw new RealmDirectoryError(`${file}: no "${realm} = {" section to add PKINIT to`, { hint: `add to the realm's section:\n  ${lines.join('\n  ')}` });
  }
  const indent = `${m[1] ?? ''}  `;
  const at = m.index + m[0].length;
  await writeFile(file, `${text.slice(0, at)}\n${indent}# PKINIT (docs/pkinit.md), written by kerbside ca init\n${lines.map((l) => indent + l).join('\n')}${text.slice(at)}`);
}


/**
 * The KDC's PKINIT options from kdc.conf (pkinit_identity, pkinit_anchors,
 * pkinit_revoke, …): files are read once, at start; errors name the file.
 */
export async function kdcPkinitOptions(s: PkinitSettings, random: RandomSource): Promise<PkinitKdcOptions> {
  const read = async (path: string, what: string): Promise<string> => {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      throw new RealmDirectoryError(`cannot read the ${what} ${path} named in kdc.conf`, { hint: 'create the realm CA with kerbside ca init, or fix the path', cause: err });
    }
  };
  const certificates = fromPemAll(await read(s.certificate, 'KDC certificate (pkinit_identity)'), 'CERTIFICATE');
  if (certificates.length === 0) throw new RealmDirectoryError(`${s.certificate} holds no certificate`);
  const signer = softwareSigner(certificates[0]!, fromPem(await read(s.key, 'KDC key (pkinit_identity)'), 'PRIVATE KEY'));
  const anchors = (await Promise.all(s.anchors.map((p) => read(p, 'CA certificate (pkinit_anchors)')))).flatMap((t) => fromPemAll(t, 'CERTIFICATE'));
  const crls = (await Promise.all(s.revoke.map((p) => read(p, 'CRL (pkinit_revoke)')))).flatMap((t) => fromPemAll(t, 'X509 CRL'));
  return {
    signer, chain: certificates.slice(1), anchors, crls, random,
    allowUpn: s.allowUpn, allowSmartCardLogonEku: s.allowSmartCardLogonEku, requireFreshness: s.requireFreshness, dhMinBits: s.dhMinBits,
  };
}
