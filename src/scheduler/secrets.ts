/**
 * Stored passwords, encrypted at rest (docs/scheduler.md "Stored
 * passwords"): AES-256-GCM under a host key kept in the scheduler's folder
 * (`host.key`, 32 random bytes, mode 0600), with the task name as associated
 * data so a sealed password copied onto another task's row does not open.
 * Sealed form: "v1:" + base64(iv ‖ tag ‖ ciphertext). The plaintext never
 * leaves this module except to the logon that needs it.
 */

import { createCipheriv, createDecipheriv } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RandomSource } from '../core/random.js';
import { readFileIfExists, writeFileAtomic } from '../files/index.js';
import { SecretUnavailableError } from './errors.js';

export const HOST_KEY_FILE = 'host.key';

export interface SecretBox {
  seal(task: string, plaintext: string): string;
  open(task: string, sealed: string): string;
}

/** The host key of `dir`, created on first use; refused when others may read it. */
export async function loadHostKey(dir: string, random: RandomSource): Promise<Uint8Array> {
  const path = join(dir, HOST_KEY_FILE);
  let key = await readFileIfExists(path, 'scheduler host key');
  if (key === undefined) {
    await writeFileAtomic(path, random.bytes(32), 'scheduler host key', 0o600);
    key = await readFileIfExists(path, 'scheduler host key');
  } else {
    const mode = (await stat(path)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new SecretUnavailableError(`the scheduler host key ${path} can be read by other users (mode ${mode.toString(8)})`, {
        hint: `chmod 600 ${path}; the stored passwords of its tasks should be considered exposed and set again`, detail: { path },
      });
    }
  }
  if (key === undefined || key.length !== 32) {
    throw new SecretUnavailableError(`the scheduler host key ${path} is not a 32-byte key`, { hint: 'restore it from a backup, or remove it and store every task password again', detail: { path } });
  }
  return key;
}

export function secretBox(key: Uint8Array, random: RandomSource): SecretBox {
  const aad = (task: string) => Buffer.from(`kerbside-scheduler-task:${task}`, 'utf8');
  return {
    seal(task, plaintext) {
      const iv = random.bytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      c.setAAD(aad(task));
      const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
      return `v1:${Buffer.concat([iv, c.getAuthTag(), body]).toString('base64')}`;
    },
    open(task, sealed) {
      if (!sealed.startsWith('v1:')) throw new SecretUnavailableError(`the stored password of task "${task}" is in an unknown format`);
      const raw = Buffer.from(sealed.slice(3), 'base64');
      try {
        const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        d.setAAD(aad(task));
        d.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
      } catch (err) {
        throw new SecretUnavailableError(`the stored password of task "${task}" cannot be decrypted with this host's key`, {
          hint: 'the host key changed or the row was altered; store the password again with kerbside task modify NAME --password-file FILE',
          detail: { task }, cause: err,
        });
      }
    },
  };
}
