/**
 * RFC 4120 §3.1 The Authentication Service Exchange, client side, as a
 * sans-IO state machine: `request()` gives the bytes to send, `handle(reply)`
 * says what to send next or returns the credential.
 *
 * - The first AS-REQ carries no pre-authentication; a KDC that does not
 *   require it answers with an AS-REP directly.
 * - KDC_ERR_PREAUTH_REQUIRED (25): the key is derived with the salt and
 *   s2kparams of PA-ETYPE-INFO2 (§5.2.7.5) and PA-ENC-TIMESTAMP (§5.2.7.2)
 *   is sent.
 * - KRB_AP_ERR_SKEW (37): the KDC's time is learned from the error's
 *   stime/susec and the request is retried once with the offset applied.
 * - With a certificate (RFC 4556 PKINIT, src/client/pkinit.ts) the answer to
 *   PREAUTH_REQUIRED is a signed PA-PK-AS-REQ and the reply key comes from
 *   the Diffie-Hellman exchange in PA-PK-AS-REP.
 * - The AS-REP is checked (§3.1.5): names, nonce, enctype, times; its
 *   enc-part is decrypted with key usage 3 (EncASRepPart tagged 25 or 26).
 */

import type { RandomSource } from '../core/random.js';
import { toHex } from '../core/bytes.js';
import { InvalidArgumentError, KerbsideError } from '../core/errors.js';
import {
  Enctype, IntegrityError, KeyUsage, decrypt, encrypt, isSupportedEnctype, stringToKey, defaultSalt, type Key,
} from '../crypto/index.js';
import {
  AsRep, AsReq, EncAsRepPart, EncryptedData, ErrorCode, EtypeInfo2, KdcOptions, MethodData, NameType, PaEncTsEnc, PaType, errorCodeName,
  decodeMessage, type EtypeInfo2Entry, type KdcReqBody, type KrbError, type PaData,
} from '../messages/index.js';
import type { Credential, Principal } from '../files/index.js';
import { AnonymousUnsupportedError, BadKdcReplyError, KdcError, KeytabKeyMissingError, NoCommonEnctypeError } from './errors.js';
import { errorFromKrbError, measuredOffset, passwordIncorrect, type KrbErrorContext } from './kdc-errors.js';
import { credentialFromReply, fromPrincipalName, samePrincipal, showPrincipal, tgsPrincipal, toPrincipalName } from './names.js';
import { PkinitClientExchange, type CertificateKeySource } from './pkinit.js';

/** How the client proves who it is. */
export type ClientKeySource =
  | { readonly kind: 'password'; readonly password: string }
  /** Long-term keys, e.g. a keytab's entries for the principal (highest kvno per enctype is used). */
  | { readonly kind: 'keys'; readonly keys: readonly ClientKey[]; readonly description?: string }
  /** A certificate and its private key (PKINIT, RFC 4556). */
  | CertificateKeySource;

export interface ClientKey extends Key {
  readonly kvno?: number;
}

export interface AsRequestOptions {
  readonly client: Principal;
  /** Default krbtgt/REALM@REALM. */
  readonly server?: Principal;
  readonly keySource: ClientKeySource;
  /** Enctypes to ask for, in preference order (already filtered by permitted_enctypes). */
  readonly etypes: readonly number[];
  /** Requested lifetime, ms. */
  readonly lifetime: number;
  /** Requested renewable lifetime, ms; 0 or absent: not renewable. */
  readonly renewLifetime?: number;
  readonly forwardable?: boolean;
  readonly proxiable?: boolean;
  readonly allowWeak?: boolean;
  /**
   * RFC 6806 §3 CANONICALIZE (kinit -C; implied by an NT-ENTERPRISE client name,
   * kinit -E): the KDC may answer with the client's canonical name, which is then accepted.
   */
  readonly canonicalize?: boolean;
  /** A postdated ticket starting at this KDC time, ms (RFC 4120 §2.4 POSTDATED, kinit -s). */
  readonly startTime?: number;
}

export interface AsEnvironment {
  /** Local time, ms (the injected clock). */
  readonly now: () => number;
  readonly random: RandomSource;
  /** KDC time − local time, ms, as known before the exchange. */
  readonly offset?: number;
}

export interface InitialCredential {
  readonly credential: Credential;
  /** The pre-authentication type that worked (2 = encrypted timestamp, 16 = PKINIT, 0 = none); saved as ccache pa_type. */
  readonly paType: number;
  /** KDC time − local time, ms, as known after the exchange (learned from a skew error). */
  readonly offset: number;
}

export type AsStep = { readonly kind: 'send'; readonly request: Uint8Array } | { readonly kind: 'done'; readonly result: InitialCredential };

/**
 * RFC 6806 §7 client referral: the KDC answered WRONG_REALM naming the
 * client's realm in crealm. KerberosClient follows it with a new exchange
 * (same client name) at that realm's KDC; a sans-IO caller can do the same.
 */
export class ClientReferralError extends KerbsideError {
  static override readonly code = 'ERR_CLIENT_REFERRAL';
  get realm(): string {
    return String(this.detail['referralRealm']);
  }
}

const PA_NONE = 0;

/** WELLKNOWN/ANONYMOUS@realm (RFC 8062 §3). */
export function anonymousPrincipal(realm: string): Principal {
  return { realm, nameType: NameType.NT_WELLKNOWN, components: ['WELLKNOWN', 'ANONYMOUS'] };
}

/**
 * RFC 8062 §4.1 anonymous PKINIT, first step: an AS-REQ for WELLKNOWN/ANONYMOUS
 * with the request-anonymous option and no pre-authentication. A KDC that
 * supports it answers PREAUTH_REQUIRED offering PA-PK-AS-REQ.
 */
export function anonymousProbe(realm: string, env: AsEnvironment, lifetime: number, etypes: readonly number[]): Uint8Array {
  const client = anonymousPrincipal(realm);
  const now = env.now() + (env.offset ?? 0);
  return AsReq.encode({
    pvno: 5, msgType: 10,
    reqBody: {
      kdcOptions: (KdcOptions.renewableOk | KdcOptions.anonymous) >>> 0,
      cname: toPrincipalName(client), realm, sname: toPrincipalName(tgsPrincipal(realm)),
      till: new Date(now + lifetime), nonce: env.random.int(0x7fffffff), etype: etypes.filter((x) => isSupportedEnctype(x)),
    },
  });
}

/**
 * The KDC's answer to `anonymousProbe`, as an error that says what it means:
 * either the KDC does not support anonymous PKINIT, or it does and kerbside's
 * client cannot complete it (its PKINIT signs with a certificate; RFC 8062's
 * unsigned request is not implemented).
 */
export function anonymousProbeError(reply: Uint8Array, realm: string): AnonymousUnsupportedError {
  let e: KrbError | undefined;
  try {
    const msg = decodeMessage(reply);
    if (msg.type === 'KRB-ERROR') e = msg.value;
  } catch {
    // Described below as an unusable answer.
  }
  const offered = e?.errorCode === ErrorCode.KDC_ERR_PREAUTH_REQUIRED && e.eData !== undefined
    && (() => { try { return MethodData.decode(e.eData!).some((m) => m.padataType === PaType.PA_PK_AS_REQ); } catch { return false; } })();
  if (offered) {
    return new AnonymousUnsupportedError(`the KDC of ${realm} offers anonymous PKINIT, but kerbside's kinit cannot do anonymous PKINIT (RFC 8062) yet`, {
      detail: { realm }, hint: 'use MIT kinit -n for an anonymous ticket, or log on with a password, keytab or certificate',
    });
  }
  const said = e === undefined ? 'an answer that is not a KRB-ERROR'
    : `${errorCodeName(e.errorCode)}${e.eText !== undefined && e.eText !== '' ? ` (${e.eText})` : ''}`;
  return new AnonymousUnsupportedError(`the KDC of ${realm} does not support anonymous PKINIT (it answered a request for WELLKNOWN/ANONYMOUS with ${said})`, {
    detail: { realm, answer: said },
    hint: 'on an MIT KDC: create WELLKNOWN/ANONYMOUS (kadmin addprinc -randkey) and configure pkinit_identity and pkinit_anchors in kdc.conf; '
      + 'the kerbside KDC does not issue anonymous tickets',
  });
}

export class AsExchange {
  readonly #o: AsRequestOptions;
  readonly #env: AsEnvironment;
  readonly #server: Principal;
  readonly #etypes: number[];
  readonly #ctx: KrbErrorContext;
  readonly #derived = new Map<string, Promise<Key>>();
  #offset: number;
  #nonce = 0;
  #request: Uint8Array;
  #preauth: { entry: EtypeInfo2Entry } | undefined;
  #skewRetried = false;
  #preauthRounds = 0;
  /** The error to throw when an RC4 probe (#canProbeRc4) shows RC4 is not the cause. */
  #probing: (() => KerbsideError) | undefined;
  readonly #pkinit: PkinitClientExchange | undefined;

  constructor(options: AsRequestOptions, env: AsEnvironment) {
    this.#o = options;
    this.#env = env;
    this.#offset = env.offset ?? 0;
    this.#server = options.server ?? tgsPrincipal(options.client.realm);
    this.#ctx = {
      client: showPrincipal(options.client),
      service: showPrincipal(this.#server),
      credential: options.keySource.kind === 'password' ? 'password' : options.keySource.kind === 'certificate' ? 'key' : 'keytab',
    };
    this.#pkinit = options.keySource.kind === 'certificate'
      ? new PkinitClientExchange(options.keySource, options.client.realm, env.random)
      : undefined;
    this.#etypes = this.#usableEtypes();
    this.#request = this.#build(this.#initialPadata());
  }

  /** The request to send now. */
  request(): Uint8Array {
    return this.#request;
  }

  /** KDC time − local time as currently known, ms. */
  get offset(): number {
    return this.#offset;
  }

  async handle(replyBytes: Uint8Array): Promise<AsStep> {
    let msg;
    try {
      msg = decodeMessage(replyBytes);
    } catch (err) {
      throw new BadKdcReplyError(`the KDC of ${this.#o.client.realm} sent a reply that is not a Kerberos message`, { cause: err, detail: { ...this.#ctx } });
    }
    if (this.#probing !== undefined) return this.#onProbeReply(msg);
    if (msg.type === 'KRB-ERROR') return this.#onError(msg.value);
    if (msg.type !== 'AS-REP') {
      throw new BadKdcReplyError(`the KDC of ${this.#o.client.realm} answered an AS-REQ with ${msg.type}`, { detail: { ...this.#ctx } });
    }
    return { kind: 'done', result: await this.#onReply(msg.value) };
  }

  async #onError(e: KrbError): Promise<AsStep> {
    const localNow = this.#env.now();
    switch (e.errorCode) {
      case ErrorCode.KDC_ERR_PREAUTH_REQUIRED: {
        if (++this.#preauthRounds > 2) {
          throw new KdcError(`the KDC keeps asking ${this.#ctx.client} for pre-authentication`, {
            krbCode: e.errorCode, detail: { ...this.#ctx }, hint: 'the KDC requires a pre-authentication method kerbside does not offer (PKINIT, OTP, FAST?)',
          });
        }
        if (this.#pkinit !== undefined) {
          this.#pkinit.offered(this.#methodData(e), this.#ctx.client);
          this.#request = await this.#buildWithPkinit();
          return { kind: 'send', request: this.#request };
        }
        // MIT krb5kdc, asked only for enctypes the client has no key in, offers neither
        // encrypted timestamp nor PA-ETYPE-INFO2 (only FAST): possibly an RC4-only account.
        if (this.#canProbeRc4() && !this.#methodData(e).some((m) => m.padataType === PaType.PA_ENC_TIMESTAMP || m.padataType === PaType.PA_ETYPE_INFO2)) {
          return this.#rc4Probe(() => {
            try {
              this.#chooseEtypeInfo(e);
            } catch (err) {
              if (err instanceof KerbsideError) return err;
            }
            return errorFromKrbError(e, { ...this.#ctx, localTime: localNow });
          });
        }
        this.#preauth = { entry: this.#chooseEtypeInfo(e) };
        this.#request = await this.#buildWithPreauth();
        return { kind: 'send', request: this.#request };
      }
      case ErrorCode.KRB_AP_ERR_SKEW: {
        if (this.#skewRetried) throw errorFromKrbError(e, { ...this.#ctx, localTime: localNow });
        this.#skewRetried = true;
        this.#offset = measuredOffset(e, localNow);
        this.#request = this.#pkinit?.active === true ? await this.#buildWithPkinit()
          : this.#preauth === undefined ? this.#build(this.#initialPadata()) : await this.#buildWithPreauth();
        return { kind: 'send', request: this.#request };
      }
      case ErrorCode.KDC_ERR_WRONG_REALM:
        // RFC 6806 §7: a KDC that knows the client's realm names it in crealm (only with CANONICALIZE).
        if (this.#canonicalize() && e.crealm !== undefined && e.crealm !== '' && e.crealm !== this.#o.client.realm) {
          throw new ClientReferralError(`the KDC of ${this.#o.client.realm} refers ${this.#ctx.client} to realm ${e.crealm}`, {
            krbCode: e.errorCode, detail: { ...this.#ctx, referralRealm: e.crealm },
            hint: `ask the KDC of ${e.crealm} (KerberosClient follows client referrals by itself)`,
          });
        }
        throw errorFromKrbError(e, { ...this.#ctx, localTime: localNow });
      case ErrorCode.KDC_ERR_ETYPE_NOSUPP:
        if (this.#canProbeRc4()) return this.#rc4Probe(() => errorFromKrbError(e, { ...this.#ctx, localTime: localNow }));
        throw errorFromKrbError(e, { ...this.#ctx, localTime: localNow });
      default:
        // PKINIT's own errors (RFC 4556 §3.1.3); a DH group retry (error 65) is sent again.
        if (this.#pkinit?.active === true && this.#pkinit.onError(e, this.#ctx.client)) {
          this.#request = await this.#buildWithPkinit();
          return { kind: 'send', request: this.#request };
        }
        throw errorFromKrbError(e, { ...this.#ctx, localTime: localNow });
    }
  }

  /**
   * An Active Directory account without msDS-SupportedEncryptionTypes has
   * only RC4 keys (MS-KILE §3.1.5.2), which a client with weak crypto off
   * does not ask for, so the KDC answers ETYPE_NOSUPP (MIT: PREAUTH_REQUIRED
   * offering only FAST). To name the cause, one AS-REQ that adds rc4-hmac to
   * the enctypes and carries no pre-authentication is sent: its
   * answer (PREAUTH_REQUIRED with PA-ETYPE-INFO2 for rc4-hmac, or an RC4
   * AS-REP) shows the account's keys. No key is derived and nothing in the
   * answer is used beyond that.
   */
  #canProbeRc4(): boolean {
    return this.#o.allowWeak !== true && this.#pkinit === undefined && this.#probing === undefined
      && !this.#etypes.includes(Enctype.RC4_HMAC);
  }

  #rc4Probe(otherwise: () => KerbsideError): AsStep {
    this.#probing = otherwise;
    // rc4-hmac last, after the client's own: MIT krb5kdc gives no RC4 session keys, so an rc4-only list is refused outright.
    this.#request = this.#encode(this.#body([...this.#etypes, Enctype.RC4_HMAC]), undefined);
    return { kind: 'send', request: this.#request };
  }

  #onProbeReply(msg: ReturnType<typeof decodeMessage>): never {
    const otherwise = this.#probing!;
    let rc4 = false;
    if (msg.type === 'AS-REP') rc4 = msg.value.encPart.etype === Enctype.RC4_HMAC;
    else if (msg.type === 'KRB-ERROR' && msg.value.errorCode === ErrorCode.KDC_ERR_PREAUTH_REQUIRED) {
      try {
        rc4 = this.#etypeInfo(msg.value).some((x) => x.etype === Enctype.RC4_HMAC);
      } catch {
        rc4 = false;
      }
    }
    if (rc4) throw this.#rc4Only();
    throw otherwise();
  }

  #rc4Only(): NoCommonEnctypeError {
    const who = this.#ctx.client;
    return new NoCommonEnctypeError(
      `the KDC holds only RC4 (rc4-hmac) keys for ${who}, and weak crypto is off on this client, so no enctype is usable`
      + ' (on Active Directory: the account has no AES keys because msDS-SupportedEncryptionTypes is not set)',
      {
        krbCode: ErrorCode.KDC_ERR_ETYPE_NOSUPP,
        detail: { ...this.#ctx, keyEnctypes: ['rc4-hmac'], allowWeakCrypto: false },
        hint: `on the domain controller set msDS-SupportedEncryptionTypes = 0x18 (AES128 + AES256) on the account of ${who} and change its password, `
          + 'so AES keys are made (MIT/kerbside KDC: add AES keys to the principal); '
          + 'or, accepting RC4 (weak, RFC 8429), set allow_weak_crypto = true in [libdefaults] of krb5.conf',
      },
    );
  }

  /**
   * RFC 8070 §4: a PKINIT client asks for a freshness token with an empty
   * PA-AS-FRESHNESS; the KDC returns one in the PREAUTH_REQUIRED METHOD-DATA.
   */
  #initialPadata(): PaData[] | undefined {
    return this.#pkinit === undefined ? undefined : [{ padataType: PaType.PA_AS_FRESHNESS, padataValue: new Uint8Array(0) }];
  }

  /** KDC time, ms. */
  #kdcNow(): number {
    return this.#env.now() + this.#offset;
  }

  #usableEtypes(): number[] {
    const supported = this.#o.etypes.filter((e) => isSupportedEnctype(e));
    if (this.#o.keySource.kind === 'password' || this.#o.keySource.kind === 'certificate') {
      if (supported.length === 0) {
        throw new NoCommonEnctypeError(`no supported enctype is permitted for ${this.#ctx.client}`, {
          detail: { ...this.#ctx, permitted: [...this.#o.etypes] }, hint: 'check permitted_enctypes / default_tkt_enctypes in krb5.conf',
        });
      }
      return supported;
    }
    // With keys, ask only for enctypes we hold a key for (as MIT does with a keytab).
    const held = new Set(this.#o.keySource.keys.map((k) => k.enctype));
    const usable = supported.filter((e) => held.has(e));
    if (usable.length === 0) {
      const what = this.#o.keySource.description ?? 'the keytab';
      throw new KeytabKeyMissingError(
        this.#o.keySource.keys.length === 0
          ? `${what} has no key for ${this.#ctx.client}`
          : `${what} has no key for ${this.#ctx.client} of a permitted enctype (it holds ${[...held].join(', ')})`,
        { detail: { ...this.#ctx }, hint: `add a key for ${this.#ctx.client} to the keytab (kerbside ktutil add, or kadmin ktadd)` },
      );
    }
    return usable;
  }

  #build(padata: PaData[] | undefined): Uint8Array {
    return this.#encode(this.#body(), padata);
  }

  #encode(body: KdcReqBody, padata: PaData[] | undefined): Uint8Array {
    return AsReq.encode({ pvno: 5, msgType: 10, ...(padata !== undefined ? { padata } : {}), reqBody: body });
  }

  /** RFC 4556 §3.2.1: the AuthPack binds the body's nonce and checksum, so the body is made first. */
  async #buildWithPkinit(): Promise<Uint8Array> {
    const body = this.#body();
    return this.#encode(body, [await this.#pkinit!.padata(body, this.#kdcNow())]);
  }

  /** A new request body with a fresh nonce. */
  #body(etypes: readonly number[] = this.#etypes): KdcReqBody {
    const now = this.#kdcNow();
    const o = this.#o;
    this.#nonce = this.#env.random.int(0x7fffffff);
    const renewable = o.renewLifetime !== undefined && o.renewLifetime > 0;
    let options = KdcOptions.renewableOk;
    if (o.forwardable === true) options |= KdcOptions.forwardable;
    if (o.proxiable === true) options |= KdcOptions.proxiable;
    if (renewable) options |= KdcOptions.renewable;
    if (this.#canonicalize()) options |= KdcOptions.canonicalize;
    // A postdated ticket's lifetime counts from its start time (RFC 4120 §3.1.3), as MIT kinit -s asks.
    const start = o.startTime !== undefined && o.startTime > now ? o.startTime : undefined;
    if (start !== undefined) options |= KdcOptions.postdated | KdcOptions.allowPostdate;
    const body: KdcReqBody = {
      kdcOptions: options >>> 0,
      cname: toPrincipalName(o.client),
      realm: o.client.realm,
      sname: toPrincipalName(this.#server),
      ...(start !== undefined ? { from: new Date(start) } : {}),
      till: new Date((start ?? now) + o.lifetime),
      ...(renewable ? { rtime: new Date(now + o.renewLifetime!) } : {}),
      nonce: this.#nonce,
      etype: [...etypes],
    };
    return body;
  }

  #canonicalize(): boolean {
    return this.#o.canonicalize === true || this.#o.client.nameType === NameType.NT_ENTERPRISE;
  }

  async #buildWithPreauth(): Promise<Uint8Array> {
    const entry = this.#preauth!.entry;
    const key = await this.#keyFor(entry.etype, entry);
    const now = this.#kdcNow();
    const ts = PaEncTsEnc.encode({ patimestamp: new Date(now), pausec: (((now % 1000) + 1000) % 1000) * 1000 });
    const enc = EncryptedData.encode({ etype: key.enctype, cipher: encrypt(key, KeyUsage.PA_ENC_TIMESTAMP, ts, this.#env.random) });
    return this.#build([{ padataType: PaType.PA_ENC_TIMESTAMP, padataValue: enc }]);
  }

  #methodData(e: KrbError): PaData[] {
    if (e.eData === undefined) return [];
    try {
      return MethodData.decode(e.eData);
    } catch (err) {
      throw new BadKdcReplyError(`the KDC's PREAUTH_REQUIRED error for ${this.#ctx.client} carries e-data that is not METHOD-DATA`, { cause: err, detail: { ...this.#ctx } });
    }
  }

  /** The KDC's PA-ETYPE-INFO2 entries are in its preference order; take the first we can use. */
  #chooseEtypeInfo(e: KrbError): EtypeInfo2Entry {
    const methods = this.#methodData(e);
    const types = methods.map((m) => m.padataType);
    if (!types.includes(PaType.PA_ENC_TIMESTAMP)) {
      throw new KdcError(`the KDC requires pre-authentication for ${this.#ctx.client} that kerbside does not offer (offered: ${types.join(', ') || 'none'})`, {
        krbCode: e.errorCode, detail: { ...this.#ctx, offered: types.map(String) },
        hint: 'encrypted timestamp (PA-ENC-TIMESTAMP) is not allowed for this principal; PKINIT, OTP and FAST are not supported by this client',
      });
    }
    const entries = this.#etypeInfo(e);
    const usable = entries.find((x) => this.#etypes.includes(x.etype));
    if (usable !== undefined) return usable;
    if (entries.length === 0) return { etype: this.#etypes[0]! };
    if (this.#o.allowWeak !== true && entries.every((x) => x.etype === Enctype.RC4_HMAC)) throw this.#rc4Only();
    throw new NoCommonEnctypeError(
      `the KDC holds keys for ${this.#ctx.client} only in enctypes ${entries.map((x) => x.etype).join(', ')}, none of which this client may use (${this.#etypes.join(', ')})`,
      { krbCode: ErrorCode.KDC_ERR_ETYPE_NOSUPP, detail: { ...this.#ctx }, hint: 'add AES keys to the principal on the KDC, or permit its enctypes in krb5.conf' },
    );
  }

  #etypeInfo(e: KrbError): EtypeInfo2Entry[] {
    const info2 = this.#methodData(e).find((m) => m.padataType === PaType.PA_ETYPE_INFO2);
    return info2 === undefined ? [] : EtypeInfo2.decode(info2.padataValue);
  }

  #keyFor(etype: number, info: EtypeInfo2Entry | undefined): Promise<Key> {
    const src = this.#o.keySource;
    if (src.kind === 'certificate') {
      return Promise.reject(new InvalidArgumentError('a certificate has no long-term key'));
    }
    if (src.kind === 'keys') {
      const candidates = src.keys.filter((k) => k.enctype === etype);
      const best = candidates.sort((a, b) => (b.kvno ?? 0) - (a.kvno ?? 0))[0];
      if (best === undefined) {
        return Promise.reject(new KeytabKeyMissingError(`${src.description ?? 'the keytab'} has no ${etype} key for ${this.#ctx.client}`, {
          detail: { ...this.#ctx, enctype: etype }, hint: 'add a key of that enctype to the keytab',
        }));
      }
      return Promise.resolve({ enctype: best.enctype, keyvalue: best.keyvalue });
    }
    const salt = info?.salt ?? defaultSalt(this.#o.client.realm, this.#o.client.components);
    const id = `${etype}\0${salt}\0${info?.s2kparams === undefined ? '' : toHex(info.s2kparams)}`;
    let key = this.#derived.get(id);
    if (key === undefined) {
      key = stringToKey(etype, src.password, salt, info?.s2kparams, this.#o.allowWeak === true ? { allowWeak: true } : {});
      this.#derived.set(id, key);
    }
    return key;
  }

  async #onReply(rep: AsRep): Promise<InitialCredential> {
    const o = this.#o;
    const client = fromPrincipalName(rep.cname, rep.crealm);
    // RFC 6806 §6: with CANONICALIZE the KDC may answer with another (the canonical) client name.
    if (!samePrincipal(client, o.client) && !this.#canonicalize()) {
      throw new BadKdcReplyError(`the KDC answered a request for ${this.#ctx.client} with a ticket for ${showPrincipal(client)}`, { detail: { ...this.#ctx } });
    }
    const etype = rep.encPart.etype;
    if (!this.#etypes.includes(etype)) {
      throw new BadKdcReplyError(`the KDC encrypted the AS-REP for ${this.#ctx.client} with enctype ${etype}, which was not requested`, { detail: { ...this.#ctx } });
    }
    let key: Key;
    if (this.#pkinit !== undefined) {
      key = await this.#pkinit.replyKey(rep, this.#request, this.#env.now());
    } else {
      // The salt: the reply's own PA-ETYPE-INFO2, else what the preauth round used, else the default.
      const replyInfo = rep.padata?.find((p) => p.padataType === PaType.PA_ETYPE_INFO2);
      const info = (replyInfo === undefined ? undefined : EtypeInfo2.decode(replyInfo.padataValue).find((x) => x.etype === etype))
        ?? (this.#preauth?.entry.etype === etype ? this.#preauth.entry : undefined);
      key = await this.#keyFor(etype, info);
    }
    let plain: Uint8Array;
    try {
      plain = decrypt(key, KeyUsage.AS_REP_ENCPART, rep.encPart.cipher);
    } catch (err) {
      if (this.#pkinit !== undefined) throw this.#pkinit.decryptFailed(err);
      if (err instanceof IntegrityError) throw passwordIncorrect(this.#ctx, ErrorCode.KRB_AP_ERR_BAD_INTEGRITY, { ...this.#ctx });
      throw err;
    }
    const enc = EncAsRepPart.decode(plain);
    if (enc.nonce !== this.#nonce && (enc.nonce >>> 0) !== this.#nonce) {
      throw new BadKdcReplyError(`the AS-REP for ${this.#ctx.client} does not answer this request (nonce mismatch)`, { detail: { ...this.#ctx } });
    }
    const server = fromPrincipalName(enc.sname, enc.srealm);
    const ticketServer = fromPrincipalName(rep.ticket.sname, rep.ticket.realm);
    if (!samePrincipal(server, this.#server) || !samePrincipal(ticketServer, this.#server)) {
      throw new BadKdcReplyError(`the KDC answered a request for ${this.#ctx.service} with a ticket for ${showPrincipal(server)}`, { detail: { ...this.#ctx } });
    }
    if (enc.endtime.getTime() <= this.#kdcNow()) {
      throw new BadKdcReplyError(`the KDC issued ${this.#ctx.client} a ticket that has already expired (${enc.endtime.toISOString()})`, {
        detail: { ...this.#ctx }, hint: 'check the clocks of this host and the KDC (NTP)',
      });
    }
    const credential = credentialFromReply(client, server, enc, rep.ticket);
    const paType = this.#pkinit !== undefined ? PaType.PA_PK_AS_REQ : this.#preauth === undefined ? PA_NONE : PaType.PA_ENC_TIMESTAMP;
    return { credential, paType, offset: this.#offset };
  }
}

