/**
 * RFC 4120 §3.3 The Ticket-Granting Service Exchange, client side, sans-IO:
 * a service ticket from a TGT, or a renewal (KDC option RENEW, §3.3.3) of a
 * renewable ticket. The request carries PA-TGS-REQ (§5.4.1, §7.5.2): an
 * AP-REQ with the TGT and an authenticator (key usage 7) whose checksum
 * (usage 6) covers the encoded KDC-REQ-BODY. No authenticator subkey is sent,
 * so the reply's enc-part uses the TGT session key with usage 8.
 * KRB_AP_ERR_SKEW is answered by one retry with the KDC's time.
 */

import type { RandomSource } from '../core/random.js';
import { KeyUsage, decrypt, defaultChecksumType, encrypt, makeChecksum, IntegrityError } from '../crypto/index.js';
import {
  ApReq, Authenticator, EncTgsRepPart, ErrorCode, KdcOptions, KdcReqBody, PaType, Ticket, TicketFlags, TgsReq,
  decodeMessage, type KrbError, type TgsRep,
} from '../messages/index.js';
import type { Credential, Principal } from '../files/index.js';
import { BadKdcReplyError, RenewLimitReachedError, TicketExpiredError } from './errors.js';
import { errorFromKrbError, measuredOffset, type KrbErrorContext } from './kdc-errors.js';
import { credentialFromReply, fromPrincipalName, samePrincipal, showPrincipal, toPrincipalName } from './names.js';

export interface TgsRequestOptions {
  /** The TGT to present (for a renewal: the ticket to renew). */
  readonly tgt: Credential;
  /** The service; for a renewal, the ticket's own server. */
  readonly server: Principal;
  /** Session key enctypes to ask for, in preference order. */
  readonly etypes: readonly number[];
  readonly renew?: boolean;
  /** KDC option VALIDATE (RFC 4120 §3.3.3, kinit -v): a postdated (INVALID) ticket made valid once its start time has come. */
  readonly validate?: boolean;
}

export interface TgsEnvironment {
  readonly now: () => number;
  readonly random: RandomSource;
  readonly offset?: number;
}

export type TgsStep =
  | { readonly kind: 'send'; readonly request: Uint8Array }
  | { readonly kind: 'done'; readonly credential: Credential; readonly offset: number };

/** The ticket flags a TGS request asks to keep (same bit positions in KDCOptions). */
const INHERITED = (TicketFlags.forwardable | TicketFlags.proxiable | TicketFlags.renewable) >>> 0;

export class TgsExchange {
  readonly #o: TgsRequestOptions;
  readonly #env: TgsEnvironment;
  readonly #ctx: KrbErrorContext;
  #offset: number;
  #nonce = 0;
  #request: Uint8Array;
  #skewRetried = false;

  constructor(options: TgsRequestOptions, env: TgsEnvironment) {
    this.#o = options;
    this.#env = env;
    this.#offset = env.offset ?? 0;
    this.#ctx = {
      client: showPrincipal(options.tgt.client),
      service: showPrincipal(options.server),
      credential: 'ticket',
      renewing: options.renew === true,
    };
    this.#precheck();
    this.#request = this.#build();
  }

  request(): Uint8Array {
    return this.#request;
  }

  get offset(): number {
    return this.#offset;
  }

  handle(replyBytes: Uint8Array): TgsStep {
    let msg;
    try {
      msg = decodeMessage(replyBytes);
    } catch (err) {
      throw new BadKdcReplyError(`the KDC of ${this.#o.tgt.server.realm} sent a reply that is not a Kerberos message`, { cause: err, detail: { ...this.#ctx } });
    }
    if (msg.type === 'KRB-ERROR') return this.#onError(msg.value);
    if (msg.type !== 'TGS-REP') {
      throw new BadKdcReplyError(`the KDC of ${this.#o.tgt.server.realm} answered a TGS-REQ with ${msg.type}`, { detail: { ...this.#ctx } });
    }
    return { kind: 'done', credential: this.#onReply(msg.value), offset: this.#offset };
  }

  #kdcNow(): number {
    return this.#env.now() + this.#offset;
  }

  #precheck(): void {
    const t = this.#o.tgt;
    const now = this.#kdcNow();
    if (this.#o.renew === true) {
      if ((t.ticketFlags & TicketFlags.renewable) === 0 || t.renewTill === undefined) {
        throw new RenewLimitReachedError(`the ticket ${this.#ctx.client} holds for ${showPrincipal(t.server)} is not renewable`, {
          detail: { ...this.#ctx }, hint: 'ask for a renewable ticket (kinit -r, or renew_lifetime in krb5.conf)',
        });
      }
      if (t.renewTill.getTime() <= now) {
        throw new RenewLimitReachedError(`the ticket of ${this.#ctx.client} cannot be renewed past its renew-till ${t.renewTill.toISOString()}`, {
          detail: { ...this.#ctx, renewTill: t.renewTill.toISOString() }, hint: `get a new ticket for ${this.#ctx.client} (kinit)`,
        });
      }
    }
    if (t.endtime.getTime() <= now) {
      throw new TicketExpiredError(`Ticket expired: the ticket of ${this.#ctx.client} for ${showPrincipal(t.server)} expired at ${t.endtime.toISOString()}`, {
        krbCode: ErrorCode.KRB_AP_ERR_TKT_EXPIRED, detail: { ...this.#ctx, endtime: t.endtime.toISOString() },
        hint: `get a new ticket for ${this.#ctx.client} (kinit)`,
      });
    }
  }

  #build(): Uint8Array {
    const t = this.#o.tgt;
    const now = this.#kdcNow();
    const key = { enctype: t.key.enctype, keyvalue: t.key.keyvalue };
    this.#nonce = this.#env.random.int(0x7fffffff);
    let options = (t.ticketFlags & INHERITED) >>> 0;
    if (this.#o.renew === true) options = (options | KdcOptions.renew) >>> 0;
    if (this.#o.validate === true) options = (options | KdcOptions.validate) >>> 0;
    const renewable = (options & KdcOptions.renewable) !== 0 && t.renewTill !== undefined;
    const body: KdcReqBody = {
      kdcOptions: options,
      realm: this.#o.server.realm,
      sname: toPrincipalName(this.#o.server),
      till: this.#o.renew === true && t.renewTill !== undefined ? t.renewTill : t.endtime,
      ...(renewable ? { rtime: t.renewTill! } : {}),
      nonce: this.#nonce,
      etype: [...this.#o.etypes],
    };
    const bodyBytes = KdcReqBody.encode(body);
    const cksumtype = defaultChecksumType(key.enctype);
    const authenticator = Authenticator.encode({
      authenticatorVno: 5,
      crealm: t.client.realm,
      cname: toPrincipalName(t.client),
      cksum: { cksumtype, checksum: makeChecksum(cksumtype, key, KeyUsage.TGS_REQ_AUTH_CKSUM, bodyBytes) },
      cusec: (((now % 1000) + 1000) % 1000) * 1000,
      ctime: new Date(now),
    });
    const apReq = ApReq.encode({
      pvno: 5, msgType: 14, apOptions: 0,
      ticket: Ticket.decode(t.ticket),
      authenticator: { etype: key.enctype, cipher: encrypt(key, KeyUsage.TGS_REQ_AUTH, authenticator, this.#env.random) },
    });
    return TgsReq.encode({ pvno: 5, msgType: 12, padata: [{ padataType: PaType.PA_TGS_REQ, padataValue: apReq }], reqBody: body });
  }

  #onError(e: KrbError): TgsStep {
    const localNow = this.#env.now();
    if (e.errorCode === ErrorCode.KRB_AP_ERR_SKEW && !this.#skewRetried) {
      this.#skewRetried = true;
      this.#offset = measuredOffset(e, localNow);
      this.#request = this.#build();
      return { kind: 'send', request: this.#request };
    }
    throw errorFromKrbError(e, { ...this.#ctx, localTime: localNow });
  }

  #onReply(rep: TgsRep): Credential {
    const t = this.#o.tgt;
    const client = fromPrincipalName(rep.cname, rep.crealm);
    if (!samePrincipal(client, t.client)) {
      throw new BadKdcReplyError(`the KDC answered a TGS request of ${this.#ctx.client} with a ticket for ${showPrincipal(client)}`, { detail: { ...this.#ctx } });
    }
    let plain: Uint8Array;
    try {
      plain = decrypt({ enctype: t.key.enctype, keyvalue: t.key.keyvalue }, KeyUsage.TGS_REP_ENCPART_SESSKEY, rep.encPart.cipher);
    } catch (err) {
      if (err instanceof IntegrityError) {
        throw new BadKdcReplyError(`the TGS-REP for ${this.#ctx.service} does not decrypt with the TGT's session key`, { cause: err, detail: { ...this.#ctx } });
      }
      throw err;
    }
    const enc = EncTgsRepPart.decode(plain);
    if (enc.nonce !== this.#nonce && (enc.nonce >>> 0) !== this.#nonce) {
      throw new BadKdcReplyError(`the TGS-REP for ${this.#ctx.service} does not answer this request (nonce mismatch)`, { detail: { ...this.#ctx } });
    }
    const server = fromPrincipalName(enc.sname, enc.srealm);
    const ticketServer = fromPrincipalName(rep.ticket.sname, rep.ticket.realm);
    if (!samePrincipal(server, this.#o.server) || !samePrincipal(ticketServer, this.#o.server)) {
      throw new BadKdcReplyError(`the KDC answered a request for ${this.#ctx.service} with a ticket for ${showPrincipal(server)}`, {
        detail: { ...this.#ctx }, hint: 'referrals and canonicalised names are not supported; ask for the exact principal name',
      });
    }
    if (!this.#o.etypes.includes(enc.key.keytype)) {
      throw new BadKdcReplyError(`the KDC issued a ${enc.key.keytype} session key for ${this.#ctx.service}, which was not requested`, { detail: { ...this.#ctx } });
    }
    if (enc.endtime.getTime() <= this.#kdcNow()) {
      throw new BadKdcReplyError(`the KDC issued a ticket for ${this.#ctx.service} that has already expired`, { detail: { ...this.#ctx }, hint: 'check the clocks (NTP)' });
    }
    return credentialFromReply(client, server, enc, rep.ticket);
  }
}
