/** Stored passwords: sealed with AES-256-GCM under the host key, bound to the task name, the key file 0600. */

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../core/random.js';
import { HOST_KEY_FILE, SecretUnavailableError, loadHostKey, secretBox } from './index.js';

let dir: string | undefined;
after(async () => { if (dir !== undefined) await rm(dir, { recursive: true, force: true }); });

test('seal/open round-trips; another task name, a changed byte or another key do not open; no plaintext in the sealed form', async () => {
  dir = await mkdtemp(join(tmpdir(), 'kerbside-sched-secrets-'));
  const random = seededRandom(5);
  const key = await loadHostKey(dir, random);
  assert.equal(key.length, 32);
  assert.equal((await stat(join(dir, HOST_KEY_FILE))).mode & 0o777, 0o600);
  assert.deepEqual(await loadHostKey(dir, random), key, 'the key is kept');
  const box = secretBox(key, random);
  const sealed = box.seal('backup', 'correct horse battery');
  assert.doesNotMatch(sealed, /horse/);
  assert.notEqual(box.seal('backup', 'correct horse battery'), sealed, 'a fresh IV each time');
  assert.equal(box.open('backup', sealed), 'correct horse battery');
  assert.throws(() => box.open('other-task', sealed), SecretUnavailableError);
  const raw = Buffer.from(sealed.slice(3), 'base64');
  raw[raw.length - 1] = raw[raw.length - 1]! ^ 1;
  assert.throws(() => box.open('backup', `v1:${raw.toString('base64')}`), SecretUnavailableError);
  assert.throws(() => secretBox(seededRandom(9).bytes(32), random).open('backup', sealed), (err: unknown) => err instanceof SecretUnavailableError && !/horse/.test(String(err)));
  // A key others can read is refused.
  await chmod(join(dir, HOST_KEY_FILE), 0o644);
  await assert.rejects(loadHostKey(dir, random), /can be read by other users/);
  assert.equal((await readFile(join(dir, HOST_KEY_FILE))).length, 32);
});
