/**
 * The error base class every kerbside failure derives from.
 *
 * Errors carry a stable string `code` callers can `switch` on, optionally the
 * Kerberos protocol error code (RFC 4120 §7.5.9) and a hint in words about the
 * likely cause and fix. A brand from `Symbol.for` keeps `instanceof` working
 * when two copies of kerbside are loaded (the undici pattern).
 *
 * Never put a password, key, PIN or session key into a message, hint or detail.
 */

const BRAND = Symbol.for('kerbside.error');

export interface KerbsideErrorOptions {
  /** Kerberos error code (KRB-ERROR error-code) when the failure has one. */
  readonly krbCode?: number;
  /** The likely cause and fix, in words. */
  readonly hint?: string;
  /** Structured, non-secret context: principal, service, enctype, offset… */
  readonly detail?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

export class KerbsideError extends Error {
  static readonly code: string = 'ERR_KERBSIDE';
  readonly code: string;
  readonly krbCode: number | undefined;
  readonly hint: string | undefined;
  readonly detail: Readonly<Record<string, unknown>>;

  constructor(message: string, options: KerbsideErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = (new.target as typeof KerbsideError).code;
    this.krbCode = options.krbCode;
    this.hint = options.hint;
    this.detail = Object.freeze({ ...(options.detail ?? {}) });
  }

  get [BRAND](): true {
    return true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    if (!(BRAND in value)) return false;
    // Subclasses match by their code (stable across copies), the base by brand.
    if (this === KerbsideError) return true;
    return (value as { code?: unknown }).code === this.code
      || Function.prototype[Symbol.hasInstance].call(this, value);
  }

  /** The message followed by the hint, for people reading a terminal or log. */
  explain(): string {
    return this.hint === undefined ? this.message : `${this.message}\n  hint: ${this.hint}`;
  }
}

/** A caller passed an argument kerbside cannot use (wrong type, out of range). */
export class InvalidArgumentError extends KerbsideError {
  static override readonly code: string = 'ERR_INVALID_ARGUMENT';
}
