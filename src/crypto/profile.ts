/**
 * The shape of an enctype and of a checksum type: public, frozen data about
 * the algorithm (sizes, names, defaults) and, internally, the few RFC 3961 §3
 * operations each family implements over raw key bytes. Policy (weak
 * enctypes), argument checks and error messages live in the public functions,
 * so the families stay small and pure.
 */

/** What callers may read about an enctype (RFC 3961 §3 parameters). */
export interface EnctypeProfile {
  readonly enctype: number;
  /** MIT name, as in krb5.conf and `klist -e`. */
  readonly name: string;
  /** Other names MIT accepts for it. */
  readonly aliases: readonly string[];
  /** Where it is specified, e.g. 'RFC 3962'. */
  readonly spec: string;
  /** Length of a protocol key (EncryptionKey.keyvalue). */
  readonly keyBytes: number;
  /** Length of the random input random-to-key needs (the key-generation seed length k). */
  readonly keySeedBytes: number;
  /** Cipher block size c (1 for a stream cipher). */
  readonly blockSize: number;
  /** Confounder prepended to every plaintext. */
  readonly confounderSize: number;
  /** Integrity check appended (prepended for RC4) to every ciphertext. */
  readonly macSize: number;
  /** Output length of `prf`. */
  readonly prfSize: number;
  /** PBKDF2 iterations when s2kparams are absent; absent for non-PBKDF2 enctypes. */
  readonly defaultIterations?: number;
  /** The checksum type keyed with this enctype's keys by default. */
  readonly checksumType: number;
  /** Deprecated and only usable with `{ allowWeak: true }` (RC4, RFC 8429). */
  readonly weak: boolean;
}

/** What callers may read about a checksum type. */
export interface ChecksumProfile {
  readonly cksumtype: number;
  /** MIT name. */
  readonly name: string;
  readonly spec: string;
  /** Length of the checksum value. */
  readonly macSize: number;
  /** The enctype whose keys it is keyed with; absent when any key fits (hmac-md5). */
  readonly enctype?: number;
  readonly weak: boolean;
}

/** RFC 3961 §3 operations of one enctype, over raw key bytes of the right length. */
export interface EnctypeOps {
  stringToKey(password: Uint8Array, salt: Uint8Array, params: Uint8Array | undefined): Promise<Uint8Array>;
  randomToKey(seed: Uint8Array): Uint8Array;
  encrypt(key: Uint8Array, usage: number, confounder: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** The plaintext, or undefined when the integrity check fails. Input is at least confounder + MAC long. */
  decrypt(key: Uint8Array, usage: number, ciphertext: Uint8Array): Uint8Array | undefined;
  prf(key: Uint8Array, input: Uint8Array): Uint8Array;
}

/** The one operation of a keyed checksum type. */
export type ChecksumFunction = (key: Uint8Array, usage: number, data: Uint8Array) => Uint8Array;
