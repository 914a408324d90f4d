/**
 * KDC-issued authorization data from the client (MIT kdc_authdata.c
 * is_kdc_issued_authdatum / copy_request_authdata): a TGS-REQ cannot smuggle
 * a PAC, AD-KDC-ISSUED, AD-SIGNTICKET or CAMMAC into a service ticket, at the
 * top level or inside AD-IF-RELEVANT / AD-AND-OR; harmless elements pass.
 * Each ticket is opened with the service key to see what it really carries.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdAndOr, AdIfRelevant, AuthorizationDataType as AD, ErrorCode, KdcOptions, type AuthorizationData,
} from '../messages/index.js';
import {
  REALM, T0, UDP_PEER, expectError, expectTgsRep, getTgt, harness, newSubkey, openTgsRep, openTicket, storedKey, tgsReq,
} from '../testing/kdc-client.js';
import { filterClientAuthorizationData, KDC_ISSUED_AD_TYPES } from './authdata.js';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);
const FAKE_PAC = bytes(4, 0, 0, 0, 0, 0, 0, 0);
const ifRelevant = (inner: AuthorizationData): { adType: number; adData: Uint8Array } =>
  ({ adType: AD.AD_IF_RELEVANT, adData: AdIfRelevant.encode(inner) });

test('MIT kdc_authdata.c: the KDC-issued types are 4, 128, 512, 96 and 97 (auth indicators)', () => {
  assert.deepEqual([...KDC_ISSUED_AD_TYPES].sort((a, b) => a - b), [4, 96, 97, 128, 512]);
});

test('TGS-REQ enc-authorization-data with AD-WIN2K-PAC and AD-KDC-ISSUED (top level and in AD-IF-RELEVANT) does not reach the ticket', async () => {
  const h = await harness();
  const tgt = await getTgt(h);
  const harmless = { adType: AD.AD_INTENDED_FOR_SERVER, adData: bytes(0x30, 0x00) };
  const harmlessInIfRelevant = ifRelevant([{ adType: 142, adData: bytes(1, 2, 3) }]);
  const ad: AuthorizationData = [
    { adType: AD.AD_WIN2K_PAC, adData: FAKE_PAC },
    { adType: AD.AD_KDC_ISSUED, adData: bytes(0x30, 0x00) },
    ifRelevant([{ adType: AD.AD_WIN2K_PAC, adData: FAKE_PAC }]),
    ifRelevant([{ adType: 142, adData: bytes(9) }, { adType: AD.AD_KDC_ISSUED, adData: bytes(0x30, 0x00) }]),
    harmless,
    harmlessInIfRelevant,
  ];
  for (const subkey of [undefined, newSubkey()]) {
    const rep = expectTgsRep(await h.kdc.process(tgsReq({
      tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0, authorizationData: ad, ...(subkey === undefined ? {} : { subkey }),
    }), UDP_PEER));
    const tkt = openTicket(rep.ticket, await storedKey(h, 'HTTP/localhost'));
    assert.deepEqual(tkt.authorizationData, [harmless, harmlessInIfRelevant], 'only the elements MIT passes are carried');
  }
  const event = h.events.ofType('kdc.request').at(-1);
  assert.equal(event?.fields['result'], 'issued');
  assert.deepEqual(event?.fields['droppedAuthorizationData'], ['128', '4', '1', '1']);
});

test('a TGT for krbtgt cannot be made to carry a client PAC that later service tickets inherit', async () => {
  const h = await harness();
  const tgt = await getTgt(h);
  const rep = expectTgsRep(await h.kdc.process(tgsReq({
    tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0, service: `krbtgt/${REALM}`,
    authorizationData: [ifRelevant([{ adType: AD.AD_WIN2K_PAC, adData: FAKE_PAC }])],
  }), UDP_PEER));
  const second = openTicket(rep.ticket, await storedKey(h, `krbtgt/${REALM}`));
  assert.equal(second.authorizationData, undefined);
});

test('AD-SIGNTICKET, CAMMAC and elements nested in AD-AND-OR or two AD-IF-RELEVANT levels are dropped too', () => {
  const pacInAndOr = { adType: AD.AD_AND_OR, adData: AdAndOr.encode({ conditionCount: 1, elements: [{ adType: AD.AD_WIN2K_PAC, adData: FAKE_PAC }] }) };
  const deep = ifRelevant([ifRelevant([{ adType: AD.AD_KDC_ISSUED, adData: bytes(0x30, 0x00) }])]);
  const broken = { adType: AD.AD_IF_RELEVANT, adData: bytes(0x30, 0x05, 1) };
  const fine = { adType: 142, adData: bytes(7) };
  const { kept, dropped } = filterClientAuthorizationData([
    { adType: 512, adData: bytes(0) }, { adType: AD.AD_CAMMAC, adData: bytes(0) }, pacInAndOr, deep, broken, fine,
  ]);
  assert.deepEqual(kept, [fine]);
  assert.deepEqual(dropped, [512, 96, 5, 1, 1]);
});

test('AD-MANDATORY-FOR-KDC from the client is refused with KDC_ERR_POLICY (MIT copy_request_authdata)', async () => {
  const h = await harness();
  const tgt = await getTgt(h);
  const err = expectError(await h.kdc.process(tgsReq({
    tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0, options: KdcOptions.forwardable,
    authorizationData: [{ adType: AD.AD_MANDATORY_FOR_KDC, adData: bytes(0x30, 0x00) }],
  }), UDP_PEER));
  assert.equal(err.errorCode, ErrorCode.KDC_ERR_POLICY);
  // the reply key is unaffected by the filter: a request without AD still works
  const rep = expectTgsRep(await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0 }), UDP_PEER));
  assert.equal(openTgsRep(rep, tgt.sessionKey).nonce, 777);
});
