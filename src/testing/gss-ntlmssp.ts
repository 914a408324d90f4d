/**
 * gss-ntlmssp (the NTLMSSP GSS-API mechanism for MIT krb5) as a test peer,
 * driven through python3-gssapi by src/testing/gss-ntlmssp.py over
 * stdin/stdout: one process per context, tokens and per-message calls as hex
 * lines. A missing peer fails the test with the Debian packages to install.
 */

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { fromHex, toHex } from '../core/bytes.js';

const PYTHON = '/usr/bin/python3';
const MECH_LIBRARY = '/usr/lib/x86_64-linux-gnu/gssntlmssp/gssntlmssp.so';
// Compiled to dist/src/testing/; the .py file stays in the source tree (dist holds only compiled JS).
const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src', 'testing', 'gss-ntlmssp.py');

/** Throws, naming the packages, unless python3-gssapi and gss-ntlmssp are installed. */
export function requireGssNtlmssp(): void {
  for (const path of [PYTHON, MECH_LIBRARY, SCRIPT]) {
    try {
      accessSync(path, constants.R_OK);
    } catch {
      throw new Error(`${path} not found: install Debian packages gss-ntlmssp and python3-gssapi — .ci/install-peers does this`);
    }
  }
}

/** A credentials file for gss-ntlmssp (NTLM_USER_FILE): lines DOMAIN:user:password. */
export async function ntlmUserFile(accounts: readonly { domain: string; user: string; password: string }[]): Promise<{ path: string; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'kerbside-ntlmssp-'));
  const path = join(dir, 'users');
  await writeFile(path, accounts.map((a) => `${a.domain}:${a.user}:${a.password}\n`).join(''), { mode: 0o600 });
  return { path, close: () => rm(dir, { recursive: true, force: true }) };
}

export interface GssNtlmsspOptions {
  readonly role: 'initiate' | 'accept';
  /** Raw NTLMSSP or SPNEGO (offering NTLM only). */
  readonly mech: 'ntlm' | 'spnego';
  readonly userFile: string;
  /** Initiator: 'EXAMPLE\\alice'. */
  readonly user?: string;
  /** Initiator: host-based service name, 'HTTP@web.example.test'. */
  readonly service?: string;
  /** Channel-binding application data (addresses are left empty, as gss-ntlmssp requires). */
  readonly applicationData?: Uint8Array;
}

/** One gss-ntlmssp context in a child process. */
export class GssNtlmsspPeer {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;
  #stderr = '';

  constructor(options: GssNtlmsspOptions) {
    requireGssNtlmssp();
    const args = [
      SCRIPT, options.role, options.mech, ...(options.role === 'initiate' ? [options.user ?? '', options.service ?? ''] : []),
      ...(options.applicationData === undefined ? [] : [toHex(options.applicationData)]),
    ];
    this.#child = spawn(PYTHON, args, {
      env: { PATH: '/usr/bin:/bin', NTLM_USER_FILE: options.userFile, LANG: 'C.UTF-8' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#child.stderr.on('data', (d: Buffer) => { this.#stderr += d.toString(); });
    this.#lines = createInterface({ input: this.#child.stdout })[Symbol.asyncIterator]();
  }

  /** The next line, split into words; an "error" line or an early exit throws with what the peer said. */
  async next(): Promise<string[]> {
    const r = await this.#lines.next();
    if (r.done === true) throw new Error(`gss-ntlmssp helper exited: ${this.#stderr.trim()}`);
    const words = r.value.split(' ');
    if (words[0] === 'error') throw new Error(`gss-ntlmssp: ${words.slice(1).join(' ')}`);
    return words;
  }

  /** Reads a "token HEX" line, or null when the peer said "complete" (then `peerName` holds the name). */
  async token(): Promise<Uint8Array | null> {
    const w = await this.next();
    if (w[0] === 'complete') {
      this.peerName = w.slice(1).join(' ');
      return null;
    }
    if (w[0] !== 'token') throw new Error(`gss-ntlmssp helper: expected a token, got ${w[0]}`);
    return fromHex(w[1]!);
  }

  peerName: string | undefined;

  send(token: Uint8Array): void {
    this.#child.stdin.write(`token ${toHex(token)}\n`);
  }

  async call(command: 'mic' | 'wrap' | 'unwrap', data: Uint8Array): Promise<Uint8Array> {
    this.#child.stdin.write(`${command} ${toHex(data)}\n`);
    return fromHex((await this.next())[1]!);
  }

  async verify(message: Uint8Array, token: Uint8Array): Promise<void> {
    this.#child.stdin.write(`verify ${toHex(message)} ${toHex(token)}\n`);
    await this.next();
  }

  close(): void {
    this.#child.stdin.end();
    this.#child.kill();
  }
}
