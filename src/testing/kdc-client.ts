/**
 * A minimal Kerberos client for the KDC's sans-IO tests: builds AS-REQ and
 * TGS-REQ bytes with the messages and crypto modules and opens the replies.
 * It is deliberately independent of src/client so the KDC is tested against
 * the RFC, not against our own client. (No tests of its own.)
 */

import { ManualClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { decrypt, defaultChecksumType, encrypt, generateKey, KeyUsage, makeChecksum, stringToKey, type Key } from '../crypto/index.js';
import { fanout, memorySink, type EventSink, type MemorySink } from '../events/index.js';
import {
  ApReq, AsRep, AsReq, AuthorizationData, EncryptedData, Authenticator, EncAsRepPart, EncTgsRepPart, EncTicketPart, KdcOptions, KdcReqBody,
  KrbError, MethodData, NameType, PaEncTsEnc, PaType, TgsRep, TgsReq, decodeMessage, principalNameFromString,
  type EncKdcRepPart, type PaData, type PrincipalName, type Ticket,
} from '../messages/index.js';
import { MemoryStore } from '../store/index.js';
import { realmAdmin, type RealmAdmin } from '../kdc/admin.js';
import type { RealmPolicyInput } from '../kdc/config.js';
import { createKdc, type Kdc } from '../kdc/processor.js';
import { plainKeysForTests } from '../kdc/keys.js';
import type { KdcPeer } from '../kdc/transport.js';

export const REALM = 'EXAMPLE.TEST';
export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
export const UDP_PEER: KdcPeer = { transport: 'udp', address: '127.0.0.1', port: 40000 };
export const TCP_PEER: KdcPeer = { transport: 'tcp', address: '127.0.0.1', port: 40001 };

export interface Harness {
  readonly kdc: Kdc;
  readonly clock: ManualClock;
  readonly store: MemoryStore;
  readonly admin: RealmAdmin;
  readonly events: MemorySink;
}

/** A KDC over a memory store with alice (password), bob (no preauth) and HTTP/localhost. */
export async function harness(policy: RealmPolicyInput = {}, options: { lockout?: boolean; alsoEvents?: EventSink } = {}): Promise<Harness> {
  const clock = new ManualClock(T0);
  const random = seededRandom(7);
  const store = new MemoryStore({ clock });
  const events = memorySink();
  const admin = realmAdmin({ realm: REALM, store, policy, clock, random, keys: plainKeysForTests() });
  await admin.createRealm();
  await admin.addPrincipal('alice', { password: 'alice-pw' });
  await admin.addPrincipal('bob', { password: 'bob-pw', requiresPreauth: false });
  await admin.addPrincipal('HTTP/localhost');
  const kdc = createKdc({
    realm: REALM, store, clock, random, events: options.alsoEvents === undefined ? events : fanout(events, options.alsoEvents), policy, keys: plainKeysForTests(),
    ...(options.lockout === true ? { lockout: store.lockout } : {}),
  });
  return { kdc, clock, store, admin, events };
}

export function name(text: string): PrincipalName {
  return principalNameFromString(text).name;
}

/** The long-term key of a stored principal (current kvno, given enctype). */
export async function storedKey(h: Harness, principal: string, enctype = 18, kvno?: number): Promise<Key & { kvno: number }> {
  const record = await h.store.get(principal.includes('@') ? principal : `${principal}@${REALM}`);
  const k = record?.keys.find((x) => x.enctype === enctype && (kvno === undefined || x.kvno === kvno));
  if (k === undefined) throw new Error(`no key ${enctype} for ${principal}`);
  return { enctype, keyvalue: k.keyvalue, kvno: k.kvno };
}

export async function passwordKey(principal: string, password: string, enctype = 18): Promise<Key> {
  const p = principalNameFromString(principal.includes('@') ? principal : `${principal}@${REALM}`);
  return stringToKey(enctype, password, (p.realm ?? REALM) + p.name.nameString.join(''));
}

export function encTimestamp(key: Key, time: number, random = seededRandom(99)): PaData {
  const ts = PaEncTsEnc.encode({ patimestamp: new Date(Math.floor(time / 1000) * 1000), pausec: (time % 1000) * 1000 });
  const enc = { etype: key.enctype, cipher: encrypt(key, KeyUsage.PA_ENC_TIMESTAMP, ts, random) };
  return { padataType: PaType.PA_ENC_TIMESTAMP, padataValue: EncryptedData.encode(enc) };
}

export interface AsReqOptions {
  readonly client?: string;
  readonly cname?: PrincipalName;
  readonly service?: string;
  readonly etypes?: number[];
  readonly nonce?: number;
  readonly till?: number;
  readonly rtime?: number;
  readonly from?: number;
  readonly options?: number;
  readonly padata?: PaData[];
  readonly realm?: string;
}

export function asReq(o: AsReqOptions = {}): Uint8Array {
  const body: KdcReqBody = {
    kdcOptions: (o.options ?? (KdcOptions.forwardable | KdcOptions.renewable)) >>> 0,
    cname: o.cname ?? name(o.client ?? 'alice'),
    realm: o.realm ?? REALM,
    sname: name(o.service ?? `krbtgt/${REALM}`),
    till: new Date(o.till ?? T0 + 10 * 3600_000),
    ...(o.rtime === undefined ? {} : { rtime: new Date(o.rtime) }),
    ...(o.from === undefined ? {} : { from: new Date(o.from) }),
    nonce: o.nonce ?? 12345,
    etype: o.etypes ?? [18, 17, 20, 19],
  };
  return AsReq.encode({ pvno: 5, msgType: 10, ...(o.padata === undefined ? {} : { padata: o.padata }), reqBody: body });
}

export type Reply =
  | { kind: 'error'; error: KrbError }
  | { kind: 'as'; rep: AsRep }
  | { kind: 'tgs'; rep: TgsRep };

export function parseReply(bytes: Uint8Array | undefined): Reply {
  if (bytes === undefined) throw new Error('the KDC sent no reply');
  const m = decodeMessage(bytes);
  if (m.type === 'KRB-ERROR') return { kind: 'error', error: m.value as KrbError };
  if (m.type === 'AS-REP') return { kind: 'as', rep: m.value as AsRep };
  if (m.type === 'TGS-REP') return { kind: 'tgs', rep: m.value as TgsRep };
  throw new Error(`unexpected reply ${m.type}`);
}

export function expectError(bytes: Uint8Array | undefined): KrbError {
  const r = parseReply(bytes);
  if (r.kind !== 'error') throw new Error(`expected a KRB-ERROR, got ${r.kind}`);
  return r.error;
}

export function expectAsRep(bytes: Uint8Array | undefined): AsRep {
  const r = parseReply(bytes);
  if (r.kind === 'error') throw new Error(`expected AS-REP, got KRB-ERROR ${r.error.errorCode}: ${r.error.eText ?? ''}`);
  if (r.kind !== 'as') throw new Error(`expected AS-REP, got ${r.kind}`);
  return r.rep;
}

export function expectTgsRep(bytes: Uint8Array | undefined): TgsRep {
  const r = parseReply(bytes);
  if (r.kind === 'error') throw new Error(`expected TGS-REP, got KRB-ERROR ${r.error.errorCode}: ${r.error.eText ?? ''}`);
  if (r.kind !== 'tgs') throw new Error(`expected TGS-REP, got ${r.kind}`);
  return r.rep;
}

export function methodData(err: KrbError): PaData[] {
  if (err.eData === undefined) throw new Error('KRB-ERROR without e-data');
  return MethodData.decode(err.eData);
}

export function openAsRep(rep: AsRep, key: Key): EncKdcRepPart {
  return EncAsRepPart.decode(decrypt(key, KeyUsage.AS_REP_ENCPART, rep.encPart.cipher));
}

export function openTicket(ticket: Ticket, key: Key): EncTicketPart {
  return EncTicketPart.decode(decrypt(key, KeyUsage.KDC_REP_TICKET, ticket.encPart.cipher));
}

/** A TGT for alice (or `client`) obtained through the KDC with PA-ENC-TIMESTAMP. */
export async function getTgt(
  h: Harness, o: AsReqOptions & { password?: string } = {},
): Promise<{ ticket: Ticket; sessionKey: Key; part: EncKdcRepPart }> {
  const client = o.client ?? 'alice';
  const key = await passwordKey(client, o.password ?? `${client}-pw`, (o.etypes ?? [18])[0]);
  const rep = expectAsRep(await h.kdc.process(asReq({ ...o, padata: [encTimestamp(key, h.clock.now())] }), UDP_PEER));
  const part = openAsRep(rep, key);
  return { ticket: rep.ticket, sessionKey: { enctype: part.key.keytype, keyvalue: part.key.keyvalue }, part };
}

let cusecCounter = 0;

export interface TgsReqOptions {
  readonly tgt: Ticket;
  readonly sessionKey: Key;
  readonly client?: string;
  /** The authenticator's crealm (default the realm). */
  readonly clientRealm?: string;
  readonly service?: string;
  readonly sname?: PrincipalName;
  readonly options?: number;
  readonly etypes?: number[];
  readonly till?: number;
  readonly rtime?: number;
  readonly nonce?: number;
  readonly now: number;
  /** Authenticator ctime (default now). */
  readonly ctime?: number;
  readonly subkey?: Key;
  readonly authorizationData?: AuthorizationData;
  readonly addresses?: { addrType: number; address: Uint8Array }[];
  /** Change the body after the checksum was computed (to test KRB_AP_ERR_MODIFIED). */
  readonly tamper?: (body: KdcReqBody) => KdcReqBody;
  /** Encrypt the authenticator with this key instead of the session key. */
  readonly authenticatorKey?: Key;
  readonly noChecksum?: boolean;
  /** Authenticator checksum type (default: the session key's, RFC 3961 required checksum). */
  readonly checksumType?: number;
}

export function tgsReq(o: TgsReqOptions): Uint8Array {
  const random = seededRandom(1000 + cusecCounter);
  let encAuthorizationData;
  if (o.authorizationData !== undefined) {
    const [key, usage] = o.subkey !== undefined ? [o.subkey, KeyUsage.TGS_REQ_AD_SUBKEY] : [o.sessionKey, KeyUsage.TGS_REQ_AD_SESSKEY];
    encAuthorizationData = { etype: key.enctype, cipher: encrypt(key, usage, AuthorizationData.encode(o.authorizationData), random) };
  }
  const body: KdcReqBody = {
    kdcOptions: (o.options ?? KdcOptions.forwardable) >>> 0,
    realm: REALM,
    sname: o.sname ?? name(o.service ?? 'HTTP/localhost'),
    till: new Date(o.till ?? o.now + 10 * 3600_000),
    ...(o.rtime === undefined ? {} : { rtime: new Date(o.rtime) }),
    nonce: o.nonce ?? 777,
    etype: o.etypes ?? [18, 17, 20, 19],
    ...(o.addresses === undefined ? {} : { addresses: o.addresses }),
    ...(encAuthorizationData === undefined ? {} : { encAuthorizationData }),
  };
  const bodyBytes = KdcReqBody.encode(body);
  const ctime = o.ctime ?? o.now;
  const authenticator = Authenticator.encode({
    authenticatorVno: 5,
    crealm: o.clientRealm ?? REALM,
    cname: name(o.client ?? 'alice'),
    ...(o.noChecksum === true ? {} : {
      cksum: {
        cksumtype: o.checksumType ?? defaultChecksumType(o.sessionKey.enctype),
        checksum: makeChecksum(o.checksumType ?? defaultChecksumType(o.sessionKey.enctype), o.sessionKey, KeyUsage.TGS_REQ_AUTH_CKSUM, bodyBytes),
      },
    }),
    cusec: (cusecCounter++ * 7919) % 1_000_000,
    ctime: new Date(Math.floor(ctime / 1000) * 1000),
    ...(o.subkey === undefined ? {} : { subkey: { keytype: o.subkey.enctype, keyvalue: o.subkey.keyvalue } }),
  });
  const apReq = ApReq.encode({
    pvno: 5, msgType: 14, apOptions: 0, ticket: o.tgt,
    authenticator: { etype: o.sessionKey.enctype, cipher: encrypt(o.authenticatorKey ?? o.sessionKey, KeyUsage.TGS_REQ_AUTH, authenticator, random) },
  });
  const finalBody = o.tamper === undefined ? body : o.tamper(body);
  return TgsReq.encode({ pvno: 5, msgType: 12, padata: [{ padataType: PaType.PA_TGS_REQ, padataValue: apReq }], reqBody: finalBody });
}

export function openTgsRep(rep: TgsRep, key: Key, subkey?: boolean): EncKdcRepPart {
  const usage = subkey === true ? KeyUsage.TGS_REP_ENCPART_SUBKEY : KeyUsage.TGS_REP_ENCPART_SESSKEY;
  return EncTgsRepPart.decode(decrypt(key, usage, rep.encPart.cipher));
}

export function newSubkey(seed = 5): Key {
  return generateKey(18, seededRandom(seed));
}

export { NameType };
