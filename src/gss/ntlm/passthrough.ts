/**
 * NTLM pass-through validation (docs/ntlm.md "Validation"): the role Netlogon
 * plays for IIS (MS-NRPC §3.5.4.5.1 NetrLogonSamLogonEx, MS-APDS §3.1.5.2).
 * A web node never holds NT hashes: it sends the CHALLENGE it issued and the
 * AUTHENTICATE it received to the KDC host, authenticated with its own
 * Kerberos service key, and gets back the user's identity and the
 * SessionBaseKey, encrypted in the same key.
 *
 * Sans-IO: the codec, `ntlmPassThroughServer` (bytes in, bytes out) and
 * `passThroughNtlmValidator` (an NtlmValidator over an injected exchange
 * function). The TCP transport is in passthrough-transport.ts.
 *
 * Wire format, version 1 (integers big-endian; str16 = u16 length ‖ UTF-8;
 * bytes32 = u32 length ‖ octets):
 *
 *   request  = "KSNT" ‖ 01 ‖ 01 ‖ header ‖ u16 length ‖ mac ‖ u32 length ‖ sealed
 *     header = str16 service ‖ u32 kvno ‖ i32 enctype ‖ u64 timestamp (ms) ‖ nonce (16)
 *     mac    = checksum(key, 1000101, "KSNT" ‖ 01 ‖ 01 ‖ header)   (RFC 3961 keyed checksum)
 *     sealed = E(key, 1000102, nonce ‖ bytes32 CHALLENGE ‖ bytes32 AUTHENTICATE)
 *   reply    = "KSNT" ‖ 01 ‖ 02 ‖ nonce ‖ u32 length ‖ E(key, 1000103, nonce ‖ u8 status ‖ result)
 *     status 0: str16 user ‖ str16 domain ‖ str16 principal ‖ SessionBaseKey (16)
 *     status 1 (logon failure), 2 (account restriction): str16 cause
 *   refusal  = "KSNT" ‖ 01 ‖ 03 ‖ nonce ‖ str16 cause ‖ str16 message   (not authenticated)
 *
 * `key` is the service principal's long-term key (kvno, enctype) from the web
 * node's keytab, which the KDC host holds in its database. The MAC over the
 * clear header lets the server tell a wrong key (MAC fails) from a request
 * altered after it was made (MAC good, sealed part fails or names another
 * nonce). The timestamp must be within the clock skew and (service, nonce)
 * is remembered for twice the skew: a replay is refused. Three key usages
 * keep a request from being reflected as a reply. A refusal is in the clear
 * (the server could not authenticate the request); the client treats it
 * only as a failure, never as a logon.
 */

import { bytesEqual, concatBytes, utf8 } from '../../core/bytes.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { systemRandom, type RandomSource } from '../../core/random.js';
import { decrypt, defaultChecksumType, encrypt, getEnctype, makeChecksum, verifyChecksum, type Key } from '../../crypto/index.js';
import { createEmitter, nullSink, type Emitter, type EventSink } from '../../events/index.js';
import { principalToString, type KeytabEntry } from '../../files/index.js';
import { LockoutGate, type KdcLockoutPolicy, type KeyProtector } from '../../kdc/index.js';
import { MemoryReplayCache, type LockoutStore, type PrincipalRecord, type ReplayCache } from '../../store/index.js';
import { keytabKeys, type AcceptorKeySource } from '../acceptor-keys.js';
import { GssUnavailableError } from '../errors.js';
import { NtlmAccountRestrictionError, NtlmLogonFailureError } from './errors.js';
import { decodeAuthenticate, MAX_NTLM_MESSAGE, ntlmAccountName } from './messages.js';
import { verifyAuthenticateWith, type NtlmValidationRequest, type NtlmValidationResult, type NtlmValidator } from './validator.js';

const MAGIC = Uint8Array.of(0x4b, 0x53, 0x4e, 0x54); // "KSNT"
export const PASSTHROUGH_VERSION = 1;
const TYPE = Object.freeze({ REQUEST: 1, REPLY: 2, REFUSAL: 3 } as const);
/** kerbside-private key usages (kdc/keys.ts uses 1000001-1000003). */
export const PassThroughKeyUsage = Object.freeze({ REQUEST_HEADER: 1_000_101, REQUEST: 1_000_102, REPLY: 1_000_103 } as const);
const NONCE_LENGTH = 16;
const MAX_STRING = 1024;
/** Two NTLM messages and the framing: nothing legitimate comes near it. */
export const MAX_PASSTHROUGH_MESSAGE = 2 * MAX_NTLM_MESSAGE + 4096;

/** Why a request was refused, or why a logon failed (the `cause` of events and errors). */
export type PassThroughRefusal =
  | 'malformed' | 'unsupported_version' | 'unknown_service' | 'unknown_key' | 'wrong_service_key' | 'tampered'
  | 'skew' | 'replay' | 'unavailable';

/** A pass-through exchange failed (refused by the KDC host, unreachable, or a reply that does not verify). */
export class NtlmPassThroughError extends GssUnavailableError {
  static override readonly code: string = 'ERR_NTLM_PASSTHROUGH';
}

/** A pass-through message breaks the wire format above. */
export class NtlmPassThroughFormatError extends NtlmPassThroughError {
  static override readonly code: string = 'ERR_NTLM_PASSTHROUGH_FORMAT';
}

// ---------------------------------------------------------------------------
// codec

export interface PassThroughRequestHeader {
  readonly service: string;
  readonly kvno: number;
  readonly enctype: number;
  /** Milliseconds since the epoch (the sender's clock). */
  readonly timestamp: number;
  readonly nonce: Uint8Array;
}

export interface DecodedPassThroughRequest extends PassThroughRequestHeader {
  /** The octets the MAC covers (magic to nonce). */
  readonly signed: Uint8Array;
  readonly mac: Uint8Array;
  readonly sealed: Uint8Array;
}

export type PassThroughOutcome =
  | { readonly status: 'ok'; readonly user: string; readonly domain: string; readonly principal: string; readonly sessionBaseKey: Uint8Array }
  | { readonly status: 'logon_failure' | 'account_restriction'; readonly cause: string };

export type DecodedPassThroughReply =
  | { readonly type: 'reply'; readonly nonce: Uint8Array; readonly sealed: Uint8Array }
  | { readonly type: 'refusal'; readonly nonce: Uint8Array; readonly cause: string; readonly message: string };

class Writer {
  readonly #parts: Uint8Array[] = [];
  bytes(b: Uint8Array): this { this.#parts.push(b); return this; }
  u8(n: number): this { return this.bytes(Uint8Array.of(n)); }
  u16(n: number): this { const b = new Uint8Array(2); new DataView(b.buffer).setUint16(0, n); return this.bytes(b); }
  u32(n: number): this { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n); return this.bytes(b); }
  i32(n: number): this { const b = new Uint8Array(4); new DataView(b.buffer).setInt32(0, n); return this.bytes(b); }
  u64(n: number): this { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(n)); return this.bytes(b); }
  str16(s: string): this {
    const b = utf8(s);
    if (b.length > MAX_STRING) throw new NtlmPassThroughFormatError(`a pass-through string of ${b.length} octets exceeds ${MAX_STRING}`);
    return this.u16(b.length).bytes(b);
  }
  bytes16(b: Uint8Array): this { return this.u16(b.length).bytes(b); }
  bytes32(b: Uint8Array): this { return this.u32(b.length).bytes(b); }
  done(): Uint8Array { return concatBytes(...this.#parts); }
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  #at = 0;
  readonly #view: DataView;
  constructor(readonly buf: Uint8Array, readonly what: string) {
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get offset(): number { return this.#at; }
  #need(n: number, field: string): number {
    if (this.buf.length - this.#at < n) throw new NtlmPassThroughFormatError(`${this.what}: ${field} runs past the end (offset ${this.#at}, ${n} octets)`);
    const at = this.#at;
    this.#at += n;
    return at;
  }
  take(n: number, field: string): Uint8Array { const at = this.#need(n, field); return this.buf.slice(at, at + n); }
  u8(field: string): number { return this.#view.getUint8(this.#need(1, field)); }
  u16(field: string): number { return this.#view.getUint16(this.#need(2, field)); }
  u32(field: string): number { return this.#view.getUint32(this.#need(4, field)); }
  i32(field: string): number { return this.#view.getInt32(this.#need(4, field)); }
  u64(field: string): number {
    const v = this.#view.getBigUint64(this.#need(8, field));
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new NtlmPassThroughFormatError(`${this.what}: ${field} is out of range`);
    return Number(v);
  }
  str16(field: string): string {
    const n = this.u16(field);
    if (n > MAX_STRING) throw new NtlmPassThroughFormatError(`${this.what}: ${field} of ${n} octets exceeds ${MAX_STRING}`);
    try {
      return fatalUtf8.decode(this.take(n, field));
    } catch (err) {
      if (err instanceof NtlmPassThroughFormatError) throw err;
      throw new NtlmPassThroughFormatError(`${this.what}: ${field} is not UTF-8`);
    }
  }
  bytes16(field: string): Uint8Array { return this.take(this.u16(field), field); }
  bytes32(field: string, max: number): Uint8Array {
    const n = this.u32(field);
    if (n > max) throw new NtlmPassThroughFormatError(`${this.what}: ${field} of ${n} octets exceeds ${max}`);
    return this.take(n, field);
  }
  end(): void {
    if (this.#at !== this.buf.length) throw new NtlmPassThroughFormatError(`${this.what}: ${this.buf.length - this.#at} trailing octets`);
  }
}

function readPreamble(r: Reader): number {
  if (r.buf.length > MAX_PASSTHROUGH_MESSAGE) throw new NtlmPassThroughFormatError(`${r.what} of ${r.buf.length} octets exceeds ${MAX_PASSTHROUGH_MESSAGE}`);
  if (!bytesEqual(r.take(4, 'magic'), MAGIC)) throw new NtlmPassThroughFormatError(`${r.what} does not start with "KSNT"`);
  const version = r.u8('version');
  if (version !== PASSTHROUGH_VERSION) {
    throw new NtlmPassThroughFormatError(`${r.what} has version ${version}; this kerbside speaks version ${PASSTHROUGH_VERSION}`, {
      hint: 'the web node and the KDC host run kerbside releases with different pass-through versions: upgrade the older one', detail: { version },
    });
  }
  return r.u8('type');
}

function header(h: PassThroughRequestHeader): Uint8Array {
  if (h.nonce.length !== NONCE_LENGTH) throw new NtlmPassThroughFormatError(`a pass-through nonce must be ${NONCE_LENGTH} octets`);
  return new Writer().bytes(MAGIC).u8(PASSTHROUGH_VERSION).u8(TYPE.REQUEST)
    .str16(h.service).u32(h.kvno).i32(h.enctype).u64(h.timestamp).bytes(h.nonce).done();
}

export function encodePassThroughRequest(h: PassThroughRequestHeader, mac: Uint8Array, sealed: Uint8Array): Uint8Array {
  return new Writer().bytes(header(h)).bytes16(mac).bytes32(sealed).done();
}

export function decodePassThroughRequest(bytes: Uint8Array): DecodedPassThroughRequest {
  const r = new Reader(bytes, 'NTLM pass-through request');
  const type = readPreamble(r);
  if (type !== TYPE.REQUEST) throw new NtlmPassThroughFormatError(`NTLM pass-through request has message type ${type}, not ${TYPE.REQUEST}`);
  const service = r.str16('service');
  const kvno = r.u32('kvno');
  const enctype = r.i32('enctype');
  const timestamp = r.u64('timestamp');
  const nonce = r.take(NONCE_LENGTH, 'nonce');
  const signed = bytes.slice(0, r.offset);
  const mac = r.bytes16('mac');
  const sealed = r.bytes32('sealed part', MAX_PASSTHROUGH_MESSAGE);
  r.end();
  return { service, kvno, enctype, timestamp, nonce, signed, mac, sealed };
}

function encodeRequestBody(nonce: Uint8Array, challenge: Uint8Array, authenticate: Uint8Array): Uint8Array {
  return new Writer().bytes(nonce).bytes32(challenge).bytes32(authenticate).done();
}

function decodeRequestBody(plain: Uint8Array): { nonce: Uint8Array; challenge: Uint8Array; authenticate: Uint8Array } {
  const r = new Reader(plain, 'NTLM pass-through request body');
  const nonce = r.take(NONCE_LENGTH, 'nonce');
  const challenge = r.bytes32('CHALLENGE', MAX_NTLM_MESSAGE);
  const authenticate = r.bytes32('AUTHENTICATE', MAX_NTLM_MESSAGE);
  r.end();
  return { nonce, challenge, authenticate };
}

const STATUS = Object.freeze({ ok: 0, logon_failure: 1, account_restriction: 2 } as const);

function encodeOutcome(nonce: Uint8Array, o: PassThroughOutcome): Uint8Array {
  const w = new Writer().bytes(nonce).u8(STATUS[o.status]);
  if (o.status === 'ok') {
    if (o.sessionBaseKey.length !== 16) throw new NtlmPassThroughFormatError('a SessionBaseKey is 16 octets');
    w.str16(o.user).str16(o.domain).str16(o.principal).bytes(o.sessionBaseKey);
  } else {
    w.str16(o.cause);
  }
  return w.done();
}

function decodeOutcome(plain: Uint8Array): { nonce: Uint8Array; outcome: PassThroughOutcome } {
  const r = new Reader(plain, 'NTLM pass-through reply body');
  const nonce = r.take(NONCE_LENGTH, 'nonce');
  const status = r.u8('status');
  let outcome: PassThroughOutcome;
  if (status === STATUS.ok) {
    outcome = { status: 'ok', user: r.str16('user'), domain: r.str16('domain'), principal: r.str16('principal'), sessionBaseKey: r.take(16, 'SessionBaseKey') };
  } else if (status === STATUS.logon_failure || status === STATUS.account_restriction) {
    outcome = { status: status === STATUS.logon_failure ? 'logon_failure' : 'account_restriction', cause: r.str16('cause') };
  } else {
    throw new NtlmPassThroughFormatError(`NTLM pass-through reply body has unknown status ${status}`);
  }
  r.end();
  return { nonce, outcome };
}

export function encodePassThroughReply(nonce: Uint8Array, sealed: Uint8Array): Uint8Array {
  return new Writer().bytes(MAGIC).u8(PASSTHROUGH_VERSION).u8(TYPE.REPLY).bytes(nonce).bytes32(sealed).done();
}

export function encodePassThroughRefusal(nonce: Uint8Array, cause: string, message: string): Uint8Array {
  const n = nonce.length === NONCE_LENGTH ? nonce : new Uint8Array(NONCE_LENGTH);
  return new Writer().bytes(MAGIC).u8(PASSTHROUGH_VERSION).u8(TYPE.REFUSAL).bytes(n).str16(cause).str16(message.slice(0, 300)).done();
}

export function decodePassThroughReply(bytes: Uint8Array): DecodedPassThroughReply {
  const r = new Reader(bytes, 'NTLM pass-through reply');
  const type = readPreamble(r);
  const nonce = r.take(NONCE_LENGTH, 'nonce');
  let out: DecodedPassThroughReply;
  if (type === TYPE.REPLY) out = { type: 'reply', nonce, sealed: r.bytes32('sealed part', MAX_PASSTHROUGH_MESSAGE) };
  else if (type === TYPE.REFUSAL) out = { type: 'refusal', nonce, cause: r.str16('cause'), message: r.str16('message') };
  else throw new NtlmPassThroughFormatError(`NTLM pass-through reply has message type ${type}`);
  r.end();
  return out;
}

// ---------------------------------------------------------------------------
// server (the KDC host)

export interface NtlmPassThroughServerOptions {
  readonly realm: string;
  /** The principal database (the KDC's PrincipalCache). */
  readonly principals: { get(name: string): Promise<PrincipalRecord | undefined> };
  /** Opens stored keys and NTLM credentials (the realm master key). */
  readonly keys: KeyProtector;
  /** Bad passwords count toward the principal-wide lockout, as in the AS exchange (docs/lockout.md). */
  readonly lockout?: { readonly store: LockoutStore; readonly policy: KdcLockoutPolicy };
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly events?: EventSink;
  /** Default: an in-memory cache for twice the skew. */
  readonly replayCache?: ReplayCache;
  /** Default 300 000 (5 minutes). */
  readonly clockSkewMs?: number;
}

export interface NtlmPassThroughServer {
  /** Answers one request; never throws (a bad request gets a refusal). */
  handle(request: Uint8Array, peer?: { readonly address?: string }): Promise<Uint8Array>;
  /** Resolves when pending lockout writes are done. */
  settled(): Promise<void>;
}

class Refused extends Error {
  constructor(readonly refusal: PassThroughRefusal, message: string, readonly nonce: Uint8Array = new Uint8Array(NONCE_LENGTH)) {
    super(message);
  }
}

/** MsvAvTargetName ('HTTP/web.example.test', MS-NLMP §2.2.2.1) against the requesting service principal, without case. */
function sameService(target: string, service: string): boolean {
  const t = target.toLowerCase();
  const s = service.toLowerCase();
  return t === s || t === s.replace(/@[^@]*$/, '');
}

/** Windows-like names for the restriction causes (MS-APDS status codes in docs/ntlm.md). */
function restriction(record: PrincipalRecord, now: number): string | undefined {
  if (record.principalExpiry !== undefined && now >= record.principalExpiry) return 'account_expired';
  if (record.disabled || !record.allowTickets) return 'account_disabled';
  if (record.requiresPkinit) return 'smart_card_required';
  if (record.passwordExpiry !== undefined && now >= record.passwordExpiry) return 'password_expired';
  if (record.requiresPasswordChange) return 'password_must_change';
  return undefined;
}

export function ntlmPassThroughServer(options: NtlmPassThroughServerOptions): NtlmPassThroughServer {
  const clock = options.clock ?? systemClock();
  const random = options.random ?? systemRandom();
  const skew = options.clockSkewMs ?? 300_000;
  const replay = options.replayCache ?? new MemoryReplayCache({ clockSkewSeconds: Math.ceil(skew / 1000), maxEntries: 100_000 });
  const log: Emitter = createEmitter(options.events ?? nullSink(), clock);
  const realm = options.realm;
  const gate = options.lockout === undefined ? undefined : new LockoutGate(options.lockout.store, options.lockout.policy, {
    locked: (principal, _scope, _source, state) => log.emit('kdc.lockout', `${principal} is locked out after ${state.failures} failed NTLM logons`, { principal, failures: state.failures }),
    storeFailed: (principal, err) => log.emit('kdc.store_poll_failed', `recording an NTLM logon failure of ${principal} failed: ${err instanceof Error ? err.message : String(err)}`),
  });

  async function serviceKey(req: DecodedPassThroughRequest): Promise<Key> {
    const service = await options.principals.get(req.service);
    if (service === undefined || !service.allowService) {
      throw new Refused('unknown_service', `${req.service} is not a service of realm ${realm}`, req.nonce);
    }
    const stored = service.keys.find((k) => k.kvno === req.kvno && k.enctype === req.enctype);
    if (stored === undefined) {
      throw new Refused('unknown_key', `${req.service} has no key of kvno ${req.kvno} and enctype ${req.enctype} (kvno held: ${service.kvno}); the web node's keytab is out of date`, req.nonce);
    }
    return options.keys.open(stored, service.name);
  }

  /** The principal a user name maps to, when the domain is this realm (or its NetBIOS name). */
  function principalOf(user: string, domain: string): string | undefined {
    const d = domain.toUpperCase();
    // The NetBIOS form is what NtlmAcceptor's CHALLENGE announces: the first label, at most 15 characters.
    if (d !== '' && d !== realm.toUpperCase() && d !== realm.split('.')[0]!.toUpperCase().slice(0, 15)) return undefined;
    if (user === '' || /[/@\\]/.test(user)) return undefined;
    return `${user}@${realm}`;
  }

  async function validate(service: string, challenge: Uint8Array, authenticate: Uint8Array): Promise<PassThroughOutcome> {
    const message = decodeAuthenticate(authenticate);
    const fields = { user: message.user, domain: message.domain, workstation: message.workstation, service };
    const fail = (status: 'logon_failure' | 'account_restriction', cause: string, principal?: string): PassThroughOutcome => {
      log.emit('ntlm.validation', `NTLM logon of ${message.domain}\\${message.user} for ${service} failed (${cause})`, {
        ...fields, ...(principal === undefined ? {} : { principal }), status: 'failure', cause,
      }, 'warning');
      return { status, cause };
    };
    const name = principalOf(message.user, message.domain);
    const record = name === undefined ? undefined : await options.principals.get(name);
    if (record === undefined) return fail('logon_failure', name === undefined ? 'unknown_domain' : 'unknown_user');
    if (!record.allowNtlm || record.ntlmCredential === undefined) return fail('account_restriction', 'ntlm_not_enabled', record.name);
    const now = clock.now();
    const assessment = gate === undefined ? undefined : await gate.assess(record.name, undefined, now);
    // Windows answers STATUS_ACCOUNT_LOCKED_OUT without checking the password: no guesses while locked.
    if (assessment?.lock !== undefined) return fail('account_restriction', 'account_locked', record.name);
    const ntHash = options.keys.open(record.ntlmCredential, record.name).keyvalue;
    let sessionBaseKey: Uint8Array;
    try {
      ({ sessionBaseKey } = verifyAuthenticateWith({ challenge, authenticate, service }, () => ({ principal: record.name, secret: { ntHash } })));
    } catch (err) {
      if (!(err instanceof NtlmLogonFailureError)) throw err;
      if (gate !== undefined && assessment !== undefined) gate.failed(assessment, now);
      return fail('logon_failure', 'bad_password', record.name);
    }
    // The response is bound (under the user's key) to the service the client meant and to its time: a web node
    // cannot have the KDC host vouch for an AUTHENTICATE that was sent to another service, or an old one.
    const ntlmv2 = message.ntlmv2!;
    const target = ntlmv2.targetInfo.targetName;
    if (target !== undefined && target !== '' && !sameService(target, service)) return fail('logon_failure', 'target_name_mismatch', record.name);
    const sentMs = Number((ntlmv2.timestamp - 116_444_736_000_000_000n) / 10_000n);
    if (Math.abs(now - sentMs) > skew) return fail('logon_failure', 'stale_response', record.name);
    const restricted = restriction(record, now);
    if (restricted !== undefined) return fail('account_restriction', restricted, record.name);
    if (gate !== undefined && assessment !== undefined) gate.succeeded(assessment);
    log.emit('ntlm.validation', `NTLM logon of ${message.domain}\\${message.user} as ${record.name} for ${service}`, {
      ...fields, principal: record.name, status: 'success',
    });
    return { status: 'ok', user: message.user, domain: message.domain, principal: record.name, sessionBaseKey };
  }

  async function handle(bytes: Uint8Array): Promise<Uint8Array> {
    let req: DecodedPassThroughRequest;
    try {
      req = decodePassThroughRequest(bytes);
    } catch (err) {
      const cause: PassThroughRefusal = err instanceof NtlmPassThroughFormatError && 'version' in err.detail ? 'unsupported_version' : 'malformed';
      throw new Refused(cause, err instanceof Error ? err.message : 'malformed request');
    }
    const key = await serviceKey(req);
    let macOk = false;
    try {
      macOk = verifyChecksum(defaultChecksumType(key.enctype), key, PassThroughKeyUsage.REQUEST_HEADER, req.signed, req.mac);
    } catch {
      macOk = false;
    }
    if (!macOk) throw new Refused('wrong_service_key', `the request for ${req.service} is not signed with its key of kvno ${req.kvno} (the web node's keytab holds another key, or the header was altered)`, req.nonce);
    let body: ReturnType<typeof decodeRequestBody>;
    try {
      body = decodeRequestBody(decrypt(key, PassThroughKeyUsage.REQUEST, req.sealed));
    } catch {
      throw new Refused('tampered', `the sealed part of the request for ${req.service} does not verify: altered in transit`, req.nonce);
    }
    if (!bytesEqual(body.nonce, req.nonce)) throw new Refused('tampered', `the sealed part of the request for ${req.service} belongs to another request`, req.nonce);
    const now = clock.now();
    if (Math.abs(now - req.timestamp) > skew) {
      throw new Refused('skew', `the request for ${req.service} is dated ${new Date(req.timestamp).toISOString()}, more than ${skew / 1000} s from the KDC host's clock`, req.nonce);
    }
    let replayed: boolean;
    try {
      replayed = await replay.seen({ client: 'ntlm-passthrough', server: req.service, ctime: req.timestamp, cusec: 0, authenticator: req.nonce }, now);
    } catch (err) {
      throw new Refused('unavailable', err instanceof Error ? err.message : 'replay cache failure', req.nonce);
    }
    if (replayed) throw new Refused('replay', `the request for ${req.service} was already answered (a replay)`, req.nonce);
    let outcome: PassThroughOutcome;
    try {
      outcome = await validate(req.service, body.challenge, body.authenticate);
    } catch (err) {
      // A malformed CHALLENGE/AUTHENTICATE (or an anonymous one) is a logon failure the client can explain.
      const code = (err as { code?: unknown }).code;
      log.emit('ntlm.validation', `NTLM logon for ${req.service} failed: ${err instanceof Error ? err.message : String(err)}`, {
        service: req.service, status: 'failure', cause: typeof code === 'string' ? code : 'error',
      }, 'warning');
      outcome = { status: 'logon_failure', cause: typeof code === 'string' ? code : 'error' };
    }
    try {
      return encodePassThroughReply(req.nonce, encrypt(key, PassThroughKeyUsage.REPLY, encodeOutcome(req.nonce, outcome), random));
    } finally {
      if (outcome.status === 'ok') outcome.sessionBaseKey.fill(0);
    }
  }

  return {
    async handle(bytes, peer) {
      try {
        return await handle(bytes);
      } catch (err) {
        const refused = err instanceof Refused ? err : new Refused('unavailable', err instanceof Error ? err.message : String(err));
        log.emit('ntlm.validation', `NTLM pass-through request refused (${refused.refusal}): ${refused.message}`, {
          status: 'failure', cause: refused.refusal, ...(peer?.address === undefined ? {} : { address: peer.address }),
        }, 'warning');
        return encodePassThroughRefusal(refused.nonce, refused.refusal, refused.message);
      }
    },
    settled: () => gate?.settled() ?? Promise.resolve(),
  };
}

// ---------------------------------------------------------------------------
// client (the web node)

/** Sends one request to the KDC host and resolves with its reply (passthrough-transport.ts over TCP). */
export type PassThroughExchange = (request: Uint8Array) => Promise<Uint8Array>;

export interface PassThroughValidatorOptions {
  /** Where the KDC host answers (`ntlm_listen`), e.g. '127.0.0.1:8891'; or `exchange`. */
  readonly address?: string | { readonly host: string; readonly port: number };
  /** Instead of `address`: the transport (tests, other channels). */
  readonly exchange?: PassThroughExchange;
  /** The web node's keys: its keytab as an AcceptorKeySource, or the keytab's path ('FILE:' optional). The service key authenticates each request. */
  readonly keys: AcceptorKeySource | string;
  /** The web node's principal in the keytab, e.g. 'HTTP/web.example.test@EXAMPLE.TEST'. */
  readonly service: string;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  /** Per-request timeout over TCP (default 10 s). */
  readonly timeoutMs?: number;
}

/** Non-weak enctypes first, newest kvno first (the KDC host holds the current keys). */
function chooseServiceKey(entries: readonly KeytabEntry[], service: string): KeytabEntry | undefined {
  const mine = entries.filter((e) => principalToString(e.principal) === service && isStrong(e.enctype));
  const preference = [18, 20, 17, 19];
  return mine.sort((a, b) => b.kvno - a.kvno || rank(preference, a.enctype) - rank(preference, b.enctype))[0];
}

function isStrong(enctype: number): boolean {
  try {
    getEnctype(enctype);
    return true;
  } catch {
    return false;
  }
}

const rank = (order: readonly number[], e: number): number => (order.includes(e) ? order.indexOf(e) : order.length);

/**
 * An NtlmValidator that asks the KDC host (docs/ntlm.md "Validation"). Logon
 * failures and account restrictions come back as NtlmLogonFailureError /
 * NtlmAccountRestrictionError with the KDC host's cause; anything else (no
 * key in the keytab, refused request, unreachable host, a reply that does not
 * verify) is an NtlmPassThroughError (GSS_S_UNAVAILABLE).
 */
export function passThroughNtlmValidator(options: PassThroughValidatorOptions): NtlmValidator {
  const clock = options.clock ?? systemClock();
  const random = options.random ?? systemRandom();
  const service = options.service;
  const keys: AcceptorKeySource = typeof options.keys === 'string' ? keytabKeys(options.keys, { clock }) : options.keys;
  let exchange = options.exchange;
  const transport = async (): Promise<PassThroughExchange> => {
    if (exchange !== undefined) return exchange;
    if (options.address === undefined) throw new NtlmPassThroughError('passThroughNtlmValidator needs an address or an exchange');
    const { tcpPassThroughExchange } = await import('./passthrough-transport.js');
    exchange = tcpPassThroughExchange(options.address, { clock, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) });
    return exchange;
  };

  async function serviceKey(): Promise<KeytabEntry> {
    let entry = chooseServiceKey(await keys.keys(), service);
    entry ??= chooseServiceKey(await keys.refresh(), service);
    if (entry === undefined) {
      throw new NtlmPassThroughError(`${keys.description} holds no AES key of ${service}, so NTLM logons cannot be passed to the KDC host`, {
        hint: `export the service's keys into the keytab: kerbside keytab export --principal ${service} --out KEYTAB`, detail: { service, cause: 'no_service_key' },
      });
    }
    return entry;
  }

  return {
    async validate(request: NtlmValidationRequest): Promise<NtlmValidationResult> {
      const entry = await serviceKey();
      const key: Key = { enctype: entry.enctype, keyvalue: entry.key };
      const h: PassThroughRequestHeader = { service, kvno: entry.kvno, enctype: entry.enctype, timestamp: clock.now(), nonce: random.bytes(NONCE_LENGTH) };
      const signed = header(h);
      const mac = makeChecksum(defaultChecksumType(key.enctype), key, PassThroughKeyUsage.REQUEST_HEADER, signed);
      const sealed = encrypt(key, PassThroughKeyUsage.REQUEST, encodeRequestBody(h.nonce, request.challenge, request.authenticate), random);
      let replyBytes: Uint8Array;
      try {
        replyBytes = await (await transport())(encodePassThroughRequest(h, mac, sealed));
      } catch (err) {
        if (err instanceof NtlmPassThroughError) throw err;
        throw new NtlmPassThroughError(`the NTLM pass-through server ${describe(options.address)} cannot be reached: ${err instanceof Error ? err.message : String(err)}`, {
          hint: 'check that kerbside kdc runs with ntlm_listen (or --ntlm-listen) at that address', detail: { service, cause: 'unreachable' }, cause: err,
        });
      }
      const reply = decodePassThroughReply(replyBytes);
      if (reply.type === 'refusal') {
        throw new NtlmPassThroughError(`the KDC host refused the NTLM pass-through request of ${service} (${reply.cause}): ${reply.message}`, {
          hint: refusalHint(reply.cause), detail: { service, cause: reply.cause },
        });
      }
      let body: ReturnType<typeof decodeOutcome>;
      try {
        body = decodeOutcome(decrypt(key, PassThroughKeyUsage.REPLY, reply.sealed));
      } catch (err) {
        throw new NtlmPassThroughError(`the NTLM pass-through reply for ${service} does not verify under its service key`, {
          hint: 'the reply was altered in transit, or the KDC host answered with another key', detail: { service, cause: 'tampered_reply' }, cause: err,
        });
      }
      if (!bytesEqual(body.nonce, h.nonce) || !bytesEqual(reply.nonce, h.nonce)) {
        throw new NtlmPassThroughError(`the NTLM pass-through reply for ${service} answers another request`, { detail: { service, cause: 'tampered_reply' } });
      }
      const o = body.outcome;
      if (o.status === 'ok') return { user: o.user, domain: o.domain, principal: o.principal, sessionBaseKey: o.sessionBaseKey };
      const m = decodeAuthenticate(request.authenticate);
      const who = ntlmAccountName(m.user, m.domain);
      const detail = { user: m.user, domain: m.domain, cause: o.cause };
      if (o.status === 'logon_failure') {
        throw new NtlmLogonFailureError(`NTLM logon failed for ${who}: unknown user name or bad password`, {
          hint: 'the KDC host does not know the user, or the password is wrong', detail,
        });
      }
      throw new NtlmAccountRestrictionError(`NTLM logon of ${who} refused by the KDC host: ${o.cause.replaceAll('_', ' ')}`, {
        hint: o.cause === 'ntlm_not_enabled'
          ? 'allow NTLM for the principal (kerbside principal modify NAME --allow-ntlm) and set its password in a realm with ntlm = true'
          : 'see the principal with kerbside principal show NAME', detail,
      });
    },
  };
}

function describe(address: PassThroughValidatorOptions['address']): string {
  return address === undefined ? '(custom exchange)' : typeof address === 'string' ? address : `${address.host}:${address.port}`;
}

function refusalHint(cause: string): string {
  switch (cause) {
    case 'unknown_service': return 'the service principal is not in the realm, or is not a service (kerbside principal modify NAME --allow-svr)';
    case 'unknown_key':
    case 'wrong_service_key': return 'the keytab is out of date: export the current keys again (kerbside keytab)';
    case 'skew': return 'the clocks of the web node and the KDC host differ by more than the skew: synchronize them (NTP)';
    case 'replay': return 'a request was sent twice; if this repeats, something on the path replays traffic';
    case 'tampered': return 'something between the web node and the KDC host altered the request';
    case 'unsupported_version': return 'upgrade the older of the web node and the KDC host';
    default: return 'see the KDC host\'s log (ntlm.validation events)';
  }
}
