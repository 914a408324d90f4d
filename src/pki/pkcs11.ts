/**
 * PKCS#11 (Cryptoki 2.40) smart-card access for PKINIT (RFC 4556 §3.2.1: the
 * client signs its AuthPack with the key on the card). The native binding
 * `pkcs11js` is an optional peer dependency loaded lazily, only when a token
 * is opened, so kerbside stays free of native code for everyone else.
 *
 * Objects are laid out as MIT's pkinit_pkcs11 and OpenSC's pkcs11-tool expect:
 * a CKO_CERTIFICATE (CKC_X_509) and a CKO_PRIVATE_KEY that share one CKA_ID.
 *
 * A PKCS#11 session runs one operation at a time (PKCS#11 2.40 §5.6), so every
 * call on a token is serialised through one queue.
 */

import { createPublicKey } from 'node:crypto';
import { Certificate } from 'pkijs';
import { InvalidArgumentError, KerbsideError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { encodeTlv, tag, TagClass, UniversalTag } from '../asn1/index.js';
import {
  NotLoggedInError, PinIncorrectError, PinLockedError, Pkcs11Error, Pkcs11ModuleError, Pkcs11ObjectNotFoundError,
  Pkcs11UnavailableError, TokenNotPresentError, TokenRemovedError,
} from './pkcs11-errors.js';

// Types of the optional binding stay inside this file: the emitted declarations
// must not reference 'pkcs11js', or users without it could not type-check.
type Binding = typeof import('pkcs11js');
type Library = InstanceType<Binding['PKCS11']>;
type Handle = Buffer;
type Template = Array<{ type: number; value?: number | boolean | string | Buffer }>;

/** Token status flags (PKCS#11 2.40 §3.2, CK_TOKEN_INFO.flags). */
export const Pkcs11TokenFlag = Object.freeze({
  LOGIN_REQUIRED: 0x00000004,
  USER_PIN_INITIALIZED: 0x00000008,
  TOKEN_INITIALIZED: 0x00000400,
  USER_PIN_COUNT_LOW: 0x00010000,
  USER_PIN_FINAL_TRY: 0x00020000,
  USER_PIN_LOCKED: 0x00040000,
  USER_PIN_TO_BE_CHANGED: 0x00080000,
} as const);

const CKF_TOKEN_PRESENT = 0x00000001; // CK_SLOT_INFO.flags

export interface OpenTokenOptions {
  /** Path of the PKCS#11 module (.so), as MIT's `PKCS11:module_name=`. */
  readonly module: string;
  /** Slot id, as MIT's `slotid=`. */
  readonly slot?: number;
  /** Token label, as MIT's `token=`. */
  readonly tokenLabel?: string;
  /** Kept for callers that check certificate validity against the token; not read by this module today. */
  readonly clock?: Clock;
}

export interface Pkcs11TokenInfo {
  readonly slot: number;
  readonly label: string;
  readonly serial: string;
  readonly manufacturer: string;
  readonly model: string;
  /** Raw CK_TOKEN_INFO.flags; see `Pkcs11TokenFlag`. */
  readonly flags: number;
  readonly loginRequired: boolean;
  readonly userPinCountLow: boolean;
  readonly userPinFinalTry: boolean;
  readonly userPinLocked: boolean;
}

export interface Pkcs11Certificate {
  readonly id: Uint8Array;
  readonly label: string;
  readonly der: Uint8Array;
}

export interface Pkcs11Signer {
  /** DER of the certificate sharing the key's CKA_ID. */
  readonly certificate: Uint8Array;
  readonly algorithm: 'rsa-sha256';
  /** RSASSA-PKCS1-v1_5 with SHA-256 over `data` (CKM_SHA256_RSA_PKCS), computed on the token. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export interface GenerateRsaKeyPairOptions {
  readonly id: Uint8Array;
  readonly label: string;
  /** Modulus size (default 2048). */
  readonly bits?: number;
}

export interface WriteCertificateOptions {
  readonly id: Uint8Array;
  readonly label: string;
  readonly der: Uint8Array;
}

// ---------------------------------------------------------------------------
// Loading the binding and the modules

/**
 * Imports pkcs11js. `importer` exists for tests of the missing-dependency path.
 * Throws Pkcs11UnavailableError when the package is not installed.
 */
export async function loadPkcs11Binding(
  importer: () => Promise<unknown> = () => import('pkcs11js'),
): Promise<unknown> {
  let ns: unknown;
  try {
    ns = await importer();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
    throw new Pkcs11UnavailableError(
      `${missing ? 'the pkcs11js package is not installed' : 'the pkcs11js package could not be loaded'}: `
        + 'npm install pkcs11js to use PKCS#11 smart cards and tokens for PKINIT',
      {
        hint: 'npm install pkcs11js — the native PKCS#11 binding kerbside needs to use smart cards and '
          + 'hardware tokens for PKINIT; nothing else in kerbside needs it',
        cause: err,
      },
    );
  }
  // pkcs11js is CommonJS: its exports arrive as the default export.
  const mod = (ns as { default?: unknown }).default ?? ns;
  if (typeof (mod as { PKCS11?: unknown }).PKCS11 !== 'function') {
    throw new Pkcs11UnavailableError('the pkcs11js package does not export PKCS11', {
      hint: 'npm install pkcs11js@2 — kerbside needs version 2.1 or later',
    });
  }
  return mod;
}

interface LoadedModule {
  readonly path: string;
  readonly api: Binding;
  readonly lib: Library;
  /** False when someone else in the process had already called C_Initialize: then we never finalize. */
  readonly ownsInit: boolean;
  /** Open tokens per slot id; the module is finalized when the last one closes. */
  readonly open: Map<number, number>;
  finalized: boolean;
}

/** Keyed by module path: C_Initialize runs once per module in a process. */
const modules = new Map<string, LoadedModule>();
/** A load in progress, so two concurrent openToken calls share one C_Initialize. */
const loading = new Map<string, Promise<LoadedModule>>();

async function acquireModule(path: string): Promise<LoadedModule> {
  const existing = modules.get(path);
  if (existing !== undefined) return existing;
  const pending = loading.get(path);
  if (pending !== undefined) return pending;
  const p = (async (): Promise<LoadedModule> => {
    const api = await loadPkcs11Binding() as Binding;
    const lib = new api.PKCS11();
    try {
      lib.load(path);
    } catch (err) {
      throw new Pkcs11ModuleError(`cannot load PKCS#11 module ${path}`, {
        hint: 'check the path of the module (.so), that it is a PKCS#11 library and matches this '
          + 'architecture; e.g. SoftHSM2 is /usr/lib/softhsm/libsofthsm2.so, OpenSC /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so',
        detail: { module: path },
        cause: err,
      });
    }
    let ownsInit = true;
    try {
      lib.C_Initialize();
    } catch (err) {
      if (ckrName(err) === 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
        ownsInit = false;
      } else {
        try { lib.close(); } catch { /* already failing */ }
        throw mapPkcs11Error(err, `cannot initialise PKCS#11 module ${path}`, { module: path });
      }
    }
    const loaded: LoadedModule = { path, api, lib, ownsInit, open: new Map(), finalized: false };
    modules.set(path, loaded);
    return loaded;
  })();
  loading.set(path, p);
  try {
    return await p;
  } finally {
    loading.delete(path);
  }
}

function releaseSlot(m: LoadedModule, slot: number): void {
  const n = (m.open.get(slot) ?? 1) - 1;
  if (n <= 0) m.open.delete(slot); else m.open.set(slot, n);
  finalizeIfUnused(m);
}

function finalizeIfUnused(m: LoadedModule): void {
  // The library's state is shared by every handle on the same .so: finalize
  // once, and never on behalf of a newer handle.
  if (m.open.size > 0 || m.finalized) return;
  m.finalized = true;
  if (modules.get(m.path) === m) modules.delete(m.path);
  if (!m.ownsInit) return;
  try { m.lib.C_Finalize(); } catch { /* finalizing a module that is going away anyway */ }
  try { m.lib.close(); } catch { /* as above */ }
}

// ---------------------------------------------------------------------------
// Errors

/** The CKR_* name of a pkcs11js error, or undefined for anything else. */
function ckrName(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const m = /\b(CKR_[A-Z0-9_]+)\b/.exec(String((err as { message?: unknown }).message ?? ''));
  return m?.[1];
}

const REMOVED = new Set([
  'CKR_DEVICE_REMOVED', 'CKR_SESSION_HANDLE_INVALID', 'CKR_SESSION_CLOSED', 'CKR_TOKEN_NOT_PRESENT',
  'CKR_CRYPTOKI_NOT_INITIALIZED',
]);

/**
 * The kerbside error for a CKR_* return value. `what` says what failed in
 * words (it names the token, never a PIN); `detail` is non-secret context.
 */
export function pkcs11ErrorFromCkr(
  ckr: string, what: string, detail: Readonly<Record<string, unknown>> = {}, cause?: unknown,
): Pkcs11Error {
  const opts = (hint: string): { hint: string; detail: Record<string, unknown>; cause?: unknown } => ({
    hint, detail: { ...detail, ckr }, ...(cause === undefined ? {} : { cause }),
  });
  if (ckr === 'CKR_PIN_INCORRECT') {
    return new PinIncorrectError(`${what}: the PIN is incorrect (${ckr})`,
      opts('retype the user PIN; each failure may count towards blocking the card (see token info userPinCountLow / userPinFinalTry)'));
  }
  if (ckr === 'CKR_PIN_LOCKED') {
    return new PinLockedError(`${what}: the user PIN is blocked (${ckr})`,
      opts('the card refused too many wrong PINs; the security officer must unblock it (e.g. pkcs11-tool --unlock-pin)'));
  }
  if (REMOVED.has(ckr)) {
    return new TokenRemovedError(`${what}: the token was removed or its session is closed (${ckr})`,
      opts('insert the card again and reopen the token with openToken'));
  }
  if (ckr === 'CKR_USER_NOT_LOGGED_IN') {
    return new NotLoggedInError(`${what}: log in first (${ckr})`, opts('call token.login(pin) before using private objects'));
  }
  if (ckr === 'CKR_SLOT_ID_INVALID' || ckr === 'CKR_TOKEN_NOT_RECOGNIZED') {
    return new TokenNotPresentError(`${what}: no usable token in the slot (${ckr})`,
      opts('list the slots with `pkcs11-tool --module <so> -L` and pass an existing slot id or token label'));
  }
  return new Pkcs11Error(`${what} (${ckr})`, opts('the PKCS#11 module refused the operation; its CKR_* code says why'));
}

function mapPkcs11Error(err: unknown, what: string, detail: Readonly<Record<string, unknown>>): KerbsideError {
  if (err instanceof KerbsideError) return err;
  const ckr = ckrName(err);
  if (ckr !== undefined) return pkcs11ErrorFromCkr(ckr, what, detail, err);
  return new Pkcs11Error(`${what}: ${String((err as { message?: unknown })?.message ?? err)}`, {
    hint: 'the PKCS#11 binding failed outside the module', detail, cause: err,
  });
}

// ---------------------------------------------------------------------------
// Helpers

/** A CK_SLOT_ID handle (a native-endian CK_ULONG in a Buffer) as a number. */
function slotNumber(h: Handle): number {
  if (h.length === 8) return Number(h.readBigUInt64LE(0));
  if (h.length === 4) return h.readUInt32LE(0);
  throw new Pkcs11Error(`unexpected slot handle of ${h.length} bytes`);
}

/** CK_UTF8CHAR fields are blank-padded (PKCS#11 2.40 §3.2). */
function unpad(s: string): string {
  return s.replace(/[\s\0]+$/, '');
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function copyBytes(b: Buffer): Uint8Array {
  return new Uint8Array(b);
}

function checkId(id: unknown, what: string): Uint8Array {
  if (!(id instanceof Uint8Array) || id.length === 0) {
    throw new InvalidArgumentError(`${what}: id must be a non-empty Uint8Array (CKA_ID)`);
  }
  return id;
}

// ---------------------------------------------------------------------------
// The token

/** Opens a session on a PKCS#11 token; see OpenTokenOptions. */
export async function openToken(options: OpenTokenOptions): Promise<Pkcs11Token> {
  if (typeof options.module !== 'string' || options.module === '') {
    throw new InvalidArgumentError('openToken: module must be the path of a PKCS#11 library');
  }
  if (options.slot !== undefined && (!Number.isSafeInteger(options.slot) || options.slot < 0)) {
    throw new InvalidArgumentError(`openToken: slot must be a non-negative integer, got ${String(options.slot)}`);
  }
  let m = await acquireModule(options.module);
  // A concurrent failed openToken may have finalized the module while this
  // call waited; from here to C_OpenSession nothing awaits.
  while (modules.get(options.module) !== m) m = await acquireModule(options.module);
  const detail = {
    module: options.module,
    ...(options.slot === undefined ? {} : { slot: options.slot }),
    ...(options.tokenLabel === undefined ? {} : { tokenLabel: options.tokenLabel }),
  };
  let slot: { handle: Handle; id: number; label: string } | undefined;
  try {
    slot = findSlot(m, options, detail);
    const session = m.lib.C_OpenSession(slot.handle, m.api.CKF_RW_SESSION | m.api.CKF_SERIAL_SESSION);
    m.open.set(slot.id, (m.open.get(slot.id) ?? 0) + 1);
    return new TokenSession(m, slot.handle, slot.id, slot.label, session, options.clock);
  } catch (err) {
    // Nothing opened: drop the module again if no other token uses it.
    finalizeIfUnused(m);
    throw mapPkcs11Error(err, `cannot open a session on ${describe(detail)}`, detail);
  }
}

function describe(d: { module: string; slot?: number; tokenLabel?: string }): string {
  const parts = [d.slot === undefined ? undefined : `slot ${d.slot}`, d.tokenLabel === undefined ? undefined : `token "${d.tokenLabel}"`]
    .filter((x) => x !== undefined);
  return `${parts.length === 0 ? 'the first token' : parts.join(' ')} of ${d.module}`;
}

function findSlot(
  m: LoadedModule, options: OpenTokenOptions, detail: { module: string; slot?: number; tokenLabel?: string },
): { handle: Handle; id: number; label: string } {
  const hint = `list the slots and tokens with \`pkcs11-tool --module ${options.module} -L\``;
  const all = m.lib.C_GetSlotList(false);
  const candidates = options.slot === undefined ? all : all.filter((h) => slotNumber(h) === options.slot);
  if (candidates.length === 0) {
    throw new TokenNotPresentError(`no slot ${String(options.slot)} in ${options.module}`, {
      hint, detail: { ...detail, slots: all.map(slotNumber) },
    });
  }
  const seen: string[] = [];
  for (const handle of candidates) {
    const id = slotNumber(handle);
    if ((m.lib.C_GetSlotInfo(handle).flags & CKF_TOKEN_PRESENT) === 0) continue;
    const info = m.lib.C_GetTokenInfo(handle);
    // A blank SoftHSM slot or an unformatted card holds no keys to use.
    if ((info.flags & Pkcs11TokenFlag.TOKEN_INITIALIZED) === 0) continue;
    const label = unpad(info.label);
    seen.push(label);
    if (options.tokenLabel !== undefined && label !== options.tokenLabel) continue;
    return { handle, id, label };
  }
  throw new TokenNotPresentError(`no token found: ${describe(detail)}`, {
    hint: `${hint}; insert the card, or initialise the token`, detail: { ...detail, tokenLabels: seen },
  });
}

/**
 * An open session on one token. All methods are serialised; after `close()`
 * every method throws TokenRemovedError.
 */
export interface Pkcs11Token {
  /** Slot id (as MIT's `slotid=`). */
  readonly slot: number;
  /** Token label (as MIT's `token=`), blank padding removed. */
  readonly label: string;
  /** Path of the PKCS#11 module. */
  readonly module: string;
  readonly clock: Clock | undefined;
  readonly closed: boolean;
  info(): Promise<Pkcs11TokenInfo>;
  login(pin: string): Promise<void>;
  generateRsaKeyPair(options: GenerateRsaKeyPairOptions): Promise<Uint8Array>;
  writeCertificate(options: WriteCertificateOptions): Promise<void>;
  certificates(): Promise<Pkcs11Certificate[]>;
  signer(options: { readonly id: Uint8Array }): Promise<Pkcs11Signer>;
  close(): Promise<void>;
}

class TokenSession implements Pkcs11Token {
  /** Slot id (as MIT's `slotid=`). */
  readonly slot: number;
  /** Token label (as MIT's `token=`), blank padding removed. */
  readonly label: string;
  readonly clock: Clock | undefined;
  readonly #m: LoadedModule;
  readonly #slotHandle: Handle;
  #session: Handle | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(m: LoadedModule, slotHandle: Handle, slot: number, label: string, session: Handle, clock: Clock | undefined) {
    this.#m = m;
    this.#slotHandle = slotHandle;
    this.slot = slot;
    this.label = label;
    this.#session = session;
    this.clock = clock;
  }

  get module(): string {
    return this.#m.path;
  }

  get closed(): boolean {
    return this.#session === undefined;
  }

  #detail(): Record<string, unknown> {
    return { module: this.#m.path, slot: this.slot, tokenLabel: this.label };
  }

  #name(): string {
    return `token "${this.label}" (slot ${this.slot})`;
  }

  /** Runs `fn` with the session after every earlier call finished; maps CKR_* failures. */
  #run<T>(what: string, fn: (session: Handle, lib: Library, api: Binding) => T | Promise<T>): Promise<T> {
    const next = this.#queue.then(async () => {
      const session = this.#session;
      if (session === undefined) {
        throw new TokenRemovedError(`${what} on ${this.#name()}: the token is closed`, {
          hint: 'open the token again with openToken', detail: this.#detail(),
        });
      }
      try {
        return await fn(session, this.#m.lib, this.#m.api);
      } catch (err) {
        throw mapPkcs11Error(err, `${what} on ${this.#name()}`, this.#detail());
      }
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Current token information (flags change as PINs fail). */
  info(): Promise<Pkcs11TokenInfo> {
    return this.#run('reading token info', (_s, lib) => {
      const t = lib.C_GetTokenInfo(this.#slotHandle);
      const f = t.flags;
      return Object.freeze({
        slot: this.slot,
        label: unpad(t.label),
        serial: unpad(t.serialNumber),
        manufacturer: unpad(t.manufacturerID),
        model: unpad(t.model),
        flags: f,
        loginRequired: (f & Pkcs11TokenFlag.LOGIN_REQUIRED) !== 0,
        userPinCountLow: (f & Pkcs11TokenFlag.USER_PIN_COUNT_LOW) !== 0,
        userPinFinalTry: (f & Pkcs11TokenFlag.USER_PIN_FINAL_TRY) !== 0,
        userPinLocked: (f & Pkcs11TokenFlag.USER_PIN_LOCKED) !== 0,
      });
    });
  }

  /** User login (CKU_USER). Already logged in (another session of this process) counts as success. */
  async login(pin: string): Promise<void> {
    if (typeof pin !== 'string') throw new InvalidArgumentError('login: the PIN must be a string');
    return this.#run('logging in', (session, lib, api) => {
      try {
        lib.C_Login(session, api.CKU_USER, pin);
      } catch (err) {
        if (ckrName(err) !== 'CKR_USER_ALREADY_LOGGED_IN') throw err;
      }
    });
  }

  /**
   * Generates an RSA key pair on the token (the private key never leaves it)
   * and returns the public key as SubjectPublicKeyInfo DER. Needs login.
   */
  async generateRsaKeyPair(options: GenerateRsaKeyPairOptions): Promise<Uint8Array> {
    const id = checkId(options.id, 'generateRsaKeyPair');
    const bits = options.bits ?? 2048;
    if (!Number.isInteger(bits) || bits < 1024 || bits > 16384 || bits % 8 !== 0) {
      throw new InvalidArgumentError(`generateRsaKeyPair: bits must be a multiple of 8 in 1024..16384, got ${String(bits)}`);
    }
    return this.#run('generating an RSA key pair', async (session, lib, a) => {
      const common: Template = [
        { type: a.CKA_KEY_TYPE, value: a.CKK_RSA },
        { type: a.CKA_TOKEN, value: true },
        { type: a.CKA_ID, value: toBuffer(id) },
        { type: a.CKA_LABEL, value: options.label },
      ];
      const pub: Template = [
        { type: a.CKA_CLASS, value: a.CKO_PUBLIC_KEY }, ...common,
        { type: a.CKA_PRIVATE, value: false },
        { type: a.CKA_VERIFY, value: true },
        { type: a.CKA_ENCRYPT, value: true },
        { type: a.CKA_MODULUS_BITS, value: bits },
        { type: a.CKA_PUBLIC_EXPONENT, value: Buffer.from([0x01, 0x00, 0x01]) },
      ];
      const priv: Template = [
        { type: a.CKA_CLASS, value: a.CKO_PRIVATE_KEY }, ...common,
        { type: a.CKA_PRIVATE, value: true },
        { type: a.CKA_SENSITIVE, value: true },
        { type: a.CKA_EXTRACTABLE, value: false },
        { type: a.CKA_SIGN, value: true },
        // RSA key transport (RFC 4556 §3.2.3.2) decrypts with the card's key.
        { type: a.CKA_DECRYPT, value: true },
      ];
      const pair = await lib.C_GenerateKeyPairAsync(session, { mechanism: a.CKM_RSA_PKCS_KEY_PAIR_GEN }, pub, priv);
      const [n, e] = lib.C_GetAttributeValue(session, pair.publicKey, [
        { type: a.CKA_MODULUS }, { type: a.CKA_PUBLIC_EXPONENT },
      ]);
      if (!(n?.value instanceof Buffer) || !(e?.value instanceof Buffer)) {
        throw new Pkcs11Error('the token returned no modulus or exponent for the new public key');
      }
      const spki = createPublicKey({
        key: { kty: 'RSA', n: n.value.toString('base64url'), e: e.value.toString('base64url') }, format: 'jwk',
      }).export({ type: 'spki', format: 'der' });
      return copyBytes(spki);
    });
  }

  /**
   * Stores an X.509 certificate as a token object with CKA_SUBJECT, CKA_ISSUER
   * and CKA_SERIAL_NUMBER (PKCS#11 2.40 §4.6.3: DER of the Name and of the
   * serial INTEGER) taken from the certificate itself.
   */
  async writeCertificate(options: WriteCertificateOptions): Promise<void> {
    const id = checkId(options.id, 'writeCertificate');
    let subject: Buffer;
    let issuer: Buffer;
    let serial: Buffer;
    try {
      // pkijs rather than @peculiar/x509: the latter needs a global Reflect
      // metadata polyfill (tsyringe) that a library must not install.
      const cert = Certificate.fromBER(toBuffer(options.der));
      // Names re-serialise from the bytes they were decoded from, so these are the certificate's own DER.
      subject = Buffer.from(cert.subject.toSchema().toBER(false));
      issuer = Buffer.from(cert.issuer.toSchema().toBER(false));
      // CKA_SERIAL_NUMBER is the DER INTEGER, with the certificate's content octets unchanged.
      serial = Buffer.from(encodeTlv(tag(TagClass.UNIVERSAL, UniversalTag.INTEGER, false),
        cert.serialNumber.valueBlock.valueHexView));
    } catch (err) {
      throw new InvalidArgumentError('writeCertificate: der is not a DER X.509 certificate', { cause: err });
    }
    return this.#run('writing a certificate', (session, lib, a) => {
      lib.C_CreateObject(session, [
        { type: a.CKA_CLASS, value: a.CKO_CERTIFICATE },
        { type: a.CKA_CERTIFICATE_TYPE, value: a.CKC_X_509 },
        { type: a.CKA_TOKEN, value: true },
        { type: a.CKA_PRIVATE, value: false },
        { type: a.CKA_ID, value: toBuffer(id) },
        { type: a.CKA_LABEL, value: options.label },
        { type: a.CKA_SUBJECT, value: subject },
        { type: a.CKA_ISSUER, value: issuer },
        { type: a.CKA_SERIAL_NUMBER, value: serial },
        { type: a.CKA_VALUE, value: toBuffer(options.der) },
      ]);
    });
  }

  /** The X.509 certificates on the token (public objects: no login needed). */
  certificates(): Promise<Pkcs11Certificate[]> {
    return this.#run('listing certificates', (session, lib, a) => {
      const handles = findAll(lib, session, [
        { type: a.CKA_CLASS, value: a.CKO_CERTIFICATE },
        { type: a.CKA_CERTIFICATE_TYPE, value: a.CKC_X_509 },
      ]);
      return handles.map((h) => {
        const [id, label, value] = lib.C_GetAttributeValue(session, h, [
          { type: a.CKA_ID }, { type: a.CKA_LABEL }, { type: a.CKA_VALUE },
        ]);
        return Object.freeze({
          id: copyBytes(asBuf(id?.value)),
          label: asBuf(label?.value).toString('utf8'),
          der: copyBytes(asBuf(value?.value)),
        });
      });
    });
  }

  /**
   * A signer over the private key with CKA_ID `id` and the certificate with
   * the same id, as MIT's pkinit_pkcs11 pairs them. Needs login.
   */
  async signer(options: { readonly id: Uint8Array }): Promise<Pkcs11Signer> {
    const id = checkId(options.id, 'signer');
    const idHex = Buffer.from(id).toString('hex');
    const found = await this.#run('finding the signing key', (session, lib, a) => {
      const keys = findAll(lib, session, [
        { type: a.CKA_CLASS, value: a.CKO_PRIVATE_KEY }, { type: a.CKA_ID, value: toBuffer(id) },
      ]);
      const certs = findAll(lib, session, [
        { type: a.CKA_CLASS, value: a.CKO_CERTIFICATE }, { type: a.CKA_CERTIFICATE_TYPE, value: a.CKC_X_509 },
        { type: a.CKA_ID, value: toBuffer(id) },
      ]);
      const certificate = certs[0] === undefined
        ? undefined
        : copyBytes(asBuf(lib.C_GetAttributeValue(session, certs[0], [{ type: a.CKA_VALUE }])[0]?.value));
      return { key: keys[0], certificate };
    });
    if (found.key === undefined) {
      throw new Pkcs11ObjectNotFoundError(`no private key with id ${idHex} on ${this.#name()}`, {
        hint: 'private keys are visible only after token.login(pin); list them with `pkcs11-tool -O --login`',
        detail: { ...this.#detail(), id: idHex },
      });
    }
    if (found.certificate === undefined) {
      throw new Pkcs11ObjectNotFoundError(`no certificate with id ${idHex} on ${this.#name()}`, {
        hint: 'PKINIT needs the certificate stored next to its key under the same CKA_ID (token.writeCertificate)',
        detail: { ...this.#detail(), id: idHex },
      });
    }
    const key = found.key;
    return Object.freeze({
      certificate: found.certificate,
      algorithm: 'rsa-sha256' as const,
      sign: async (data: Uint8Array): Promise<Uint8Array> => {
        if (!(data instanceof Uint8Array)) throw new InvalidArgumentError('sign: data must be a Uint8Array');
        return this.#run('signing', async (session, lib, a) => {
          lib.C_SignInit(session, { mechanism: a.CKM_SHA256_RSA_PKCS }, key);
          // Room for a 16384-bit modulus; the binding returns the used part.
          const sig = await lib.C_SignAsync(session, Buffer.from(data), Buffer.alloc(2048));
          return copyBytes(sig);
        });
      },
    });
  }

  /**
   * Logs out (unless another open token of this process shares the slot, since
   * login state is per application and token) and closes the session;
   * finalizes the module when its last token closes. Closing twice is a no-op.
   */
  async close(): Promise<void> {
    await this.#queue;
    const session = this.#session;
    if (session === undefined) return;
    this.#session = undefined;
    const lib = this.#m.lib;
    if ((this.#m.open.get(this.slot) ?? 0) <= 1) {
      try { lib.C_Logout(session); } catch { /* not logged in, or the card is gone */ }
    }
    try { lib.C_CloseSession(session); } catch { /* the card is gone: the session went with it */ }
    releaseSlot(this.#m, this.slot);
  }
}

function asBuf(v: unknown): Buffer {
  return v instanceof Buffer ? v : Buffer.alloc(0);
}

function findAll(lib: Library, session: Handle, template: Template): Handle[] {
  lib.C_FindObjectsInit(session, template);
  try {
    const out: Handle[] = [];
    for (;;) {
      const batch = lib.C_FindObjects(session, 64);
      if (batch.length === 0) return out;
      out.push(...batch);
    }
  } finally {
    lib.C_FindObjectsFinal(session);
  }
}
