/**
 * The client's nonce checks (RFC 4120 §3.1.5 for the AS-REP, §3.3.4 for the
 * TGS-REP): a reply that decrypts with the right key but carries another
 * nonce answers some other request (a replayed or spliced reply) and must be
 * refused before anything reaches the credential cache.
 *
 * A fake KDC answers with replies built and encrypted exactly as a KDC
 * would; the only thing it changes is the nonce. Each refusal test has a
 * control that sends the same reply with the request's own nonce and sees it
 * accepted and cached, so the refusal can only come from the nonce check.
 */

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { seededRandom, type RandomSource } from '../core/random.js';
import { encrypt, generateKey, KeyUsage, type Key } from '../crypto/index.js';
import { readCcache, ticketsOf, type Credential } from '../files/index.js';
import {
  AsRep, EncAsRepPart, EncTgsRepPart, EncTicketPart, NameType, TgsRep, Ticket, TicketFlags, decodeMessage,
  type EncKdcRepPart, type PrincipalName,
} from '../messages/index.js';
import { BadKdcReplyError, KerberosClient, LogonSession, clientConfig, type KdcTransport } from './index.js';

const REALM = 'EXAMPLE.TEST';
const T0 = Date.UTC(2026, 3, 1, 9, 0, 0);
const HOUR = 3_600_000;
const SERVICE = 'HTTP/files.example.test';
const TGS_NAME: PrincipalName = { nameType: NameType.NT_SRV_INST, nameString: ['krbtgt', REALM] };
const SERVICE_NAME: PrincipalName = { nameType: NameType.NT_SRV_INST, nameString: ['HTTP', 'files.example.test'] };
const ALICE: PrincipalName = { nameType: NameType.NT_PRINCIPAL, nameString: ['alice'] };

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A ticket for `sname` sealed in a key the client never sees (the KDC's own). */
function sealedTicket(sname: PrincipalName, session: Key, random: RandomSource): Ticket {
  const serverKey = generateKey(18, random);
  const enc = EncTicketPart.encode({
    flags: TicketFlags.initial | TicketFlags.preAuthent, key: { keytype: session.enctype, keyvalue: session.keyvalue },
    crealm: REALM, cname: ALICE, transited: { trType: 1, contents: new Uint8Array(0) },
    authtime: new Date(T0), endtime: new Date(T0 + 10 * HOUR),
  });
  return { tktVno: 5, realm: REALM, sname, encPart: { etype: 18, kvno: 1, cipher: encrypt(serverKey, KeyUsage.KDC_REP_TICKET, enc, random) } };
}

function encPart(nonce: number, session: Key, sname: PrincipalName): EncKdcRepPart {
  return {
    key: { keytype: session.enctype, keyvalue: session.keyvalue }, lastReq: [], nonce,
    flags: TicketFlags.initial | TicketFlags.preAuthent, authtime: new Date(T0), endtime: new Date(T0 + 10 * HOUR),
    srealm: REALM, sname,
  };
}

interface FakeKdc {
  readonly transport: KdcTransport;
  /** Nonce shift for AS-REPs and TGS-REPs: 0 answers the request, anything else answers another one. */
  asShift: number;
  tgsShift: number;
  readonly answered: string[];
}

/**
 * A KDC for alice (long-term key `clientKey`, no pre-authentication) that
 * answers AS-REQs with an AS-REP under usage 3 and TGS-REQs with a TGS-REP
 * under the TGT session key, usage 8 — each with the request's nonce plus the
 * configured shift.
 */
function fakeKdc(clientKey: Key, random: RandomSource): FakeKdc {
  let tgtSession: Key | undefined;
  const kdc: FakeKdc = {
    asShift: 0,
    tgsShift: 0,
    answered: [],
    transport: {
      exchange: async (_address, _protocol, request) => {
        const m = decodeMessage(request);
        if (m.type === 'AS-REQ') {
          const nonce = (m.value.reqBody.nonce + kdc.asShift) >>> 0;
          const session = generateKey(18, random);
          tgtSession = session;
          kdc.answered.push(`AS nonce ${m.value.reqBody.nonce} -> ${nonce}`);
          return AsRep.encode({
            pvno: 5, msgType: 11, crealm: REALM, cname: ALICE, ticket: sealedTicket(TGS_NAME, session, random),
            encPart: { etype: 18, cipher: encrypt(clientKey, KeyUsage.AS_REP_ENCPART, EncAsRepPart.encode(encPart(nonce, session, TGS_NAME)), random) },
          });
        }
        if (m.type === 'TGS-REQ') {
          assert.ok(tgtSession !== undefined, 'a TGS-REQ before any AS exchange');
          const nonce = (m.value.reqBody.nonce + kdc.tgsShift) >>> 0;
          const session = generateKey(18, random);
          kdc.answered.push(`TGS nonce ${m.value.reqBody.nonce} -> ${nonce}`);
          return TgsRep.encode({
            pvno: 5, msgType: 13, crealm: REALM, cname: ALICE, ticket: sealedTicket(SERVICE_NAME, session, random),
            encPart: {
              etype: 18,
              cipher: encrypt(tgtSession, KeyUsage.TGS_REP_ENCPART_SESSKEY, EncTgsRepPart.encode(encPart(nonce, session, SERVICE_NAME)), random),
            },
          });
        }
        throw new Error(`the fake KDC got a ${m.type}`);
      },
    },
  };
  return kdc;
}

async function setup(seed: number) {
  const random = seededRandom(seed);
  const clientKey = generateKey(18, random);
  const kdc = fakeKdc(clientKey, seededRandom(seed + 100));
  const client = new KerberosClient({
    config: clientConfig({ defaultRealm: REALM, realms: { [REALM]: { kdc: ['127.0.0.1:88'] } } }),
    clock: new ManualClock(T0), random: seededRandom(seed + 200), transport: kdc.transport,
  });
  const dir = await mkdtemp(join(tmpdir(), 'kerbside-nonce-'));
  dirs.push(dir);
  const ccache = `FILE:${join(dir, 'ccache')}`;
  const session = await LogonSession.open({
    client, principal: 'alice', ccache, source: { kind: 'keys', keys: [{ ...clientKey, kvno: 1 }] },
  });
  return { kdc, client, clientKey, session, ccache, path: join(dir, 'ccache') };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

function services(creds: readonly Credential[]): string[] {
  return creds.map((c) => c.server.components.join('/'));
}

function assertNonceRefusal(err: unknown, what: RegExp): true {
  assert.ok(err instanceof BadKdcReplyError, `expected BadKdcReplyError, got ${String(err)}`);
  assert.equal(err.code, 'ERR_BAD_KDC_REPLY');
  assert.match(err.message, what);
  assert.match(err.message, /nonce mismatch/);
  return true;
}

test('AS-REP: the control reply (the request\'s own nonce) is accepted and written to the cache', { timeout: 20_000 }, async () => {
  const s = await setup(1);
  const tgt = await s.session.tgt();
  assert.deepEqual(tgt.server.components, ['krbtgt', REALM]);
  await s.session.close();
  assert.deepEqual(services(ticketsOf(await readCcache(s.ccache))), [`krbtgt/${REALM}`]);
});

for (const shift of [1, 0x7fffffff]) {
  test(`AS-REP correctly encrypted with the client key but nonce +${shift}: BadKdcReplyError, no cache written`, { timeout: 20_000 }, async () => {
    const s = await setup(2 + shift);
    s.kdc.asShift = shift;
    await assert.rejects(s.session.tgt(), (err: unknown) => assertNonceRefusal(err, /AS-REP for alice@EXAMPLE\.TEST/));
    await s.session.close();
    assert.equal(s.kdc.answered.length, 1, s.kdc.answered.join('; '));
    assert.equal(await exists(s.path), false, 'no credential cache was written');
    // The same refusal straight from the client, without a session in between.
    await assert.rejects(s.client.getInitialCredentials({ client: 'alice', keys: [{ ...s.clientKey, kvno: 1 }] }),
      (err: unknown) => assertNonceRefusal(err, /AS-REP/));
  });
}

test('TGS-REP: the control reply is accepted and the service ticket is cached next to the TGT', { timeout: 20_000 }, async () => {
  const s = await setup(10);
  const st = await s.session.serviceTicket(SERVICE);
  assert.deepEqual(st.server.components, ['HTTP', 'files.example.test']);
  await s.session.close();
  assert.deepEqual(services(ticketsOf(await readCcache(s.ccache))).sort(), [SERVICE, `krbtgt/${REALM}`].sort());
});

for (const shift of [1, 0x7fffffff]) {
  test(`TGS-REP correctly encrypted with the TGT session key but nonce +${shift}: BadKdcReplyError, the service ticket never reaches the cache`, { timeout: 20_000 }, async () => {
    const s = await setup(20 + shift);
    const tgt = await s.session.tgt();
    s.kdc.tgsShift = shift;
    await assert.rejects(s.session.serviceTicket(SERVICE), (err: unknown) => assertNonceRefusal(err, /TGS-REP for HTTP\/files\.example\.test@EXAMPLE\.TEST/));
    await assert.rejects(s.client.getServiceTicket(tgt, SERVICE), (err: unknown) => assertNonceRefusal(err, /TGS-REP/));
    await s.session.close();
    assert.deepEqual(services(ticketsOf(await readCcache(s.ccache))), [`krbtgt/${REALM}`], 'only the TGT is cached');
  });
}
