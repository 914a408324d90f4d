/**
 * Smart-card logon end to end (issue 10 acceptance, docs/pkinit.md):
 * `kerbside ca init` makes the realm CA and turns PKINIT on in kdc.conf,
 * `kerbside smartcard enroll` puts a key pair (generated on the token) and
 * its certificate on a SoftHSM2 token, and MIT kinit -X
 * X509_user_identity=PKCS11:… gets a TGT from `kerbside kdc` with the PIN;
 * klist shows it (pa_type 16), kvno uses it. A wrong PIN and a revoked
 * certificate fail; `kerbside ca issue` makes a FILE identity.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../core/clock.js';
import { clientKrb5Conf } from '../files/index.js';
import { runCli, runCliInProcess, spawnCli, type CliProcess } from '../testing/kerbside-cli.js';
import { baseEnvironment, mitTool, parseKlistCache, runProgram } from '../testing/mit-tools.js';
import { createSoftHsmToken } from '../testing/softhsm.js';

const REALM = 'EXAMPLE.TEST';
const PIN = '246810';

test('kerbside ca + smartcard enroll + kerbside kdc: MIT kinit with a SoftHSM2 smart card gets a TGT; wrong PIN and revoked certificate fail', { timeout: 120_000 }, async () => {
  const work = await mkdtemp(join(tmpdir(), 'kerbside-pkinit-cli-'));
  const dir = join(work, 'realm');
  let kdc: CliProcess | undefined;
  try {
    const init = await runCliInProcess(['realm', 'init', '--realm', REALM, '--dir', dir, '--admin-password', 'admin-pw-1']);
    assert.equal(init.code, 0, init.stderr);
    for (const args of [['principal', 'add', 'alice', '--password', 'alice-pw-1'], ['principal', 'add', 'HTTP/localhost', '--randkey']]) {
      const r = await runCliInProcess([...args, '--dir', dir]);
      assert.equal(r.code, 0, r.stderr);
    }
    const ca = await runCliInProcess(['ca', 'init', '--dir', dir]);
    assert.equal(ca.code, 0, ca.stderr);
    assert.match(ca.stdout, /pkinit_anchors = FILE:.*ca\.pem/);
    assert.equal((await stat(join(dir, 'pkinit', 'ca.key'))).mode & 0o777, 0o600);
    assert.match(await readFile(join(dir, 'kdc.conf'), 'utf8'), /pkinit_identity = FILE:pkinit\/kdc\.pem,pkinit\/kdc\.key/);

    // Principal attributes for smart-card logon.
    const bad = await runCliInProcess(['principal', 'modify', 'alice', '--certificate-map', 'CN=alice', '--dir', dir]);
    assert.equal(bad.code, 2, bad.stderr);
    const map = 'X509:<I>CN=EXAMPLE.TEST Kerberos CA,O=EXAMPLE.TEST<SR>0a0b';
    assert.equal((await runCliInProcess(['principal', 'modify', 'alice', '--certificate-map', map, '--dir', dir])).code, 0);
    const shown = await runCliInProcess(['principal', 'show', 'alice', '--dir', dir]);
    assert.ok(shown.stdout.includes(`Certificate mapping: ${map}`), shown.stdout);
    assert.equal((await runCliInProcess(['principal', 'modify', 'alice', '--no-certificate-map', '--dir', dir])).code, 0);

    // The card: a SoftHSM2 token; enroll runs as its own process (SoftHSM reads SOFTHSM2_CONF when loaded).
    const card = await createSoftHsmToken({ dir: join(work, 'hsm'), label: 'alice-card', pin: PIN, soPin: '13579135' });
    await writeFile(join(work, 'pin'), `${PIN}\n`, { mode: 0o600 });
    const enroll = await runCli(['smartcard', 'enroll', 'alice', '--module', card.module, '--slot', String(card.slot), '--pin-file', join(work, 'pin'), '--id', 'a11ce0', '--dir', dir], { env: card.env });
    assert.equal(enroll.code, 0, enroll.stderr);
    assert.match(enroll.stdout, /certid=a11ce0 alice@EXAMPLE\.TEST/);
    assert.ok(!enroll.stdout.includes(PIN) && !enroll.stderr.includes(PIN));

    kdc = spawnCli(['kdc', '--dir', dir, '--listen', '127.0.0.1:0']);
    const port = Number((await kdc.waitFor(/ready on udp 127\.0\.0\.1:(\d+)/))[1]);
    assert.match(kdc.stderr(), /info kdc\.config: PKINIT on: KDC certificate .*kdc\.pem, 1 trust anchor\(s\), 1 CRL\(s\), DH from 2048 bits/);
    const conf = join(work, 'krb5.conf');
    await writeFile(conf, clientKrb5Conf({ realm: REALM, kdc: `127.0.0.1:${port}`, libdefaults: { pkinit_anchors: `FILE:${join(dir, 'pkinit', 'ca.pem')}` } }));
    const mit = (tool: 'kinit' | 'klist' | 'kvno', args: readonly string[], input = '') => runProgram(mitTool(tool), args, {
      env: { ...baseEnvironment(), ...card.env, KRB5_CONFIG: conf, KRB5CCNAME: `FILE:${join(work, 'cc')}`, KRB5RCACHEDIR: work }, input,
    });
    const identity = `X509_user_identity=PKCS11:module_name=${card.module}:slotid=${card.slot}:certid=a11ce0`;

    const ok = await mit('kinit', ['-X', identity, `alice@${REALM}`], `${PIN}\n`);
    assert.equal(ok.code, 0, `${ok.stderr}\n${kdc.stderr().slice(-3000)}`);
    const list = parseKlistCache((await mit('klist', ['-e', '-f', '-C'])).stdout);
    assert.equal(list.defaultPrincipal, `alice@${REALM}`);
    assert.ok(list.config.some((l) => /pa_type\(krbtgt\/EXAMPLE\.TEST@EXAMPLE\.TEST\) = 16/.test(l)), list.config.join('\n'));
    assert.equal((await mit('kvno', [`HTTP/localhost@${REALM}`])).code, 0);
    assert.match(kdc.stderr(), /AS client=alice@EXAMPLE\.TEST service=krbtgt\/EXAMPLE\.TEST@EXAMPLE\.TEST result=issued/);

    // kerbside's own client against kerbside's KDC: the same card (MODP 2048), then a FILE identity over ECDH P-256.
    const ours = await runCli(['kinit', '-X', identity, `alice@${REALM}`], {
      env: { ...card.env, KRB5_CONFIG: conf, KRB5CCNAME: `FILE:${join(work, 'cc-ours')}` }, input: `${PIN}\n`,
    });
    assert.equal(ours.code, 0, ours.stderr);
    const ourList = parseKlistCache((await runProgram(mitTool('klist'), ['-C', '-c', `FILE:${join(work, 'cc-ours')}`], { env: baseEnvironment() })).stdout);
    assert.equal(ourList.defaultPrincipal, `alice@${REALM}`);
    assert.ok(ourList.config.some((l) => /pa_type.* = 16/.test(l)), ourList.config.join('\n'));

    // Wrong PIN: the token refuses the login, so MIT has no certificate to offer.
    // With alice --requires-pkinit MIT cannot fall back to her password (else it prompts for it after the card fails).
    assert.equal((await runCliInProcess(['principal', 'modify', 'alice', '--requires-pkinit', '--dir', dir])).code, 0);
    await systemClock().sleep(1500); // the KDC sees database changes within one poll interval
    const wrong = await mit('kinit', ['-X', identity, `alice@${REALM}`], '000000\n\n');
    assert.match(wrong.stderr, /Preauthentication failed/, 'MIT: the card would not log in, so no PKINIT request could be made');
    assert.notEqual(wrong.code, 0);
    assert.ok(!kdc.stderr().includes(PIN) && !kdc.stderr().includes('000000'), 'no PIN in the KDC log');

    // A FILE identity from kerbside ca issue, then revoked.
    const issued = await runCliInProcess(['ca', 'issue', 'alice', '--dir', dir, '--out-cert', join(work, 'alice.pem'), '--out-key', join(work, 'alice.key')]);
    assert.equal(issued.code, 0, issued.stderr);
    const serial = /serial ([0-9a-f]+)/.exec(issued.stdout)![1]!;
    const file = `X509_user_identity=FILE:${join(work, 'alice.pem')},${join(work, 'alice.key')}`;
    assert.equal((await mit('kinit', ['-X', file, `alice@${REALM}`])).code, 0);
    const ecConf = join(work, 'krb5-ec.conf');
    await writeFile(ecConf, clientKrb5Conf({ realm: REALM, kdc: `127.0.0.1:${port}`, libdefaults: { pkinit_anchors: `FILE:${join(dir, 'pkinit', 'ca.pem')}`, pkinit_dh_min_bits: 'P-256' } }));
    const ec = await runCli(['kinit', '-X', file, `alice@${REALM}`], { env: { KRB5_CONFIG: ecConf, KRB5CCNAME: `FILE:${join(work, 'cc-ec')}` } });
    assert.equal(ec.code, 0, ec.stderr);
    const revoke = await runCliInProcess(['ca', 'revoke', serial, '--dir', dir]);
    assert.equal(revoke.code, 0, revoke.stderr);
    await kdc.stop();
    kdc = spawnCli(['kdc', '--dir', dir, '--listen', `127.0.0.1:${port}`]);
    await kdc.waitFor(/ready on/);
    const refused = await mit('kinit', ['-X', file, `alice@${REALM}`], '\n');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /kinit: Revoked certificate while getting initial credentials/, 'MIT names the RFC 4556 error');
    assert.match(kdc.stderr(), new RegExp(`result=KDC_ERR_REVOKED_CERTIFICATE .*serial ${serial}`));
  } finally {
    await kdc?.stop('SIGKILL');
    await rm(work, { recursive: true, force: true });
  }
});
