/**
 * Errors of the files module. Format errors carry the byte offset and a stable
 * `reason` so callers (and tests) can tell a truncated file from a wrong
 * version; messages name the file when it is known, never key material.
 */

import { KerbsideError, type KerbsideErrorOptions } from '../core/errors.js';

/** Why a binary file could not be decoded. Stable strings, safe to switch on. */
export type FormatErrorReason =
  | 'truncated'            // the data ends inside a field
  | 'bad-version'          // unknown or unsupported file format version
  | 'length-out-of-range'  // a length or count does not fit in what is left
  | 'record-overrun'       // a keytab entry's fields run past its record length
  | 'bad-value'            // a field has a value the format does not allow
  | 'trailing-data';       // bytes after the last complete structure

interface FormatErrorOptions extends KerbsideErrorOptions {
  readonly offset: number;
  readonly reason: FormatErrorReason;
  readonly file?: string;
}

/** Shared shape of the binary-format errors: where (offset) and why (reason). */
abstract class BinaryFormatError extends KerbsideError {
  readonly offset: number;
  readonly reason: FormatErrorReason;
  readonly file: string | undefined;

  constructor(message: string, options: FormatErrorOptions) {
    super(message, {
      ...options,
      detail: { ...(options.detail ?? {}), offset: options.offset, reason: options.reason, ...(options.file === undefined ? {} : { file: options.file }) },
    });
    this.offset = options.offset;
    this.reason = options.reason;
    this.file = options.file;
  }
}

/** A keytab (MIT FILE format) is malformed. */
export class KeytabFormatError extends BinaryFormatError {
  static override readonly code = 'ERR_KEYTAB_FORMAT';
}

/** A credential cache (MIT FILE format) is malformed or of a version we do not read. */
export class CcacheFormatError extends BinaryFormatError {
  static override readonly code = 'ERR_CCACHE_FORMAT';
}

/** A credential cache or keytab name has a type kerbside does not implement (KEYRING, DIR, MEMORY, KCM…). */
export class UnsupportedStorageTypeError extends KerbsideError {
  static override readonly code = 'ERR_UNSUPPORTED_STORAGE_TYPE';
}

/** A file could not be read or written (missing, permission denied, …). */
export class FileAccessError extends KerbsideError {
  static override readonly code = 'ERR_FILE_ACCESS';
  readonly path: string;
  /** The system error code (ENOENT, EACCES, …) when there is one. */
  readonly errno: string | undefined;

  constructor(message: string, options: KerbsideErrorOptions & { path: string; errno?: string }) {
    super(message, { ...options, detail: { ...(options.detail ?? {}), path: options.path, errno: options.errno } });
    this.path = options.path;
    this.errno = options.errno;
  }
}

/** A profile file (krb5.conf, kdc.conf) does not parse. `file` and `line` point at the problem. */
export class ProfileSyntaxError extends KerbsideError {
  static override readonly code = 'ERR_PROFILE_SYNTAX';
  readonly file: string;
  readonly line: number;
  /** Stable: relation-syntax, section-syntax, section-not-top, extra-close-brace, missing-open-brace, unclosed-brace, include-failed, include-syntax, include-depth, module. */
  readonly reason: string;

  constructor(message: string, options: KerbsideErrorOptions & { file: string; line: number; reason: string }) {
    super(`${options.file}:${options.line}: ${message}`, {
      ...options,
      detail: { ...(options.detail ?? {}), file: options.file, line: options.line, reason: options.reason },
    });
    this.file = options.file;
    this.line = options.line;
    this.reason = options.reason;
  }
}

/** A configuration value is present but cannot be interpreted (bad boolean, duration, number). */
export class ProfileValueError extends KerbsideError {
  static override readonly code = 'ERR_PROFILE_VALUE';
}

/** Context for errors raised while decoding a named file. */
export function withFile<E extends BinaryFormatError>(err: E, file: string): Error {
  const ctor = err.constructor as new (message: string, options: FormatErrorOptions) => E;
  return new ctor(`${file}: ${err.message}`, {
    offset: err.offset, reason: err.reason, file, cause: err,
    ...(err.hint === undefined ? {} : { hint: err.hint }),
  });
}

export type { BinaryFormatError };
