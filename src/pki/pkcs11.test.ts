/**
 * PKCS#11 token access against a real SoftHSM2 (Debian package softhsm2),
 * with OpenSC's pkcs11-tool (package opensc) as the peer that must find the
 * objects kerbside writes, and MIT kinit (krb5-user, krb5-pkinit) logging in
 * with them through its pkinit_pkcs11 code against an MIT KDC.
 *
 * SoftHSM runs inside this process (pkcs11js loads it), so the whole file uses
 * one SoftHSM directory, configured before the first openToken.
 */

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KerbsideError } from '../core/errors.js';
import {
  loadPkcs11Binding, openToken, pkcs11ErrorFromCkr, Pkcs11TokenFlag,
} from './pkcs11.js';
import {
  NotLoggedInError, PinIncorrectError, PinLockedError, Pkcs11Error, Pkcs11ModuleError, Pkcs11ObjectNotFoundError,
  Pkcs11UnavailableError, TokenNotPresentError, TokenRemovedError,
} from './pkcs11-errors.js';
import { createSoftHsmToken, SOFTHSM_MODULE, softHsmEnvironment, useSoftHsmConfig } from '../testing/softhsm.js';
import type { SoftHsmToken } from '../testing/softhsm.js';
import { checkRun, requireTool, runProgram } from '../testing/mit-tools.js';
import { startMitRealm } from '../testing/mit-realm.js';

const PIN = '314159';
const SO_PIN = '27182818';
const WRONG_PIN = '999111';

let dir = '';
let alice: SoftHsmToken;
let bob: SoftHsmToken;
let carol: SoftHsmToken;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kerbside-pkcs11-'));
  useSoftHsmConfig(dir);
  // Both tokens exist before SoftHSM is first initialised in this process.
  alice = await createSoftHsmToken({ dir, label: 'kerbside-alice', pin: PIN, soPin: SO_PIN });
  bob = await createSoftHsmToken({ dir, label: 'kerbside-bob', pin: PIN, soPin: SO_PIN });
  carol = await createSoftHsmToken({ dir, label: 'kerbside-carol', pin: PIN, soPin: SO_PIN });
});

after(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

let ca: Promise<{ key: string; cert: string }> | undefined;

/** A software CA made once per file by the openssl CLI (tests draw no randomness themselves). */
function testCa(): Promise<{ key: string; cert: string }> {
  ca ??= (async () => {
    const key = join(dir, 'ca.key');
    const cert = join(dir, 'ca.pem');
    checkRun('openssl req', await runProgram(requireTool('openssl', 'openssl'), [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
      '-subj', '/O=KERBSIDE.TEST/CN=kerbside test CA', '-days', '3650',
    ], { env: softHsmEnvironment(dir) }));
    return { key, cert };
  })();
  return ca;
}

/**
 * A certificate for `spki` (the token's public key) issued by the test CA with
 * openssl, optionally with extensions from an openssl config section.
 */
async function issueCertificate(
  spki: Uint8Array, subject: string, serialHex: string, ext?: { readonly config: string; readonly section: string },
): Promise<Uint8Array> {
  const { key: caKey, cert: caCert } = await testCa();
  const pub = join(dir, `pub-${serialHex}.pem`);
  const out = join(dir, `cert-${serialHex}.der`);
  await writeFile(pub, createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }));
  const extArgs: string[] = [];
  if (ext !== undefined) {
    const path = join(dir, `ext-${serialHex}.cnf`);
    await writeFile(path, ext.config);
    extArgs.push('-extfile', path, '-extensions', ext.section);
  }
  checkRun('openssl x509 -new', await runProgram(requireTool('openssl', 'openssl'), [
    'x509', '-new', '-force_pubkey', pub, '-subj', subject, '-CA', caCert, '-CAkey', caKey,
    '-set_serial', `0x${serialHex}`, '-days', '365', '-sha256', ...extArgs, '-outform', 'DER', '-out', out,
  ], { env: softHsmEnvironment(dir) }));
  return new Uint8Array(await readFile(out));
}

function pkcs11Tool(token: SoftHsmToken, args: readonly string[]): Promise<string> {
  const tool = requireTool('pkcs11-tool', 'opensc');
  return runProgram(tool, ['--module', token.module, '--slot', String(token.slot), ...args], { env: softHsmEnvironment(dir) })
    .then((r) => checkRun(`pkcs11-tool ${args.join(' ')}`, r).stdout);
}

const ID = new Uint8Array([0x4b, 0x01]);

test('a key pair generated on the token signs; node:crypto verifies; pkcs11-tool finds key and certificate under one ID', async () => {
  const token = await openToken({ module: alice.module, slot: alice.slot });
  try {
    assert.equal(token.slot, alice.slot);
    assert.equal(token.label, 'kerbside-alice');
    const info = await token.info();
    assert.equal(info.label, 'kerbside-alice');
    assert.equal(info.manufacturer, 'SoftHSM project');
    assert.match(info.serial, /^[0-9a-f]{16}$/);
    assert.equal(info.loginRequired, true);
    assert.equal(info.userPinLocked, false);

    await token.login(PIN);
    const spki = await token.generateRsaKeyPair({ id: ID, label: 'alice', bits: 2048 });
    const pub = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    assert.equal(pub.asymmetricKeyType, 'rsa');
    assert.equal(pub.asymmetricKeyDetails?.modulusLength, 2048);
    assert.equal(pub.asymmetricKeyDetails?.publicExponent, 65537n);

    const der = await issueCertificate(spki, '/O=KERBSIDE.TEST/CN=alice', '0a1b2c');
    await token.writeCertificate({ id: ID, label: 'alice', der });
    const certs = await token.certificates();
    assert.equal(certs.length, 1);
    assert.deepEqual(certs[0], { id: ID, label: 'alice', der });

    const signer = await token.signer({ id: ID });
    assert.equal(signer.algorithm, 'rsa-sha256');
    assert.deepEqual(signer.certificate, der);
    const data = new TextEncoder().encode('AuthPack bytes to be signed (RFC 4556 §3.2.1)');
    const sig = await signer.sign(data);
    assert.equal(sig.length, 256);
    assert.equal(verify('sha256', data, pub, sig), true);
    assert.equal(verify('sha256', new TextEncoder().encode('other'), pub, sig), false);
    // Two signatures queued at once share the session one after the other.
    const [s1, s2] = await Promise.all([signer.sign(data), signer.sign(new Uint8Array([1, 2, 3]))]);
    assert.deepEqual(s1, sig); // RSASSA-PKCS1-v1_5 is deterministic
    assert.equal(verify('sha256', new Uint8Array([1, 2, 3]), pub, s2!), true);

    // The peer: OpenSC lists the private key and the certificate with the same ID,
    // with the attributes it reads from CKA_SUBJECT and the key's flags.
    const listing = await pkcs11Tool(alice, ['--login', '--pin', PIN, '-O']);
    const objects = listing.split(/\n(?=\S)/);
    const key = objects.find((o) => o.startsWith('Private Key Object; RSA'));
    const cert = objects.find((o) => o.startsWith('Certificate Object; type = X.509 cert'));
    assert.ok(key, listing);
    assert.ok(cert, listing);
    assert.match(key, /ID:\s+4b01/);
    assert.match(key, /label:\s+alice/);
    assert.match(key, /Usage:.*sign/);
    assert.match(key, /Access:.*sensitive.*never extractable/);
    assert.match(cert, /ID:\s+4b01/);
    assert.match(cert, /subject:\s+DN: O=KERBSIDE\.TEST, CN=alice/);
    assert.match(cert, /serial:\s+0A1B2C/);
  } finally {
    await token.close();
  }
});

test('token info and certificates by label need no login; the signer needs one', async () => {
  const token = await openToken({ module: alice.module, tokenLabel: 'kerbside-alice' });
  try {
    assert.equal(token.slot, alice.slot);
    const certs = await token.certificates();
    assert.equal(certs.length, 1);
    await assert.rejects(token.signer({ id: ID }), (err: unknown) => {
      assert.ok(err instanceof Pkcs11ObjectNotFoundError);
      assert.match(err.message, /no private key with id 4b01 on token "kerbside-alice"/);
      assert.match(err.hint ?? '', /login/);
      return true;
    });
    await assert.rejects(token.generateRsaKeyPair({ id: new Uint8Array([9]), label: 'x', bits: 1024 }),
      (err: unknown) => err instanceof NotLoggedInError && err.detail['ckr'] === 'CKR_USER_NOT_LOGGED_IN');
    await token.login(PIN);
    const signer = await token.signer({ id: ID });
    await assert.rejects(token.signer({ id: new Uint8Array([0xee]) }), Pkcs11ObjectNotFoundError);
    assert.equal(signer.certificate.length, certs[0]!.der.length);
  } finally {
    await token.close();
  }
});

test('a wrong PIN is PinIncorrectError naming the token, never the PIN; SoftHSM2 counts failures but never locks', async () => {
  const token = await openToken({ module: bob.module, slot: bob.slot });
  try {
    for (let i = 0; i < 12; i++) {
      await assert.rejects(token.login(WRONG_PIN), (err: unknown) => {
        assert.ok(err instanceof PinIncorrectError);
        assert.ok(err instanceof KerbsideError);
        assert.equal(err.code, 'ERR_PKCS11_PIN_INCORRECT');
        assert.match(err.message, /token "kerbside-bob" \(slot \d+\)/);
        assert.equal(err.detail['ckr'], 'CKR_PIN_INCORRECT');
        const everything = `${err.explain()} ${JSON.stringify(err.detail)} ${err.stack ?? ''}`;
        assert.ok(!everything.includes(WRONG_PIN), 'the PIN must not appear in the error');
        assert.ok(!everything.includes(PIN));
        return true;
      });
    }
    const info = await token.info();
    // SoftHSM2 2.6 raises CKF_USER_PIN_COUNT_LOW after a failure but has no
    // retry limit: CKR_PIN_LOCKED is tested by mapping below.
    assert.equal(info.userPinCountLow, true);
    assert.equal(info.userPinLocked, false);
    assert.equal((info.flags & Pkcs11TokenFlag.USER_PIN_LOCKED), 0);
    await token.login(PIN);
  } finally {
    await token.close();
  }
});

test('CKR_* codes map to typed errors (CKR_PIN_LOCKED cannot be provoked on SoftHSM2)', () => {
  const ctx = { module: 'm.so', slot: 7, tokenLabel: 'card' };
  const locked = pkcs11ErrorFromCkr('CKR_PIN_LOCKED', 'logging in on token "card" (slot 7)', ctx);
  assert.ok(locked instanceof PinLockedError);
  assert.equal(locked.code, 'ERR_PKCS11_PIN_LOCKED');
  assert.match(locked.message, /token "card" \(slot 7\).*blocked/);
  assert.match(locked.hint ?? '', /unblock/);
  for (const ckr of ['CKR_DEVICE_REMOVED', 'CKR_SESSION_HANDLE_INVALID', 'CKR_TOKEN_NOT_PRESENT', 'CKR_SESSION_CLOSED']) {
    const e = pkcs11ErrorFromCkr(ckr, 'signing', ctx);
    assert.ok(e instanceof TokenRemovedError, ckr);
    assert.equal(e.code, 'ERR_PKCS11_TOKEN_REMOVED');
    assert.equal(e.detail['ckr'], ckr);
  }
  assert.ok(pkcs11ErrorFromCkr('CKR_PIN_INCORRECT', 'x', ctx) instanceof PinIncorrectError);
  assert.ok(pkcs11ErrorFromCkr('CKR_USER_NOT_LOGGED_IN', 'x', ctx) instanceof NotLoggedInError);
  assert.ok(pkcs11ErrorFromCkr('CKR_SLOT_ID_INVALID', 'x', ctx) instanceof TokenNotPresentError);
  const other = pkcs11ErrorFromCkr('CKR_MECHANISM_INVALID', 'x', ctx);
  assert.equal(other.code, 'ERR_PKCS11');
  assert.ok(other instanceof Pkcs11Error);
  assert.ok(locked instanceof Pkcs11Error && locked instanceof KerbsideError);
  assert.ok(!(other instanceof TokenRemovedError));
});

test('a missing slot or token label is TokenNotPresentError', async () => {
  await assert.rejects(openToken({ module: alice.module, slot: 4242 }), (err: unknown) => {
    assert.ok(err instanceof TokenNotPresentError);
    assert.match(err.message, /no slot 4242 in \/usr\/lib\/softhsm\/libsofthsm2\.so/);
    assert.match(err.hint ?? '', /pkcs11-tool/);
    return true;
  });
  await assert.rejects(openToken({ module: alice.module, tokenLabel: 'no-such-card' }), (err: unknown) => {
    assert.ok(err instanceof TokenNotPresentError);
    assert.match(err.message, /token "no-such-card"/);
    assert.deepEqual([...(err.detail['tokenLabels'] as string[])].sort(), ['kerbside-alice', 'kerbside-bob', 'kerbside-carol']);
    return true;
  });
  // A slot id and a label that do not belong together.
  await assert.rejects(openToken({ module: alice.module, slot: alice.slot, tokenLabel: 'kerbside-bob' }), TokenNotPresentError);
});

test('a closed token, and a signer taken from it, throw TokenRemovedError', async () => {
  const token = await openToken({ module: alice.module, slot: alice.slot });
  await token.login(PIN);
  const signer = await token.signer({ id: ID });
  await token.close();
  assert.equal(token.closed, true);
  await token.close(); // twice is fine
  await assert.rejects(token.certificates(), (err: unknown) => {
    assert.ok(err instanceof TokenRemovedError);
    assert.match(err.message, /token "kerbside-alice" .*closed/);
    return true;
  });
  await assert.rejects(signer.sign(new Uint8Array([1])), TokenRemovedError);
  await assert.rejects(token.login(PIN), (err: unknown) => err instanceof TokenRemovedError && !err.message.includes(PIN));
  // The module was finalized with its last token; it opens again.
  const again = await openToken({ module: alice.module, slot: alice.slot });
  assert.equal((await again.certificates()).length, 1);
  await again.close();
});

test('two tokens of one module share one C_Initialize; closing one leaves the other usable', async () => {
  // Opened concurrently, with a failing open in between: one load, one C_Initialize.
  const [a, b, missing] = await Promise.allSettled([
    openToken({ module: alice.module, slot: alice.slot }),
    openToken({ module: bob.module, tokenLabel: 'kerbside-bob' }),
    openToken({ module: bob.module, tokenLabel: 'nobody' }),
  ]).then((rs) => rs.map((r) => (r.status === 'fulfilled' ? r.value : r.reason)));
  assert.ok(missing instanceof TokenNotPresentError);
  assert.ok(!(a instanceof Error) && !(b instanceof Error) && a !== undefined && b !== undefined);
  assert.equal((await a.info()).label, 'kerbside-alice');
  await a.close();
  assert.equal((await b.info()).label, 'kerbside-bob');
  await b.close();
});

test('a module path that does not exist is Pkcs11ModuleError naming the path', async () => {
  const path = join(dir, 'no-such-pkcs11.so');
  await assert.rejects(openToken({ module: path }), (err: unknown) => {
    assert.ok(err instanceof Pkcs11ModuleError);
    assert.equal(err.code, 'ERR_PKCS11_MODULE');
    assert.ok(err.message.includes(path));
    assert.equal(err.detail['module'], path);
    return true;
  });
});

test('without pkcs11js installed, Pkcs11UnavailableError says to npm install it and why', async () => {
  const missing = Object.assign(new Error("Cannot find package 'pkcs11js'"), { code: 'ERR_MODULE_NOT_FOUND' });
  await assert.rejects(loadPkcs11Binding(() => Promise.reject(missing)), (err: unknown) => {
    assert.ok(err instanceof Pkcs11UnavailableError);
    assert.equal(err.code, 'ERR_PKCS11_UNAVAILABLE');
    assert.match(err.message, /npm install pkcs11js/);
    assert.match(err.message, /smart cards/);
    assert.match(err.hint ?? '', /PKINIT/);
    return true;
  });
  await assert.rejects(loadPkcs11Binding(() => Promise.resolve({ default: {} })), Pkcs11UnavailableError);
  // The real package loads.
  const real = await loadPkcs11Binding() as { PKCS11: unknown };
  assert.equal(typeof real.PKCS11, 'function');
});

type Binding = typeof import('pkcs11js');

/**
 * A second, raw pkcs11js handle on SoftHSM while kerbside holds it open
 * (C_Initialize answers CKR_CRYPTOKI_ALREADY_INITIALIZED; never finalized):
 * reads attributes kerbside does not expose, and closes sessions underneath.
 */
async function rawSoftHsm(slot: number): Promise<{ api: Binding; lib: InstanceType<Binding['PKCS11']>; slot: Buffer }> {
  const api = await loadPkcs11Binding() as Binding;
  const lib = new api.PKCS11();
  lib.load(SOFTHSM_MODULE);
  assert.throws(() => lib.C_Initialize(), /CKR_CRYPTOKI_ALREADY_INITIALIZED/);
  const handle = lib.C_GetSlotList(true).find((h) => Number(h.readBigUInt64LE(0)) === slot);
  assert.ok(handle, `slot ${slot}`);
  return { api, lib, slot: handle };
}

test('objects pkcs11-tool creates (key pair, certificate) are found and used by kerbside; certificate attributes match OpenSC\'s byte for byte', async () => {
  // OpenSC generates the key and writes the certificate, as a card issuer would.
  await pkcs11Tool(carol, ['--login', '--pin', PIN, '--keypairgen', '--key-type', 'rsa:2048', '--id', '0c01', '--label', 'carol']);
  const pubPath = join(dir, 'carol-pub.der');
  await pkcs11Tool(carol, ['--read-object', '--type', 'pubkey', '--id', '0c01', '-o', pubPath]);
  const spki = new Uint8Array(await readFile(pubPath));
  const der = await issueCertificate(spki, '/O=KERBSIDE.TEST/CN=carol/OU=cards', '00ff01');
  const certPath = join(dir, 'carol.der');
  await writeFile(certPath, der);
  await pkcs11Tool(carol, ['--login', '--pin', PIN, '--write-object', certPath, '--type', 'cert', '--id', '0c01', '--label', 'carol']);

  const token = await openToken({ module: carol.module, slot: carol.slot });
  try {
    await token.login(PIN);
    // kerbside writes the same certificate under another id, for the attribute comparison.
    await token.writeCertificate({ id: new Uint8Array([0x0c, 0x02]), label: 'carol-kerbside', der });
    const certs = await token.certificates();
    assert.deepEqual(certs.map((c) => [Buffer.from(c.id).toString('hex'), c.label]).sort(), [['0c01', 'carol'], ['0c02', 'carol-kerbside']]);
    const signer = await token.signer({ id: new Uint8Array([0x0c, 0x01]) });
    assert.deepEqual(signer.certificate, der);
    const data = new TextEncoder().encode('signed by a key OpenSC generated');
    const sig = await signer.sign(data);
    assert.equal(verify('sha256', data, createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }), sig), true);

    const raw = await rawSoftHsm(carol.slot);
    const session = raw.lib.C_OpenSession(raw.slot, raw.api.CKF_SERIAL_SESSION);
    const a = raw.api;
    const attrs = (id: number[]): Buffer[] => {
      raw.lib.C_FindObjectsInit(session, [{ type: a.CKA_CLASS, value: a.CKO_CERTIFICATE }, { type: a.CKA_ID, value: Buffer.from(id) }]);
      const [h] = raw.lib.C_FindObjects(session, 2);
      raw.lib.C_FindObjectsFinal(session);
      assert.ok(h);
      return raw.lib.C_GetAttributeValue(session, h, [
        { type: a.CKA_SUBJECT }, { type: a.CKA_ISSUER }, { type: a.CKA_SERIAL_NUMBER }, { type: a.CKA_VALUE },
        { type: a.CKA_CERTIFICATE_TYPE },
      ]).map((x) => x.value as Buffer);
    };
    const theirs = attrs([0x0c, 0x01]);
    const ours = attrs([0x0c, 0x02]);
    assert.deepEqual(ours, theirs);
    // CKA_SERIAL_NUMBER is the DER INTEGER (PKCS#11 2.40 §4.6.3), leading 00 of 0x00ff01 kept as the certificate has it.
    assert.equal(ours[2]!.toString('hex'), '020300ff01');
    raw.lib.C_CloseSession(session);
  } finally {
    await token.close();
  }
});

test('a session closed underneath kerbside (CKR_SESSION_HANDLE_INVALID) is TokenRemovedError', async () => {
  const token = await openToken({ module: alice.module, slot: alice.slot });
  try {
    await token.login(PIN);
    const signer = await token.signer({ id: ID });
    const raw = await rawSoftHsm(alice.slot);
    // What a card reader does when the card is pulled: every session of the slot goes.
    raw.lib.C_CloseAllSessions(raw.slot);
    await assert.rejects(signer.sign(new Uint8Array([1, 2, 3])), (err: unknown) => {
      assert.ok(err instanceof TokenRemovedError);
      assert.equal(err.detail['ckr'], 'CKR_SESSION_HANDLE_INVALID');
      assert.match(err.message, /signing on token "kerbside-alice"/);
      return true;
    });
    await assert.rejects(token.certificates(), TokenRemovedError);
  } finally {
    await token.close();
  }
});

/**
 * openssl extensions for PKINIT certificates (RFC 4556 §3.2.2, §3.2.4): the
 * id-pkinit-san otherName carrying a KRB5PrincipalName, and the EKUs
 * id-pkinit-KPClientAuth (1.3.6.1.5.2.3.4) / id-pkinit-KPKdc (1.3.6.1.5.2.3.5).
 */
function pkinitExtensions(section: string, realm: string, eku: string, nameType: number, names: readonly string[]): string {
  return [
    `[${section}]`,
    'basicConstraints = CA:FALSE',
    'keyUsage = digitalSignature, keyEncipherment, keyAgreement',
    `extendedKeyUsage = ${eku}`,
    `subjectAltName = otherName:1.3.6.1.5.2.2;SEQUENCE:${section}_princ`,
    `[${section}_princ]`,
    `realm = EXP:0,GeneralString:${realm}`,
    `principal_name = EXP:1,SEQUENCE:${section}_pn`,
    `[${section}_pn]`,
    `name_type = EXP:0,INTEGER:${nameType}`,
    `name_string = EXP:1,SEQUENCE:${section}_names`,
    `[${section}_names]`,
    ...names.map((n, i) => `n${i} = GeneralString:${n}`),
    '',
  ].join('\n');
}

test('MIT kinit (pkinit_pkcs11) logs in with the key and certificate kerbside put on the token', async () => {
  const realm = 'PKINIT.TEST';
  // The KDC's own identity: a software key from openssl, certified by the test CA.
  const openssl = requireTool('openssl', 'openssl');
  const kdcKey = join(dir, 'kdc.key');
  checkRun('openssl genpkey', await runProgram(openssl, [
    'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', kdcKey,
  ], { env: softHsmEnvironment(dir) }));
  checkRun('openssl pkey', await runProgram(openssl, ['pkey', '-in', kdcKey, '-pubout', '-outform', 'DER', '-out', join(dir, 'kdc-pub.der')],
    { env: softHsmEnvironment(dir) }));
  const kdcCert = await issueCertificate(new Uint8Array(await readFile(join(dir, 'kdc-pub.der'))), '/O=KERBSIDE.TEST/CN=kdc', '0d01', {
    section: 'kdc_ext', config: pkinitExtensions('kdc_ext', realm, '1.3.6.1.5.2.3.5', 2, ['krbtgt', realm]),
  });
  const kdcCertPath = join(dir, 'kdc.pem');
  await writeFile(kdcCertPath, `-----BEGIN CERTIFICATE-----\n${Buffer.from(kdcCert).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`);
  const { cert: caCert } = await testCa();

  // The user's card: key generated on the token, certificate written by kerbside.
  const cardId = new Uint8Array([0xca, 0x5d]);
  const token = await openToken({ module: carol.module, slot: carol.slot });
  try {
    await token.login(PIN);
    const spki = await token.generateRsaKeyPair({ id: cardId, label: 'dave-card', bits: 2048 });
    const der = await issueCertificate(spki, '/O=KERBSIDE.TEST/CN=dave', '0d02', {
      section: 'client_ext', config: pkinitExtensions('client_ext', realm, '1.3.6.1.5.2.3.4', 1, ['dave']),
    });
    await token.writeCertificate({ id: cardId, label: 'dave-card', der });
  } finally {
    await token.close();
  }

  const mit = await startMitRealm({
    realm,
    principals: [{ name: 'dave', randkey: true, attrs: ['+requires_preauth'] }],
    kdcRealmConf: { pkinit_identity: `FILE:${kdcCertPath},${kdcKey}`, pkinit_anchors: `FILE:${caCert}` },
    libdefaults: { pkinit_anchors: `FILE:${caCert}` },
  });
  try {
    const identity = `PKCS11:module_name=${carol.module}:slotid=${carol.slot}:certid=ca5d`;
    const r = await mit.run(requireTool('kinit', 'krb5-user'), ['-X', `X509_user_identity=${identity}`, `dave@${realm}`], {
      input: `${PIN}\n`, env: { SOFTHSM2_CONF: carol.env.SOFTHSM2_CONF },
    });
    assert.equal(r.code, 0, `kinit failed:\n${r.stderr}${r.stdout}\nKDC log:\n${await mit.kdcLog()}`);
    const klist = checkRun('klist', await mit.run(requireTool('klist', 'krb5-user'), []));
    assert.match(klist.stdout, new RegExp(`krbtgt/${realm.replace('.', '\\.')}@${realm.replace('.', '\\.')}`));
    // The KDC saw PKINIT (no password exists: dave has a random key) and issued the ticket.
    const log = await mit.kdcLog();
    assert.match(log, /PKINIT: .*dave@PKINIT\.TEST/);
    assert.match(log, /ISSUE: .*dave@PKINIT\.TEST for krbtgt\/PKINIT\.TEST@PKINIT\.TEST/);
  } finally {
    await mit.stop();
  }
});
