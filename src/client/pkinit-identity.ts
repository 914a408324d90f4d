/**
 * PKINIT identities and anchors named as MIT does (krb5.conf(5) "PKINIT
 * options", kinit -X X509_user_identity / X509_anchors):
 *
 *   FILE:cert.pem[,key.pem]
 *   PKCS11:[module_name=]/path/lib.so[:slotid=N][:token=LABEL][:certid=HEX][:certlabel=LABEL]
 *   anchors: FILE:ca.pem (PEM bundle or one DER certificate), DIR:/path (every file in it)
 *
 * The token PIN is asked for through `readPin` once, after the token is
 * found, and handed straight to C_Login; it is never kept.
 */

import { createPrivateKey } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, KerbsideError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { fromPemAll, openToken, softwareSigner, type Pkcs11Token, type Signer } from '../pki/index.js';

/** A bad X509_user_identity or X509_anchors value, or files that do not hold what they should. */
export class PkinitIdentityError extends KerbsideError {
  static override readonly code = 'ERR_PKINIT_IDENTITY';
}

export type X509Identity =
  | { readonly kind: 'file'; readonly certificate: string; readonly key: string }
  | {
    readonly kind: 'pkcs11';
    readonly module: string;
    readonly slot?: number;
    readonly tokenLabel?: string;
    readonly certId?: Uint8Array;
    readonly certLabel?: string;
  };

/** Parses an X509_user_identity value. */
export function parseX509Identity(text: string): X509Identity {
  const colon = text.indexOf(':');
  const scheme = colon < 0 ? '' : text.slice(0, colon).toUpperCase();
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  if (scheme === 'FILE') {
    const [cert, key, extra] = rest.split(',');
    if (cert === undefined || cert === '' || extra !== undefined) {
      throw new PkinitIdentityError(`bad FILE identity "${text}"`, { hint: 'write FILE:cert.pem,key.pem' });
    }
    // MIT: without a key file, the key is in the certificate file.
    return { kind: 'file', certificate: cert, key: key === undefined || key === '' ? cert : key };
  }
  if (scheme === 'PKCS11') {
    let module: string | undefined;
    let slot: number | undefined;
    let tokenLabel: string | undefined;
    let certId: Uint8Array | undefined;
    let certLabel: string | undefined;
    for (const part of rest.split(':')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const name = eq < 0 ? 'module_name' : part.slice(0, eq);
      const value = eq < 0 ? part : part.slice(eq + 1);
      switch (name) {
        case 'module_name': module = value; break;
        case 'slotid': {
          if (!/^\d+$/.test(value)) throw new PkinitIdentityError(`bad slotid "${value}" in PKCS11 identity`, { hint: 'slotid is a decimal number' });
          slot = Number(value);
          break;
        }
        case 'token': tokenLabel = value; break;
        case 'certid': {
          if (!/^([0-9a-fA-F]{2})+$/.test(value)) throw new PkinitIdentityError(`bad certid "${value}" in PKCS11 identity`, { hint: 'certid is the CKA_ID in hex, e.g. certid=ca5d' });
          certId = Uint8Array.from(value.match(/../g)!.map((h) => parseInt(h, 16)));
          break;
        }
        case 'certlabel': certLabel = value; break;
        default:
          throw new PkinitIdentityError(`unknown PKCS11 identity option "${name}"`, {
            hint: 'MIT syntax: PKCS11:module_name=/path/lib.so:slotid=N:token=LABEL:certid=HEX:certlabel=LABEL',
          });
      }
    }
    if (module === undefined || module === '') {
      throw new PkinitIdentityError(`PKCS11 identity "${text}" names no module`, { hint: 'add module_name=/usr/lib/…/opensc-pkcs11.so' });
    }
    return {
      kind: 'pkcs11', module,
      ...(slot !== undefined ? { slot } : {}), ...(tokenLabel !== undefined ? { tokenLabel } : {}),
      ...(certId !== undefined ? { certId } : {}), ...(certLabel !== undefined ? { certLabel } : {}),
    };
  }
  throw new PkinitIdentityError(`unsupported X509_user_identity "${text}"`, {
    hint: 'kerbside reads FILE:cert.pem,key.pem and PKCS11:module_name=…; DIR:, PKCS12: and ENV: are not supported',
  });
}

/** Certificates from PEM text (one or more) or a single DER certificate. */
function certificatesIn(bytes: Uint8Array, what: string): Uint8Array[] {
  const text = Buffer.from(bytes).toString('latin1');
  if (text.includes('-----BEGIN')) {
    const found = fromPemAll(text, 'CERTIFICATE');
    if (found.length === 0) throw new PkinitIdentityError(`${what} holds no CERTIFICATE in PEM`);
    return found;
  }
  if (bytes[0] === 0x30) return [bytes];
  throw new PkinitIdentityError(`${what} is neither PEM nor a DER certificate`);
}

async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (cause) {
    throw new PkinitIdentityError(`cannot read ${what} ${path}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause, detail: { path } });
  }
}

/** X509_anchors / pkinit_anchors values → DER certificates. */
export async function loadAnchors(specs: readonly string[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const spec of specs) {
    const colon = spec.indexOf(':');
    const scheme = colon < 0 ? 'FILE' : spec.slice(0, colon).toUpperCase();
    const path = colon < 0 ? spec : spec.slice(colon + 1);
    if (scheme === 'FILE') {
      out.push(...certificatesIn(await readBytes(path, 'anchor file'), `anchor file ${path}`));
    } else if (scheme === 'DIR') {
      let names: string[];
      try {
        names = (await readdir(path)).sort();
      } catch (cause) {
        throw new PkinitIdentityError(`cannot read anchor directory ${path}`, { cause, detail: { path } });
      }
      for (const n of names) {
        if (!/\.(pem|crt|cer|der|0)$/i.test(n) && !/^[0-9a-f]{8}\.\d+$/.test(n)) continue;
        out.push(...certificatesIn(await readBytes(join(path, n), 'anchor file'), `anchor file ${join(path, n)}`));
      }
    } else {
      throw new PkinitIdentityError(`unsupported anchor "${spec}"`, { hint: 'use FILE:ca.pem or DIR:/path' });
    }
  }
  return out;
}

/** An opened identity: the signer, its chain, and close() (logs out of a token). */
export interface OpenedIdentity {
  readonly signer: Signer;
  readonly chain: readonly Uint8Array[];
  readonly description: string;
  close(): Promise<void>;
}

export interface OpenIdentityOptions {
  /** Asks for the token PIN; the prompt names the token ("PIN for alice-card: "). */
  readonly readPin: (prompt: string) => Promise<string>;
  readonly clock?: Clock;
}

/** Opens a FILE or PKCS11 identity. PKCS#11 (pkcs11js) is loaded only here. */
export async function openX509Identity(identity: X509Identity, options: OpenIdentityOptions): Promise<OpenedIdentity> {
  if (identity.kind === 'file') {
    const certs = certificatesIn(await readBytes(identity.certificate, 'certificate file'), `certificate file ${identity.certificate}`);
    const keyBytes = await readBytes(identity.key, 'key file');
    let pkcs8: Uint8Array;
    try {
      const text = Buffer.from(keyBytes).toString('latin1');
      const key = text.includes('-----BEGIN')
        ? createPrivateKey({ key: text, format: 'pem' })
        : createPrivateKey({ key: Buffer.from(keyBytes), format: 'der', type: 'pkcs8' });
      pkcs8 = new Uint8Array(key.export({ format: 'der', type: 'pkcs8' }));
    } catch (cause) {
      // node's message says nothing about the key's content; keep only its code.
      throw new PkinitIdentityError(`key file ${identity.key} holds no usable private key (encrypted keys are not supported)`, {
        detail: { path: identity.key, code: (cause as { code?: unknown }).code },
        hint: 'give an unencrypted PKCS#8 or PKCS#1 PEM key (openssl pkey -in key.pem -out plain.pem)',
      });
    }
    const signer = softwareSigner(certs[0]!, pkcs8);
    return { signer, chain: certs.slice(1), description: `FILE:${identity.certificate}`, close: () => Promise.resolve() };
  }
  if (identity.slot === undefined && identity.tokenLabel === undefined) {
    throw new PkinitIdentityError('a PKCS11 identity needs slotid= or token=', { hint: 'list slots with pkcs11-tool -L --module …' });
  }
  let token: Pkcs11Token | undefined = await openToken({
    module: identity.module,
    ...(identity.slot !== undefined ? { slot: identity.slot } : {}),
    ...(identity.tokenLabel !== undefined ? { tokenLabel: identity.tokenLabel } : {}),
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
  });
  try {
    const description = `PKCS#11 token "${token.label}" (slot ${token.slot})`;
    await token.login(await options.readPin(`PIN for ${token.label}: `));
    const certs = await token.certificates();
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    const wanted = certs.filter((c) => (identity.certId === undefined || hex(c.id) === hex(identity.certId))
      && (identity.certLabel === undefined || c.label === identity.certLabel));
    if (wanted.length === 0) {
      throw new PkinitIdentityError(`${description} has no certificate${identity.certId !== undefined ? ` with id ${hex(identity.certId)}` : ''}${identity.certLabel !== undefined ? ` labelled "${identity.certLabel}"` : ''}`, {
        detail: { module: identity.module, slot: token.slot, tokenLabel: token.label, certificates: certs.map((c) => hex(c.id)) },
        hint: 'list them with pkcs11-tool -O --module …; choose one with :certid=HEX',
      });
    }
    if (wanted.length > 1 && identity.certId === undefined) {
      throw new PkinitIdentityError(`${description} holds ${wanted.length} certificates; say which`, {
        detail: { certificates: wanted.map((c) => hex(c.id)) }, hint: `add :certid=${hex(wanted[0]!.id)} (or another id) to the identity`,
      });
    }
    const signer = await token.signer({ id: wanted[0]!.id });
    const open = token;
    token = undefined;
    return { signer, chain: [], description: `${description}, certificate id ${hex(wanted[0]!.id)}`, close: () => open.close() };
  } finally {
    if (token !== undefined) await token.close().catch(() => undefined);
  }
}

/** Anchors are required: without them no KDC certificate can be checked. */
export function requireAnchors(anchors: readonly Uint8Array[], realm: string): void {
  if (anchors.length === 0) {
    throw new InvalidArgumentError(`no PKINIT trust anchors for realm ${realm}`, {
      hint: 'give -X X509_anchors=FILE:ca.pem, or set pkinit_anchors in [realms] or [libdefaults] of krb5.conf',
    });
  }
}
