/**
 * The optional session cookie: after one Negotiate handshake the client may
 * present this cookie instead of a new AP-REQ per request. Its value is
 * AES-256-GCM (authenticated encryption: signed and encrypted) of the
 * identity, with the cookie name as associated data. It expires at
 * min(ticket end time, issue time + admin cap) (docs/lessons.md "Sessions",
 * mod_auth_gssapi#316/#73); HttpOnly, SameSite=Lax, Secure on TLS.
 */

import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { asBuffer, concatBytes, fromUtf8, utf8 } from '../core/bytes.js';
import { InvalidArgumentError } from '../core/errors.js';
import type { RandomSource } from '../core/random.js';
import type { NegotiateIdentity } from './acceptor.js';

export interface SessionCookieOptions {
  /** 32-byte AES-256 key shared by the nodes that must accept each other's cookies; default: random per process. */
  readonly key?: Uint8Array;
  /** Cookie name (default 'kerbside_session'). */
  readonly name?: string;
  /** Administrative cap on a session (default 8 hours); a session also ends with the ticket. */
  readonly maxAgeMs?: number;
  /** Cookie Path (default '/'). */
  readonly path?: string;
}

/** The identity as the cookie carries it (no delegated credentials). */
export type CookieIdentity = Omit<NegotiateIdentity, 'delegated'> & { readonly expiresAt: Date };

export type CookieCheck =
  | { readonly ok: true; readonly identity: CookieIdentity }
  | { readonly ok: false; readonly reason: 'malformed' | 'forged-or-other-key' | 'expired' };

const IV_LENGTH = 12;
const TAG_LENGTH = 16;

export class SessionCookies {
  readonly name: string;
  readonly #key: Buffer;
  readonly #maxAgeMs: number;
  readonly #path: string;
  readonly #clock: Clock;
  readonly #random: RandomSource;

  constructor(options: SessionCookieOptions, clock: Clock, random: RandomSource) {
    const key = options.key ?? random.bytes(32);
    if (key.length !== 32) throw new InvalidArgumentError(`the session cookie key must be 32 bytes (AES-256), not ${key.length}`);
    this.name = options.name ?? 'kerbside_session';
    if (!/^[A-Za-z0-9_-]+$/.test(this.name)) throw new InvalidArgumentError(`"${this.name}" is not a valid cookie name`);
    this.#key = Buffer.from(key);
    this.#maxAgeMs = options.maxAgeMs ?? 8 * 3600_000;
    this.#path = options.path ?? '/';
    this.#clock = clock;
    this.#random = random;
  }

  /** The Set-Cookie value for a freshly authenticated identity, or undefined when the ticket is already over. */
  issue(identity: NegotiateIdentity, secure: boolean): string | undefined {
    const now = this.#clock.now();
    const expiresAt = Math.min(identity.ticketEndTime.getTime(), now + this.#maxAgeMs);
    const maxAge = Math.floor((expiresAt - now) / 1000);
    if (maxAge <= 0) return undefined;
    const body = JSON.stringify({
      p: identity.principal, r: identity.realm, m: identity.mechanism, f: identity.flags,
      t: identity.ticketEndTime.getTime(), s: identity.service, e: expiresAt,
    });
    const iv = asBuffer(this.#random.bytes(IV_LENGTH));
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(this.name));
    const sealed = concatBytes(iv, cipher.update(utf8(body)), cipher.final(), cipher.getAuthTag());
    const value = Buffer.from(sealed).toString('base64url');
    return `${this.name}=${value}; Max-Age=${maxAge}; Path=${this.#path}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  }

  /** The cookie's identity from a Cookie header, undefined when the header has none of ours. */
  read(cookieHeader: string | undefined): CookieCheck | undefined {
    const value = cookieValue(cookieHeader, this.name);
    if (value === undefined) return undefined;
    const sealed = Buffer.from(value, 'base64url');
    if (sealed.length < IV_LENGTH + TAG_LENGTH + 2) return { ok: false, reason: 'malformed' };
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, sealed.subarray(0, IV_LENGTH));
      decipher.setAAD(Buffer.from(this.name));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
      plain = Buffer.concat([decipher.update(sealed.subarray(IV_LENGTH, sealed.length - TAG_LENGTH)), decipher.final()]);
    } catch {
      return { ok: false, reason: 'forged-or-other-key' };
    }
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(fromUtf8(plain)) as Record<string, unknown>;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    const { p, r, m, f, t, s, e } = o;
    if (typeof p !== 'string' || typeof r !== 'string' || typeof m !== 'string' || typeof f !== 'number'
      || typeof t !== 'number' || typeof s !== 'string' || typeof e !== 'number') {
      return { ok: false, reason: 'malformed' };
    }
    if (e <= this.#clock.now()) return { ok: false, reason: 'expired' };
    // The package follows from the mechanism ('ntlm', 'spnego/ntlm'; the rest are Kerberos), so the cookie format is unchanged.
    const pkg = /(^|\/)ntlm$/.test(m) ? 'ntlm' : 'kerberos';
    return { ok: true, identity: { principal: p, realm: r, mechanism: m, package: pkg, flags: f, ticketEndTime: new Date(t), service: s, expiresAt: new Date(e) } };
  }

  /** A Set-Cookie value that removes the cookie. */
  clear(secure: boolean): string {
    return `${this.name}=; Max-Age=0; Path=${this.#path}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
