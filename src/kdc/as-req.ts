/**
 * RFC 4120 §3.1.3 Generation of KRB_AS_REP (MIT do_as_req.c, Heimdal
 * kerberos5.c _kdc_as_rep): look up client and server, refuse disabled,
 * expired or locked-out clients, run pre-authentication, choose the reply and
 * session enctypes, compute flags and times, and seal ticket and reply.
 * RFC 6806 basics: NT-ENTERPRISE client names and the CANONICALIZE option.
 * A PAC is not generated; KERB-PA-PAC-REQUEST is accepted and ignored.
 */

import { generateKey, KeyUsage } from '../crypto/index.js';
import {
  AsRep, EncAsRepPart, ErrorCode, KdcOptions, MethodData, NameType, TicketFlags,
  flagNames, principalNameFromString, type AsReq, type EncTicketPart, type PaData, type PrincipalName,
} from '../messages/index.js';
import { KdcRequestError } from './errors.js';
import {
  EMPTY_TRANSITED, checkServer, chooseTicketEncryption, lastReq, lookupService, sealReply, sealTicket, storeName,
  type ExchangeContext,
} from './exchange.js';
import { chooseReplyKey, ticketEndtime, ticketRenewTill } from './policy.js';
import type { LockoutAssessment } from './lockout.js';
import type { AsPreauthContext, PreauthOutcome } from './preauth.js';
import { checkClientRecord, requireClient } from './validate-client.js';

/** KDC options that make no sense in an AS-REQ (MIT AS_INVALID_OPTIONS). */
const AS_INVALID_OPTIONS = (KdcOptions.forwarded | KdcOptions.proxy | KdcOptions.validate | KdcOptions.renew
  | KdcOptions.encTktInSkey | KdcOptions.cnameInAddlTkt) >>> 0;

export async function handleAsReq(ctx: ExchangeContext, req: AsReq): Promise<Uint8Array> {
  const body = req.reqBody;
  ctx.log.exchange = 'AS';
  const options = body.kdcOptions >>> 0;
  if (body.cname === undefined) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN, 'AS-REQ without a client name');
  }
  if (body.sname === undefined) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN, 'AS-REQ without a server name');
  }
  if (body.realm !== ctx.realm) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_WRONG_REALM, `this KDC serves realm ${ctx.realm}, not ${body.realm}`);
  }
  const requested = clientLookupName(body.cname, ctx.realm);
  ctx.log.client = requested;
  const serviceName = storeName(body.sname, ctx.realm);
  ctx.log.service = serviceName;

  const client = await requireClient(ctx, requested, `no principal ${requested}`);
  const found = await lookupService(ctx, body.sname, ctx.realm);
  if (found === undefined) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN, 'Server not found in Kerberos database', {
      reason: `no principal ${serviceName}`,
    });
  }
  const server = found.record;
  checkClientRecord(client, ctx.now, { exchange: 'AS', server });
  checkServer(server, ctx.now);
  // A lock is not answered here: until the client proves its key it looks like any other account (docs/lockout.md).
  const lockout = ctx.lockout === undefined ? undefined : await ctx.lockout.assess(client.name, ctx.peer?.address, ctx.now);

  if ((options & AS_INVALID_OPTIONS) !== 0) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_BADOPTION, 'KDC option not valid in an AS request', {
      reason: `AS-REQ with options ${flagNames(KdcOptions, options & AS_INVALID_OPTIONS).join(', ')}`,
    });
  }
  if ((options & KdcOptions.postdated) !== 0 || (body.from !== undefined && body.from.getTime() > ctx.now + ctx.policy.clockSkew * 1000)) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_CANNOT_POSTDATE, 'Ticket not eligible for postdating', {
      reason: 'postdated tickets are not issued by this KDC',
    });
  }

  const replyKey = chooseReplyKey(body.etype, client.keys, ctx.policy);
  // A client without long-term keys (certificate only) gets its reply key from PKINIT.
  if (replyKey === undefined && client.keys.length > 0) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_ETYPE_NOSUPP, 'KDC has no support for encryption type', {
      reason: `${client.name} has no current key in any requested enctype the realm permits (requested ${body.etype.join(', ')})`,
    });
  }
  if (replyKey !== undefined) ctx.log.replyEnctype = replyKey.enctype;
  const { sessionEnctype, ticketKey } = chooseTicketEncryption(body.etype, server, ctx.policy);

  const pctx: AsPreauthContext = {
    request: req, clientName: client.name, client, replyKey, now: ctx.now, policy: ctx.policy,
    rawRequest: ctx.rawRequest, realm: ctx.realm, random: ctx.random,
    openKey: (stored) => ctx.keys.open(stored, client.name),
  };
  const outcome = await preauthenticate(ctx, pctx, lockout);
  if (outcome?.replyKey === undefined && outcome?.reply === undefined && replyKey === undefined) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_ETYPE_NOSUPP, 'KDC has no support for encryption type', {
      reason: `${client.name} has no long-term key and did not use PKINIT`,
    });
  }

  // Times and flags (RFC 4120 §3.1.3).
  const start = ctx.now;
  const till = body.till.getTime();
  const endtime = ticketEndtime({ starttime: start, till, maxLives: [client.maxLife, server.maxLife, ctx.policy.maxLife] });
  if (endtime <= start) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_NEVER_VALID, 'Requested effective lifetime is negative or too short', {
      reason: `requested till ${body.till.toISOString()} is not after the start time`,
    });
  }
  const renewTill = ticketRenewTill({
    starttime: start, endtime, till, rtime: body.rtime?.getTime(),
    renewable: (options & KdcOptions.renewable) !== 0, renewableOk: (options & KdcOptions.renewableOk) !== 0,
    allowed: client.allowRenewable && server.allowRenewable,
    maxRenewableLives: [client.maxRenewableLife, server.maxRenewableLife], realmMaxRenewableLife: ctx.policy.maxRenewableLife,
  });
  let flags = TicketFlags.initial;
  if (outcome !== undefined) flags |= TicketFlags.preAuthent;
  if ((options & KdcOptions.forwardable) !== 0 && client.allowForwardable && server.allowForwardable && ctx.policy.allowForwardable) {
    flags |= TicketFlags.forwardable;
  }
  if ((options & KdcOptions.proxiable) !== 0 && client.allowProxiable && server.allowProxiable && ctx.policy.allowProxiable) {
    flags |= TicketFlags.proxiable;
  }
  if (renewTill !== undefined) flags |= TicketFlags.renewable;
  if (server.okAsDelegate) flags |= TicketFlags.okAsDelegate;
  flags >>>= 0;

  // RFC 6806: with CANONICALIZE (or an enterprise name) the reply carries the names as stored.
  const canonicalize = (options & KdcOptions.canonicalize) !== 0 || body.cname.nameType === NameType.NT_ENTERPRISE;
  const cname = canonicalize ? principalNameFromString(client.name).name : body.cname;
  const sname: PrincipalName = canonicalize ? found.name : body.sname;

  const sessionKey = generateKey(sessionEnctype, ctx.random, { allowWeak: ctx.policy.allowWeakCrypto });
  ctx.log.sessionEnctype = sessionEnctype;
  ctx.log.ticketEnctype = ticketKey.enctype;
  const times = {
    authtime: new Date(start),
    starttime: new Date(start),
    endtime: new Date(endtime),
    ...(renewTill === undefined ? {} : { renewTill: new Date(renewTill) }),
  };
  const caddr = body.addresses !== undefined && body.addresses.length > 0 ? { caddr: body.addresses } : {};
  const ticketPart: EncTicketPart = {
    flags, key: { keytype: sessionKey.enctype, keyvalue: sessionKey.keyvalue }, crealm: ctx.realm, cname,
    transited: EMPTY_TRANSITED, ...times, ...caddr,
  };
  const ticket = sealTicket(ctx, ctx.realm, sname, ticketPart, ticketKey, server.name);

  const made = outcome?.reply;
  if (made !== undefined) ctx.log.replyEnctype = made.replyKey.enctype;
  const clientKey = made?.replyKey ?? outcome?.replyKey ?? ctx.keys.open(replyKey!, client.name);
  const encPart = EncAsRepPart.encode({
    key: { keytype: sessionKey.enctype, keyvalue: sessionKey.keyvalue },
    lastReq: lastReq(client.passwordExpiry),
    nonce: body.nonce,
    ...(client.passwordExpiry === undefined ? {} : { keyExpiration: new Date(client.passwordExpiry) }),
    flags, ...times, srealm: ctx.realm, sname, ...caddr,
  });
  const padata: PaData[] = made === undefined ? [] : [...made.padata];
  for (const m of made === undefined ? ctx.preauth.mechanisms : []) {
    const pa = m.returnPadata?.(pctx);
    if (pa !== undefined) padata.push(pa);
  }
  const reply = AsRep.encode({
    pvno: 5, msgType: 11, ...(padata.length > 0 ? { padata } : {}),
    crealm: ctx.realm, cname, ticket,
    encPart: sealReply(ctx, clientKey, KeyUsage.AS_REP_ENCPART, encPart, outcome?.replyKey === undefined && made === undefined ? replyKey!.kvno : undefined),
  });
  if (lockout !== undefined && outcome !== undefined) ctx.lockout?.succeeded(lockout);
  return reply;
}

/**
 * The store name to look the client up by. An NT-ENTERPRISE name (RFC 6806
 * §5) is one component 'user@REALM' (or just 'user'), parsed as a principal
 * of our realm; other realms are not ours (no referrals).
 */
function clientLookupName(cname: PrincipalName, realm: string): string {
  if (cname.nameType === NameType.NT_ENTERPRISE && cname.nameString.length === 1) {
    let parsed: ReturnType<typeof principalNameFromString>;
    try {
      parsed = principalNameFromString(cname.nameString[0]!);
    } catch (err) {
      throw new KdcRequestError(ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN, 'Client not found in Kerberos database', {
        reason: `enterprise name ${JSON.stringify(cname.nameString[0]!)} is not a principal name`, cause: err,
      });
    }
    if (parsed.realm !== undefined && parsed.realm !== realm) {
      throw new KdcRequestError(ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN, 'Client not found in Kerberos database', {
        reason: `enterprise name ${cname.nameString[0]!} names realm ${parsed.realm}; cross-realm referrals are not supported`,
      });
    }
    return storeName(parsed.name, realm);
  }
  return storeName(cname, realm);
}

/**
 * Runs the first registered mechanism whose padata the client sent. Returns
 * its outcome, or undefined when the client is not required to
 * pre-authenticate and did not. Failures count towards lockout and carry the
 * METHOD-DATA hints so the client can retry (as MIT sends them). A locked
 * client gets KDC_ERR_CLIENT_REVOKED only once its pre-authentication is
 * correct (or, past the guess budget, for any; docs/lockout.md).
 */
async function preauthenticate(ctx: ExchangeContext, pctx: AsPreauthContext, lockout: LockoutAssessment | undefined): Promise<PreauthOutcome | undefined> {
  const locked = lockout?.lock === undefined ? undefined : lockout;
  for (const pa of pctx.request.padata ?? []) {
    const mechanism = ctx.preauth.byType[pa.padataType];
    if (mechanism?.verify === undefined) continue; // informational padata (PAC request, …) or unknown
    ctx.log.preauth = mechanism.name;
    if (pctx.client.requiresPkinit && mechanism.certificate !== true) {
      // Not a guess that counts towards lockout: the password is not even looked at.
      throw new KdcRequestError(ErrorCode.KDC_ERR_POLICY, 'KDC policy rejects request', {
        reason: `${pctx.clientName} must log on with a smart card or certificate (requiresPkinit); ${mechanism.name} was tried`,
        eData: methodData(ctx, pctx),
      });
    }
    if (locked?.exhausted === true) throw ctx.lockout!.refusal(locked);
    let outcome: PreauthOutcome;
    try {
      outcome = await mechanism.verify(pctx, pa);
    } catch (err) {
      if (!(err instanceof KdcRequestError)) throw err;
      if (err.errorCode === ErrorCode.KDC_ERR_PREAUTH_FAILED && lockout !== undefined) ctx.lockout?.failed(lockout, ctx.now);
      // A mechanism's own e-data (PKINIT's TD-DH-PARAMETERS) wins over the METHOD-DATA hints.
      throw new KdcRequestError(err.errorCode, err.message, { reason: err.reason, eData: err.eData ?? methodData(ctx, pctx) });
    }
    if (locked !== undefined) throw ctx.lockout!.refusal(locked);
    return outcome;
  }
  // Without pre-authentication the AS-REP is open to offline guessing anyway: a lock hides nothing here.
  if (locked !== undefined && !pctx.client.requiresPreauth) throw ctx.lockout!.refusal(locked);
  if (!pctx.client.requiresPreauth) return undefined;
  throw new KdcRequestError(ErrorCode.KDC_ERR_PREAUTH_REQUIRED, 'Additional pre-authentication required', {
    reason: `${pctx.clientName} requires pre-authentication`,
    eData: methodData(ctx, pctx),
  });
}

function methodData(ctx: ExchangeContext, pctx: AsPreauthContext): Uint8Array {
  const hints: PaData[] = [];
  for (const m of ctx.preauth.mechanisms) {
    if (pctx.client.requiresPkinit && m.certificate !== true) continue; // offer only what it may use
    const pa = m.edata?.(pctx);
    if (Array.isArray(pa)) hints.push(...(pa as readonly PaData[]));
    else if (pa !== undefined) hints.push(pa as PaData);
  }
  return MethodData.encode(hints);
}
