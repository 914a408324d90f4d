/**
 * RFC 4120 §3.3.3 Generation of KRB_TGS_REP (MIT do_tgs_req.c / kdc_util.c,
 * Heimdal krb5tgs.c): verify the PA-TGS-REQ AP-REQ (ticket decrypted with the
 * key of its kvno, authenticator with usage 7, checksum over the exact
 * req-body bytes with usage 6, skew, replay), then issue a service ticket —
 * or renew the presented one (§3.3.3.1). Lifetimes never pass the TGT's;
 * enc-authorization-data is carried into the ticket without the elements
 * only a KDC may issue (authdata.ts). Not supported: user-to-
 * user (ENC-TKT-IN-SKEY), postdating/VALIDATE, S4U, cross-realm.
 */

import { decrypt, generateKey, KeyUsage, verifyChecksum, type Key } from '../crypto/index.js';
import {
  ApReq, AuthorizationData, Authenticator, EncTgsRepPart, EncTicketPart, ErrorCode, KdcOptions, PaType,
  TgsRep, TicketFlags, flagNames, type AuthorizationDataEntry, type HostAddress, type PrincipalName, type TgsReq,
} from '../messages/index.js';
import type { PrincipalRecord } from '../store/index.js';
import { KdcRequestError } from './errors.js';
import {
  checkServer, chooseTicketEncryption, lastReq, isTgsName, lookupService, sealReply, sealTicket, storeName,
  type ExchangeContext,
} from './exchange.js';
import { findKey } from './keys.js';
import {
  renewedEndtime, ticketEndtime, ticketRenewTill, withinSkew,
} from './policy.js';
import { filterClientAuthorizationData, refuseMandatoryForKdc } from './authdata.js';
import { formatDuration } from './preauth.js';
import { checkClientPassword, validateTgsClient } from './validate-client.js';

/** A verified PA-TGS-REQ. */
interface Header {
  readonly ticket: EncTicketPart;
  readonly sname: PrincipalName;
  readonly server: PrincipalRecord;
  readonly sessionKey: Key;
  readonly subkey: Key | undefined;
  readonly clientName: string;
}

export async function handleTgsReq(ctx: ExchangeContext, req: TgsReq): Promise<Uint8Array> {
  ctx.log.exchange = 'TGS';
  const body = req.reqBody;
  const options = body.kdcOptions >>> 0;
  const header = await verifyHeader(ctx, req, options);
  const tgt = header.ticket;
  const logged = options & (KdcOptions.renew | KdcOptions.validate | KdcOptions.forwarded | KdcOptions.proxy);
  ctx.log.options = logged === 0 ? [] : flagNames(KdcOptions, logged);

  if ((options & KdcOptions.encTktInSkey) !== 0) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_BADOPTION, 'KDC can\'t fulfill requested option', { reason: 'user-to-user (ENC-TKT-IN-SKEY) is not supported' });
  }
  if ((options & (KdcOptions.postdated | KdcOptions.allowPostdate | KdcOptions.validate)) !== 0) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_BADOPTION, 'KDC can\'t fulfill requested option', {
      reason: 'postdated tickets (ALLOW-POSTDATE, POSTDATED, VALIDATE) are not issued by this KDC',
    });
  }
  if (body.from !== undefined && body.from.getTime() > ctx.now + ctx.policy.clockSkew * 1000) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_CANNOT_POSTDATE, 'Ticket not eligible for postdating');
  }
  if (body.sname === undefined) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN, 'TGS-REQ without a server name');
  }
  const requestedService = storeName(body.sname, body.realm);
  ctx.log.service = requestedService;
  if (body.realm !== ctx.realm) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN, 'Server not found in Kerberos database', {
      reason: `${requestedService} is in another realm; cross-realm is not supported`,
    });
  }
  // Deleted, expired, disabled or locked-out clients get nothing more with their TGT (validate-client.ts).
  const client = await validateTgsClient(ctx, header.clientName, tgt.crealm);

  const renew = (options & KdcOptions.renew) !== 0;
  let server: PrincipalRecord;
  let sname: PrincipalName;
  if (renew) {
    // The ticket to renew is the one in the AP-REQ; the request must name its server.
    if (storeName(body.sname, ctx.realm) !== header.server.name) {
      throw new KdcRequestError(ErrorCode.KDC_ERR_SERVER_NOMATCH, 'Requested server and ticket don\'t match', {
        reason: `RENEW of a ticket for ${header.server.name} asked for ${requestedService}`,
      });
    }
    server = header.server;
    sname = header.sname;
  } else {
    const found = await lookupService(ctx, body.sname, ctx.realm);
    if (found === undefined) {
      throw new KdcRequestError(ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN, 'Server not found in Kerberos database', {
        reason: `no principal ${requestedService}`,
      });
    }
    server = found.record;
    sname = (options & KdcOptions.canonicalize) !== 0 ? found.name : body.sname;
  }
  ctx.log.service = server.name;
  checkServer(server, ctx.now);
  if (client !== undefined) checkClientPassword(client, ctx.now, server);

  const { sessionEnctype, ticketKey } = chooseTicketEncryption(body.etype, server, ctx.policy);

  const part = renew ? renewedTicket(ctx, tgt) : newTicket(ctx, req, header, server, client, isTgsName(sname, ctx.realm));
  const sessionKey = generateKey(sessionEnctype, ctx.random, { allowWeak: ctx.policy.allowWeakCrypto });
  const ticketPart: EncTicketPart = { ...part, key: { keytype: sessionKey.enctype, keyvalue: sessionKey.keyvalue } };
  const ticket = sealTicket(ctx, ctx.realm, sname, ticketPart, ticketKey, server.name);
  ctx.log.sessionEnctype = sessionEnctype;
  ctx.log.ticketEnctype = ticketKey.enctype;

  const encPart = EncTgsRepPart.encode({
    key: ticketPart.key,
    lastReq: lastReq(),
    nonce: body.nonce,
    flags: ticketPart.flags,
    authtime: ticketPart.authtime,
    ...(ticketPart.starttime === undefined ? {} : { starttime: ticketPart.starttime }),
    endtime: ticketPart.endtime,
    ...(ticketPart.renewTill === undefined ? {} : { renewTill: ticketPart.renewTill }),
    srealm: ctx.realm,
    sname,
    ...(ticketPart.caddr === undefined ? {} : { caddr: ticketPart.caddr }),
  });
  // RFC 4120 §5.4.2: the reply is sealed in the authenticator's subkey if it has one (usage 9).
  const encrypted = header.subkey !== undefined
    ? sealReply(ctx, header.subkey, KeyUsage.TGS_REP_ENCPART_SUBKEY, encPart)
    : sealReply(ctx, header.sessionKey, KeyUsage.TGS_REP_ENCPART_SESSKEY, encPart);
  return TgsRep.encode({ pvno: 5, msgType: 13, crealm: tgt.crealm, cname: tgt.cname, ticket, encPart: encrypted });
}

/** §3.3.3.1 renewal: same ticket with starttime now and the same life, up to renew-till; authtime kept. */
function renewedTicket(ctx: ExchangeContext, tgt: EncTicketPart): Omit<EncTicketPart, 'key'> {
  if ((tgt.flags & TicketFlags.renewable) === 0) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_BADOPTION, 'Ticket is not renewable', { reason: 'RENEW of a ticket without the renewable flag' });
  }
  const renewTill = tgt.renewTill?.getTime();
  if (renewTill === undefined || renewTill <= ctx.now) {
    throw new KdcRequestError(ErrorCode.KRB_AP_ERR_TKT_EXPIRED, 'Ticket expired', {
      reason: `the ticket's renew-till ${tgt.renewTill?.toISOString() ?? '(none)'} has passed; a new AS exchange is needed`,
    });
  }
  const oldStart = (tgt.starttime ?? tgt.authtime).getTime();
  const endtime = renewedEndtime({ starttime: oldStart, endtime: tgt.endtime.getTime(), renewTill }, ctx.now);
  const { authorizationData: _old, ...rest } = tgt;
  const authorizationData = ticketAuthorizationData(ctx, tgt, []);
  return { ...rest, starttime: new Date(ctx.now), endtime: new Date(endtime), ...(authorizationData.length > 0 ? { authorizationData } : {}) };
}

/**
 * The new ticket's authorization data: the TGT's and the request's, without
 * KDC-issued elements (authdata.ts, MIT copy_tgt_authdata and
 * copy_request_authdata). kerbside issues none, so any in a TGT came from a
 * client through a KDC without this filter; MIT copies a renewed ticket's
 * data unchanged because its own PAC is in it, we have nothing to keep.
 */
function ticketAuthorizationData(ctx: ExchangeContext, tgt: EncTicketPart, requested: AuthorizationDataEntry[]): AuthorizationDataEntry[] {
  const inherited = tgt.authorizationData ?? [];
  refuseMandatoryForKdc(inherited, 'the presented ticket');
  refuseMandatoryForKdc(requested, 'the request\'s enc-authorization-data');
  const fromTicket = filterClientAuthorizationData(inherited);
  const fromRequest = filterClientAuthorizationData(requested);
  const dropped = [...fromTicket.dropped, ...fromRequest.dropped];
  if (dropped.length > 0) ctx.log.droppedAuthorizationData = dropped;
  return [...fromTicket.kept, ...fromRequest.kept];
}

function newTicket(
  ctx: ExchangeContext, req: TgsReq, header: Header, server: PrincipalRecord, client: PrincipalRecord | undefined, toTgs: boolean,
): Omit<EncTicketPart, 'key'> {
  const body = req.reqBody;
  const options = body.kdcOptions >>> 0;
  const tgt = header.ticket;
  let flags = tgt.flags & (TicketFlags.preAuthent | TicketFlags.hwAuthent | TicketFlags.forwarded);
  let caddr: HostAddress[] | undefined = tgt.caddr;
  if ((options & KdcOptions.forwardable) !== 0 && (tgt.flags & TicketFlags.forwardable) !== 0 && server.allowForwardable) {
    flags |= TicketFlags.forwardable;
  }
  if ((options & KdcOptions.forwarded) !== 0) {
    if ((tgt.flags & TicketFlags.forwardable) === 0) {
      throw new KdcRequestError(ErrorCode.KDC_ERR_BADOPTION, 'KDC can\'t fulfill requested option', { reason: 'FORWARDED requested with a TGT that is not forwardable' });
    }
    flags |= TicketFlags.forwarded;
    caddr = body.addresses;
  }
  if ((options & KdcOptions.proxiable) !== 0 && (tgt.flags & TicketFlags.proxiable) !== 0 && server.allowProxiable) {
    flags |= TicketFlags.proxiable;
  }
  if ((options & KdcOptions.proxy) !== 0) {
    if ((tgt.flags & TicketFlags.proxiable) === 0 || toTgs) {
      throw new KdcRequestError(ErrorCode.KDC_ERR_BADOPTION, 'KDC can\'t fulfill requested option', {
        reason: toTgs ? 'PROXY may not be used for a ticket-granting ticket' : 'PROXY requested with a TGT that is not proxiable',
      });
    }
    flags |= TicketFlags.proxy;
    caddr = body.addresses;
  }

  const till = body.till.getTime();
  const endtime = ticketEndtime({
    starttime: ctx.now, till, notAfter: tgt.endtime.getTime(), maxLives: [client?.maxLife, server.maxLife, ctx.policy.maxLife],
  });
  if (endtime <= ctx.now) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_NEVER_VALID, 'Requested effective lifetime is negative or too short', {
      reason: `requested till ${body.till.toISOString()} is not after the start time`,
    });
  }
  const renewTill = ticketRenewTill({
    starttime: ctx.now, endtime, till, rtime: body.rtime?.getTime(),
    renewable: (options & KdcOptions.renewable) !== 0, renewableOk: (options & KdcOptions.renewableOk) !== 0,
    allowed: (tgt.flags & TicketFlags.renewable) !== 0 && server.allowRenewable && (client?.allowRenewable ?? true),
    ...(tgt.renewTill === undefined ? {} : { notAfter: tgt.renewTill.getTime() }),
    maxRenewableLives: [client?.maxRenewableLife, server.maxRenewableLife], realmMaxRenewableLife: ctx.policy.maxRenewableLife,
  });
  if (renewTill !== undefined) flags |= TicketFlags.renewable;
  if (server.okAsDelegate) flags |= TicketFlags.okAsDelegate;

  const authorizationData = ticketAuthorizationData(ctx, tgt, requestAuthorizationData(req, header));
  return {
    flags: flags >>> 0,
    crealm: tgt.crealm,
    cname: tgt.cname,
    transited: tgt.transited,
    authtime: tgt.authtime,
    starttime: new Date(ctx.now),
    endtime: new Date(endtime),
    ...(renewTill === undefined ? {} : { renewTill: new Date(renewTill) }),
    ...(caddr !== undefined && caddr.length > 0 ? { caddr } : {}),
    ...(authorizationData.length > 0 ? { authorizationData } : {}),
  };
}

/** enc-authorization-data: sealed in the subkey (usage 5) if the authenticator has one, else the session key (usage 4). */
function requestAuthorizationData(req: TgsReq, header: Header): AuthorizationDataEntry[] {
  const enc = req.reqBody.encAuthorizationData;
  if (enc === undefined) return [];
  const [key, usage] = header.subkey !== undefined
    ? [header.subkey, KeyUsage.TGS_REQ_AD_SUBKEY]
    : [header.sessionKey, KeyUsage.TGS_REQ_AD_SESSKEY];
  let plain: Uint8Array;
  try {
    plain = decrypt(key, usage, enc.cipher);
  } catch (err) {
    throw new KdcRequestError(ErrorCode.KRB_AP_ERR_BAD_INTEGRITY, 'Decrypt integrity check failed', {
      reason: 'enc-authorization-data did not decrypt with the authenticator subkey or session key', cause: err,
    });
  }
  try {
    return AuthorizationData.decode(plain);
  } catch (err) {
    throw new KdcRequestError(ErrorCode.KRB_ERR_GENERIC, 'enc-authorization-data is not AuthorizationData', { cause: err });
  }
}

/** RFC 4120 §3.3.2 / §3.2.3: the PA-TGS-REQ AP-REQ, its ticket and authenticator. */
async function verifyHeader(ctx: ExchangeContext, req: TgsReq, options: number): Promise<Header> {
  const pa = req.padata?.find((p) => p.padataType === PaType.PA_TGS_REQ);
  if (pa === undefined) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_PADATA_TYPE_NOSUPP, 'TGS-REQ without PA-TGS-REQ');
  }
  let apReq: ApReq;
  try {
    apReq = ApReq.decode(pa.padataValue);
  } catch (err) {
    throw new KdcRequestError(ErrorCode.KRB_ERR_GENERIC, 'PA-TGS-REQ does not hold a valid AP-REQ', { cause: err });
  }
  const ticket = apReq.ticket;
  const headerName = storeName(ticket.sname, ticket.realm);
  if (ticket.realm !== ctx.realm) {
    throw new KdcRequestError(ErrorCode.KRB_AP_ERR_NOT_US, 'The ticket isn\'t for us', {
      reason: `presented ticket is for ${headerName}; cross-realm is not supported`,
    });
  }
  const isTgt = isTgsName(ticket.sname, ctx.realm);
  if (!isTgt && (options & (KdcOptions.renew | KdcOptions.validate)) === 0) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_POLICY, 'KDC policy rejects request', {
      reason: `the PA-TGS-REQ ticket is for ${headerName}, not for krbtgt/${ctx.realm}`,
    });
  }
  const server = await ctx.principals.get(headerName);
  if (server === undefined) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN, 'Server not found in Kerberos database', {
      reason: `the presented ticket's server ${headerName} is not in the database`,
    });
  }
  const stored = findKey(server.keys, ticket.encPart.etype, ticket.encPart.kvno);
  if (stored === undefined) {
    const held = [...new Set(server.keys.map((k) => k.kvno))].join(', ');
    throw new KdcRequestError(ErrorCode.KRB_AP_ERR_BADKEYVER, 'Specified version of key is not available', {
      reason: `ticket for ${headerName} uses kvno ${ticket.encPart.kvno ?? '(none)'} enctype ${ticket.encPart.etype}; the database holds kvno ${held || 'none'}: ticket is likely out of date`,
    });
  }
  let part: EncTicketPart;
  try {
    part = EncTicketPart.decode(decrypt(ctx.keys.open(stored, headerName), KeyUsage.KDC_REP_TICKET, ticket.encPart.cipher));
  } catch (err) {
    throw new KdcRequestError(ErrorCode.KRB_AP_ERR_BAD_INTEGRITY, 'Decrypt integrity check failed', {
      reason: `the presented ticket did not decrypt with ${headerName} kvno ${stored.kvno}`, cause: err,
    });
  }
  const clientName = storeName(part.cname, part.crealm);
  ctx.log.client = clientName;
  const sessionKey: Key = { enctype: part.key.keytype, keyvalue: part.key.keyvalue };
  let auth: Authenticator;
  try {
    auth = Authenticator.decode(decrypt(sessionKey, KeyUsage.TGS_REQ_AUTH, apReq.authenticator.cipher));
  } catch (err) {
    throw new KdcRequestError(ErrorCode.KRB_AP_ERR_BAD_INTEGRITY, 'Decrypt integrity check failed', {
      reason: 'the authenticator did not decrypt with the ticket session key', cause: err,
    });
  }
  if (auth.crealm !== part.crealm || storeName(auth.cname, auth.crealm) !== clientName) {
    throw new KdcRequestError(ErrorCode.KRB_AP_ERR_BADMATCH, 'Ticket and authenticator don\'t match', {
      reason: `authenticator names ${storeName(auth.cname, auth.crealm)}, the ticket ${clientName}`,
    });
  }
  const ctime = auth.ctime.getTime();
  if (!withinSkew(ctime, ctx.now, ctx.policy.clockSkew)) {
    throw new KdcRequestError(ErrorCode.KRB_AP_ERR_SKEW, 'Clock skew too great', {
      reason: `authenticator time differs from the KDC's by ${formatDuration(Math.abs(ctime - ctx.now))}, more than the allowed ${formatDuration(ctx.policy.clockSkew * 1000)}; check NTP on the client of ${clientName}`,
    });
  }
  const starts = (part.starttime ?? part.authtime).getTime();
  if (starts - ctx.policy.clockSkew * 1000 > ctx.now || (part.flags & TicketFlags.invalid) !== 0) {
    throw new KdcRequestError(ErrorCode.KRB_AP_ERR_TKT_NYV, 'Ticket not yet valid', {
      reason: `the presented ticket starts at ${new Date(starts).toISOString()}${(part.flags & TicketFlags.invalid) !== 0 ? ' and is marked invalid' : ''}`,
    });
  }
  if (part.endtime.getTime() <= ctx.now) {
    throw new KdcRequestError(ErrorCode.KRB_AP_ERR_TKT_EXPIRED, 'Ticket expired', {
      reason: `the presented ticket for ${headerName} expired at ${part.endtime.toISOString()}`,
    });
  }
  if (auth.cksum === undefined) {
    throw new KdcRequestError(ErrorCode.KRB_AP_ERR_INAPP_CKSUM, 'Inappropriate type of checksum in message', {
      reason: 'the authenticator carries no checksum over the request body',
    });
  }
  let intact: boolean;
  try {
    intact = verifyChecksum(auth.cksum.cksumtype, sessionKey, KeyUsage.TGS_REQ_AUTH_CKSUM, req.rawReqBody ?? new Uint8Array(0), auth.cksum.checksum, {
      allowWeak: ctx.policy.allowWeakCrypto,
    });
  } catch (err) {
    throw new KdcRequestError(ErrorCode.KRB_AP_ERR_INAPP_CKSUM, 'Inappropriate type of checksum in message', {
      reason: `checksum type ${auth.cksum.cksumtype} is not a keyed checksum usable with enctype ${sessionKey.enctype}: ${err instanceof Error ? err.message : String(err)}`, cause: err,
    });
  }
  if (!intact) {
    throw new KdcRequestError(ErrorCode.KRB_AP_ERR_MODIFIED, 'Message stream modified', {
      reason: 'the authenticator checksum does not match the request body: the request was altered in transit',
    });
  }
  if (await ctx.replay.seen({ client: clientName, server: headerName, ctime, cusec: auth.cusec, authenticator: apReq.authenticator.cipher }, ctx.now)) {
    throw new KdcRequestError(ErrorCode.KRB_AP_ERR_REPEAT, 'Request is a replay', {
      reason: `authenticator of ${clientName} at ${auth.ctime.toISOString()}.${String(auth.cusec).padStart(6, '0')} was already used`,
    });
  }
  const subkey = auth.subkey === undefined ? undefined : { enctype: auth.subkey.keytype, keyvalue: auth.subkey.keyvalue };
  return { ticket: part, sname: ticket.sname, server, sessionKey, subkey, clientName };
}
