/**
 * The Kerberos V5 GSS-API initiator (RFC 4121 §4.1), sans-IO: it takes a
 * service ticket with its session key (a ccache `Credential` fits) and
 * produces the AP-REQ token; with mutual authentication it then consumes
 * the acceptor's AP-REP (or KRB-ERROR) token.
 *
 * The authenticator carries the 0x8003 checksum (flags, channel bindings,
 * an optional forwarded TGT as KRB-CRED encrypted in the session key), a
 * fresh initiator subkey of the session key's enctype and a random 30-bit
 * sequence number (MIT keeps initial numbers below 2^30 for old peers).
 */

import { systemClock, type Clock } from '../core/clock.js';
import { systemRandom, type RandomSource } from '../core/random.js';
import { InvalidArgumentError } from '../core/errors.js';
import { app, ctx, int32, kerberosFlags, raw, seq, type Codec } from '../asn1/index.js';
import { decrypt, encrypt, generateKey, IntegrityError, KeyUsage, type Key } from '../crypto/index.js';
import { principalToString, type Credential, type Principal } from '../files/index.js';
import {
  ApOptions, ApRep, Asn1Error, Authenticator, EncApRepPart, EncKrbCredPart, EncryptedData, errorCodeName, KrbCred,
  KrbError, MessageType, Ticket,
} from '../messages/index.js';
import { encodeGssChecksum, GSS_CHECKSUM_TYPE } from './authenticator-checksum.js';
import { channelBindingsHash, type ChannelBindings } from './channel-bindings.js';
import {
  CredentialsExpiredError, DefectiveTokenError, GssError, KerberosRejectedError, MutualAuthError, NoContextError,
} from './errors.js';
import { decodeKrb5Token, encodeKrb5Token, Krb5TokenId, krb5TokenName } from './framing.js';
import { Krb5Context } from './krb5-context.js';
import { DEFAULT_REQUEST_FLAGS, GssFlags, MechOid } from './oids.js';
import { toKey, toPrincipalName } from './principals.js';

/** A service ticket and its session key: `Credential` from files/ and client/ has this shape. */
export interface InitiatorCredential {
  readonly client: Principal;
  readonly server: Principal;
  readonly key: { readonly enctype: number; readonly keyvalue: Uint8Array };
  /** The Ticket's DER bytes, sent as they are. */
  readonly ticket: Uint8Array;
  readonly endtime: Date;
  readonly authtime?: Date;
  readonly ticketFlags?: number;
}

export interface Krb5InitiatorOptions {
  readonly credential: InitiatorCredential;
  /** GssFlags to request (default MUTUAL | REPLAY | SEQUENCE | CONF | INTEG). DELEG is set by `delegate`. */
  readonly requestFlags?: number;
  /** A forwarded (forwardable) TGT to delegate to the acceptor. */
  readonly delegate?: Credential;
  readonly channelBindings?: ChannelBindings;
  /** Mechanism OID in the token header (default Kerberos V5). */
  readonly mechOid?: string;
  readonly clock?: Clock;
  readonly random?: RandomSource;
}

export interface StepResult {
  /** Token to send to the peer, if any. */
  readonly output?: Uint8Array;
  /** The context is established on this side. */
  readonly complete: boolean;
}

/** AP-REQ with the ticket kept as raw bytes, so the KDC's encoding is sent unchanged. */
const ApReqWithRawTicket: Codec<{ pvno: number; msgType: number; apOptions: number; ticket: Uint8Array; authenticator: EncryptedData }> =
  app(14, seq({
    pvno: ctx(0, int32),
    msgType: ctx(1, int32),
    apOptions: ctx(2, kerberosFlags),
    ticket: ctx(3, raw),
    authenticator: ctx(4, EncryptedData),
  }), 'AP-REQ');

type State =
  | { readonly kind: 'start' }
  | { readonly kind: 'awaiting-ap-rep'; readonly ctime: Date; readonly cusec: number; readonly subkey: Key; readonly seq: number; readonly flags: number }
  | { readonly kind: 'established'; readonly context: Krb5Context }
  | { readonly kind: 'failed'; readonly error: GssError };

export class Krb5Initiator {
  readonly #o: Krb5InitiatorOptions;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #sessionKey: Key;
  #state: State = { kind: 'start' };

  constructor(options: Krb5InitiatorOptions) {
    if (!(options.credential.ticket instanceof Uint8Array) || options.credential.ticket.length === 0) {
      throw new InvalidArgumentError('the initiator credential has no ticket bytes');
    }
    this.#o = options;
    this.#clock = options.clock ?? systemClock();
    this.#random = options.random ?? systemRandom();
    this.#sessionKey = toKey(options.credential.key);
  }

  get complete(): boolean {
    return this.#state.kind === 'established';
  }

  /** The established context; throws NoContextError before completion. */
  get context(): Krb5Context {
    if (this.#state.kind !== 'established') {
      throw new NoContextError('the Kerberos initiator context is not established yet');
    }
    return this.#state.context;
  }

  /** GSS_Init_sec_context: call first without input, then with the acceptor's token when not complete. */
  initSecContext(input?: Uint8Array): StepResult {
    const s = this.#state;
    switch (s.kind) {
      case 'start':
        if (input !== undefined && input.length > 0) {
          throw new DefectiveTokenError('the first call to initSecContext takes no input token');
        }
        return this.#makeApReq();
      case 'awaiting-ap-rep':
        if (input === undefined) throw new DefectiveTokenError('the acceptor\'s AP-REP token is required to complete mutual authentication');
        return this.#guard(() => this.#readApRep(s, input));
      case 'established':
        throw new DefectiveTokenError('the Kerberos initiator context is already established');
      case 'failed':
        throw s.error;
    }
  }

  #guard(fn: () => StepResult): StepResult {
    try {
      return fn();
    } catch (err) {
      if (err instanceof GssError) this.#state = { kind: 'failed', error: err };
      throw err;
    }
  }

  #makeApReq(): StepResult {
    const cred = this.#o.credential;
    const now = this.#clock.now();
    if (cred.endtime.getTime() <= now) {
      throw new CredentialsExpiredError(`the service ticket for ${principalToString(cred.server)} expired at ${cred.endtime.toISOString()}`, {
        krbCode: 32, hint: 'get a new service ticket',
      });
    }
    const delegation = this.#o.delegate === undefined ? undefined : this.#krbCred(this.#o.delegate);
    let flags = (this.#o.requestFlags ?? DEFAULT_REQUEST_FLAGS) & ~GssFlags.DELEG;
    if (delegation !== undefined) flags |= GssFlags.DELEG;
    const subkey = generateKey(this.#sessionKey.enctype, this.#random, { allowWeak: true });
    const seqNumber = this.#random.int(0x40000000);
    const ctime = new Date(now - (now % 1000));
    const cusec = (now % 1000) * 1000;
    const checksum = encodeGssChecksum({
      bnd: channelBindingsHash(this.#o.channelBindings), flags, ...(delegation === undefined ? {} : { delegation }),
    });
    const authenticator = Authenticator.encode({
      authenticatorVno: 5,
      crealm: cred.client.realm,
      cname: toPrincipalName(cred.client),
      cksum: { cksumtype: GSS_CHECKSUM_TYPE, checksum },
      cusec,
      ctime,
      subkey: { keytype: subkey.enctype, keyvalue: subkey.keyvalue },
      seqNumber,
    });
    const mutual = (flags & GssFlags.MUTUAL) !== 0;
    const apReq = ApReqWithRawTicket.encode({
      pvno: 5,
      msgType: MessageType.KRB_AP_REQ,
      apOptions: mutual ? ApOptions.mutualRequired : 0,
      ticket: cred.ticket,
      authenticator: { etype: this.#sessionKey.enctype, cipher: encrypt(this.#sessionKey, KeyUsage.AP_REQ_AUTH, authenticator, this.#random) },
    });
    const output = encodeKrb5Token(Krb5TokenId.AP_REQ, apReq, this.#o.mechOid ?? MechOid.KRB5);
    if (mutual) {
      this.#state = { kind: 'awaiting-ap-rep', ctime, cusec, subkey, seq: seqNumber, flags };
      return { output, complete: false };
    }
    // Without mutual authentication the acceptor numbers its tokens from our sequence number.
    this.#establish(flags, subkey, undefined, seqNumber, seqNumber);
    return { output, complete: true };
  }

  #readApRep(s: Extract<State, { kind: 'awaiting-ap-rep' }>, input: Uint8Array): StepResult {
    const server = principalToString(this.#o.credential.server);
    const token = decodeKrb5Token(input);
    if (token.tokenId === Krb5TokenId.KRB_ERROR) throw rejected(token.message, server);
    if (token.tokenId !== Krb5TokenId.AP_REP) {
      throw new DefectiveTokenError(`expected an AP-REP token from ${server}, got ${krb5TokenName(token.tokenId)}`);
    }
    let part: EncApRepPart;
    try {
      const apRep = ApRep.decode(token.message);
      part = EncApRepPart.decode(decrypt(this.#sessionKey, KeyUsage.AP_REP_ENCPART, apRep.encPart.cipher));
    } catch (err) {
      if (err instanceof IntegrityError) {
        throw new MutualAuthError(`the AP-REP from ${server} does not decrypt with the ticket's session key: the acceptor is not who it claims to be`, { cause: err });
      }
      if (err instanceof Asn1Error) throw new DefectiveTokenError(`the AP-REP from ${server} is malformed: ${err.message}`, { cause: err });
      throw err;
    }
    if (part.ctime.getTime() !== s.ctime.getTime() || part.cusec !== s.cusec) {
      throw new MutualAuthError(`the AP-REP from ${server} does not echo our authenticator's time`, {
        hint: 'the reply belongs to another request (replayed or mixed-up handshake)',
      });
    }
    const acceptorSubkey = part.subkey === undefined ? undefined : toKey({ enctype: part.subkey.keytype, keyvalue: part.subkey.keyvalue });
    this.#establish(s.flags, s.subkey, acceptorSubkey, s.seq, part.seqNumber ?? 0);
    return { complete: true };
  }

  #establish(flags: number, subkey: Key, acceptorSubkey: Key | undefined, sendSeq: number, recvSeq: number): void {
    const cred = this.#o.credential;
    this.#state = {
      kind: 'established',
      context: new Krb5Context({
        role: 'initiator',
        mechOid: this.#o.mechOid ?? MechOid.KRB5,
        initiatorName: cred.client,
        acceptorName: cred.server,
        flags: flags | GssFlags.TRANS | GssFlags.PROT_READY,
        expiresAt: cred.endtime,
        ...(cred.authtime === undefined ? {} : { authtime: cred.authtime }),
        ticketFlags: cred.ticketFlags ?? 0,
        sessionKey: this.#sessionKey,
        initiatorSubkey: subkey,
        ...(acceptorSubkey === undefined ? {} : { acceptorSubkey }),
        sendSeq,
        recvSeq,
        clock: this.#clock,
        random: this.#random,
      }),
    };
  }

  /** KRB-CRED with the forwarded TGT, encrypted in the ticket session key (RFC 4121 §4.1.1). */
  #krbCred(tgt: Credential): Uint8Array {
    const now = this.#clock.now();
    const enc = EncKrbCredPart.encode({
      ticketInfo: [{
        key: { keytype: tgt.key.enctype, keyvalue: tgt.key.keyvalue },
        prealm: tgt.client.realm,
        pname: toPrincipalName(tgt.client),
        flags: tgt.ticketFlags,
        authtime: tgt.authtime,
        ...(tgt.starttime === undefined ? {} : { starttime: tgt.starttime }),
        endtime: tgt.endtime,
        ...(tgt.renewTill === undefined ? {} : { renewTill: tgt.renewTill }),
        srealm: tgt.server.realm,
        sname: toPrincipalName(tgt.server),
      }],
      timestamp: new Date(now - (now % 1000)),
      usec: (now % 1000) * 1000,
    });
    return KrbCred.encode({
      pvno: 5,
      msgType: 22,
      tickets: [Ticket.decode(tgt.ticket)],
      encPart: { etype: this.#sessionKey.enctype, cipher: encrypt(this.#sessionKey, KeyUsage.KRB_CRED_ENCPART, enc, this.#random) },
    });
  }
}

/** The error for a KRB-ERROR token from the acceptor. */
export function rejected(message: Uint8Array, server: string): GssError {
  let err: KrbError;
  try {
    err = KrbError.decode(message);
  } catch (e) {
    return new DefectiveTokenError(`${server} sent a malformed KRB-ERROR token`, { cause: e });
  }
  return new KerberosRejectedError(
    `${server} rejected the Kerberos authentication: ${errorCodeName(err.errorCode)} (${err.errorCode})${err.eText === undefined ? '' : `: ${err.eText}`}`,
    { krbCode: err.errorCode, detail: { server, errorCode: err.errorCode } },
  );
}
