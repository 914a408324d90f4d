/**
 * Cross-check against real MIT krb5 (1.20): ktutil derives keys from a
 * password with the principal's default salt; `klist -k -K -e` prints them.
 * Every enctype kerbside implements must give the same key bytes.
 */

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../core/bytes.js';
import { defaultSalt, enctypeName, stringToKey } from './index.js';

const REALM = 'EXAMPLE.ORG';
const COMPONENTS = ['HTTP', 'www.example.org'];
const PRINCIPAL = `${COMPONENTS.join('/')}@${REALM}`;
const PASSWORDS = ['correct horse battery staple', 'Grüße, 密码 ✓ 𝄞'] as const;
const ENCTYPES = [17, 18, 19, 20, 23] as const;

let dir = '';
let env: NodeJS.ProcessEnv = {};

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kerbside-ktutil-'));
  const conf = join(dir, 'krb5.conf');
  writeFileSync(conf, `[libdefaults]\n  default_realm = ${REALM}\n`);
  env = { ...process.env, KRB5_CONFIG: conf, KRB5_TRACE: '' };
});

after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

function run(command: string, args: readonly string[], input: string): string {
  const r = spawnSync(command, args, { input, env, encoding: 'utf8', timeout: 60_000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    assert.fail(`${command} not found: install krb5-user (MIT Kerberos clients)`);
  }
  if (r.error !== undefined) throw r.error;
  assert.equal(r.status, 0, `${command} failed: ${r.stderr}`);
  return r.stdout;
}

test('MIT ktutil string-to-key matches stringToKey with the default salt for every enctype', async () => {
  const keytab = join(dir, 'cross.keytab');
  let script = '';
  PASSWORDS.forEach((password, i) => {
    for (const n of ENCTYPES) script += `addent -password -p ${PRINCIPAL} -k ${i + 1} -e ${enctypeName(n)}\n${password}\n`;
  });
  run('ktutil', [], `${script}wkt ${keytab}\nquit\n`);
  const listing = run('klist', ['-k', '-K', '-e', keytab], '');

  // "   1 HTTP/www.example.org@EXAMPLE.ORG (aes256-cts-hmac-sha1-96)  (0x…)"; MIT 1.20 prefixes rc4 with DEPRECATED:.
  const mit = new Map<string, string>();
  for (const m of listing.matchAll(/^\s*(\d+)\s+\S+\s+\((?:DEPRECATED:)?([\w-]+)\)\s+\(0x([0-9a-f]+)\)/gm)) {
    mit.set(`${m[1]}/${m[2]}`, m[3]!);
  }
  assert.equal(mit.size, PASSWORDS.length * ENCTYPES.length, `unexpected klist output:\n${listing}`);

  const salt = defaultSalt(REALM, COMPONENTS);
  for (const [i, password] of PASSWORDS.entries()) {
    for (const n of ENCTYPES) {
      const ours = await stringToKey(n, password, salt, undefined, { allowWeak: true });
      assert.equal(toHex(ours.keyvalue), mit.get(`${i + 1}/${enctypeName(n)}`), `${enctypeName(n)}, password ${i + 1}`);
    }
  }
});
