/**
 * Fuzzing the client's reply parsing (src/testing/fuzz.ts): the AS and TGS
 * exchanges fed random and mutated KDC replies (AS-REP, TGS-REP, KRB-ERRORs
 * with METHOD-DATA / PA-ETYPE-INFO2 e-data, skew errors), and — to reach the
 * decoders behind the decryption — replies correctly encrypted with the
 * client key or the TGT session key around a mutated EncKDCRepPart. Only
 * KerbsideErrors come out; a reply the client takes is one that passed its
 * checks.
 */

import assert from 'node:assert/strict';
import { seededRandom } from '../core/random.js';
import { encrypt, generateKey, KeyUsage, type Key } from '../crypto/index.js';
import { fuzzSuite } from '../testing/fuzz.js';
import { mintTicket, serviceKey } from '../testing/gss-fixtures.js';
import {
  AsRep, EncAsRepPart, EncTgsRepPart, ErrorCode, EtypeInfo2, KrbError, MethodData, NameType, PaType, TgsRep, Ticket, TicketFlags,
  decodeMessage, type EncKdcRepPart, type PrincipalName,
} from '../messages/index.js';
import { parsePrincipal, type Credential } from '../files/index.js';
import { AsExchange, TgsExchange } from './index.js';

const REALM = 'EXAMPLE.TEST';
const T0 = Date.UTC(2026, 3, 1, 9, 0, 0);
const HOUR = 3_600_000;
const ALICE: PrincipalName = { nameType: NameType.NT_PRINCIPAL, nameString: ['alice'] };
const TGS: PrincipalName = { nameType: NameType.NT_SRV_INST, nameString: ['krbtgt', REALM] };
const HTTP: PrincipalName = { nameType: NameType.NT_SRV_INST, nameString: ['HTTP', 'web.example.test'] };

const clientKey: Key = generateKey(18, seededRandom(1));

/** A new AS exchange; the same seed each time, so its nonce is the same each time. */
function asExchange(): AsExchange {
  return new AsExchange(
    { client: parsePrincipal(`alice@${REALM}`), keySource: { kind: 'keys', keys: [{ ...clientKey, kvno: 1 }] }, etypes: [18, 17], lifetime: 10 * HOUR },
    { now: () => T0, random: seededRandom(2) },
  );
}

function tgt(): Credential {
  const random = seededRandom(3);
  return mintTicket({ service: { ...serviceKey(random), principal: parsePrincipal(`krbtgt/${REALM}@${REALM}`) }, now: T0, random });
}
const theTgt = tgt();

function tgsExchange(): TgsExchange {
  return new TgsExchange({ tgt: theTgt, server: parsePrincipal(`HTTP/web.example.test@${REALM}`), etypes: [18, 17] },
    { now: () => T0, random: seededRandom(4) });
}

function nonceOf(request: Uint8Array): number {
  const m = decodeMessage(request);
  assert.ok(m.type === 'AS-REQ' || m.type === 'TGS-REQ');
  return m.value.reqBody.nonce;
}

function encPart(nonce: number, sname: PrincipalName): EncKdcRepPart {
  const session = generateKey(18, seededRandom(5));
  return {
    key: { keytype: 18, keyvalue: session.keyvalue }, lastReq: [{ lrType: 0, lrValue: new Date(T0) }], nonce,
    flags: TicketFlags.initial | TicketFlags.renewable, authtime: new Date(T0), endtime: new Date(T0 + 10 * HOUR),
    renewTill: new Date(T0 + 70 * HOUR), srealm: REALM, sname, caddr: [{ addrType: 2, address: Uint8Array.of(127, 0, 0, 1) }],
  };
}

const ticket = (sname: PrincipalName) => Ticket.decode(mintTicket({ service: { ...serviceKey(seededRandom(6)), principal: parsePrincipal(`${sname.nameString.join('/')}@${REALM}`) }, now: T0, random: seededRandom(7) }).ticket);

function asRep(plain: Uint8Array): Uint8Array {
  return AsRep.encode({
    pvno: 5, msgType: 11, crealm: REALM, cname: ALICE, ticket: ticket(TGS),
    padata: [{ padataType: PaType.PA_ETYPE_INFO2, padataValue: EtypeInfo2.encode([{ etype: 18, salt: `${REALM}alice` }]) }],
    encPart: { etype: 18, cipher: encrypt(clientKey, KeyUsage.AS_REP_ENCPART, plain, seededRandom(8)) },
  });
}

function tgsRep(plain: Uint8Array): Uint8Array {
  return TgsRep.encode({
    pvno: 5, msgType: 13, crealm: REALM, cname: ALICE, ticket: ticket(HTTP),
    encPart: { etype: 18, cipher: encrypt(theTgt.key, KeyUsage.TGS_REP_ENCPART_SESSKEY, plain, seededRandom(9)) },
  });
}

function krbError(errorCode: number, eData?: Uint8Array): Uint8Array {
  return KrbError.encode({
    pvno: 5, msgType: 30, stime: new Date(T0 + 600_000), susec: 0, errorCode, realm: REALM, sname: TGS, cname: ALICE, crealm: REALM,
    eText: 'fuzz', ...(eData === undefined ? {} : { eData }),
  });
}

const asNonce = nonceOf(asExchange().request());
const tgsNonce = nonceOf(tgsExchange().request());
const asPlain = EncAsRepPart.encode(encPart(asNonce, TGS));
const tgsPlain = EncTgsRepPart.encode(encPart(tgsNonce, HTTP));

fuzzSuite(import.meta.url, {
  'AS exchange: KDC replies': () => ({
    seeds: [
      asRep(asPlain),
      krbError(ErrorCode.KDC_ERR_PREAUTH_REQUIRED, MethodData.encode([
        { padataType: PaType.PA_ETYPE_INFO2, padataValue: EtypeInfo2.encode([{ etype: 18, salt: `${REALM}alice`, s2kparams: Uint8Array.of(0, 0, 16, 0) }]) },
        { padataType: PaType.PA_ENC_TIMESTAMP, padataValue: new Uint8Array(0) },
      ])),
      krbError(ErrorCode.KRB_AP_ERR_SKEW),
      krbError(ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN),
    ],
    weight: 0.5,
    async run(input) {
      const step = await asExchange().handle(input);
      if (step.kind === 'done') assert.equal(step.result.credential.client.components[0], 'alice');
    },
  }),
  'AS exchange: EncASRepPart behind a correct encryption': () => ({
    seeds: [asPlain],
    weight: 0.5,
    async run(input) {
      await asExchange().handle(asRep(input));
    },
  }),
  'TGS exchange: KDC replies': () => ({
    seeds: [tgsRep(tgsPlain), krbError(ErrorCode.KRB_AP_ERR_SKEW), krbError(ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN)],
    weight: 0.5,
    run: (input) => tgsExchange().handle(input),
  }),
  'TGS exchange: EncTGSRepPart behind a correct encryption': () => ({
    seeds: [tgsPlain],
    weight: 0.5,
    run: (input) => tgsExchange().handle(tgsRep(input)),
  }),
});
