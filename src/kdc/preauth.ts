/**
 * Pre-authentication as a registry of mechanisms (RFC 4120 §5.2.7, §7.5.2;
 * the shape of MIT kdc_preauth.c). A mechanism may
 *  - offer padata in the METHOD-DATA of KDC_ERR_PREAUTH_REQUIRED (`edata`),
 *  - verify padata the client sent (`verify`; success marks the ticket
 *    PRE-AUTHENT, failure throws a KdcRequestError), and may replace the
 *    reply key (PKINIT, encrypted challenge),
 *  - add padata to a successful AS-REP (`returnPadata`).
 * Built in: PA-ETYPE-INFO2 (hints only) and PA-ENC-TIMESTAMP. PKINIT, FAST
 * and encrypted challenge plug in as further rows. Only what is registered is
 * advertised: no PA-FX-FAST, since MIT clients then armor their TGS requests.
 */

import { decrypt, KeyUsage, type Key } from '../crypto/index.js';
import {
  EncryptedData, ErrorCode, EtypeInfo2, PaEncTsEnc, PaType, type AsReq, type PaData,
} from '../messages/index.js';
import type { PrincipalRecord, StoredKey } from '../store/index.js';
import type { RandomSource } from '../core/random.js';
import type { RealmPolicy } from './config.js';
import { KdcRequestError } from './errors.js';
import { currentKeys } from './policy.js';
import { saltOf } from './keys.js';

/** What a mechanism sees of one AS exchange. */
export interface AsPreauthContext {
  readonly request: AsReq;
  /** The client's store name ('user@REALM'). */
  readonly clientName: string;
  readonly client: PrincipalRecord;
  /**
   * The client key the reply will be encrypted in (chosen from the request's
   * etype list); undefined for a client without long-term keys (a
   * certificate-only principal: PKINIT makes the reply key).
   */
  readonly replyKey: StoredKey | undefined;
  /** The AS-REQ as received (RFC 8636 binds the PKINIT key to it). */
  readonly rawRequest: Uint8Array | undefined;
  readonly realm: string;
  readonly random: RandomSource;
  /** Opens a stored key of the client (master-key unwrapping). */
  openKey(stored: StoredKey): Key;
  /** KDC time, ms. */
  readonly now: number;
  readonly policy: RealmPolicy;
}

export interface PreauthOutcome {
  /** A reply key that replaces the client's long-term key (e.g. encrypted challenge). */
  readonly replyKey?: Key;
  /**
   * A reply made by the mechanism (PKINIT, RFC 4556 §3.2.3): the padata for
   * the AS-REP and the reply key in the chosen enctype; the other
   * mechanisms' AS-REP padata is left out.
   */
  readonly reply?: {
    readonly padata: readonly PaData[];
    readonly replyKey: Key;
  };
}

export interface PreauthMechanism {
  readonly padataType: number;
  /** Proves a certificate's key (PKINIT): the only kind a `requiresPkinit` client may use. */
  readonly certificate?: boolean;
  /** For logs: 'encrypted-timestamp', 'etype-info2', … */
  readonly name: string;
  /** Hints for METHOD-DATA (several for PKINIT: PA-PK-AS-REQ and a PA-AS-FRESHNESS token). */
  edata?(ctx: AsPreauthContext): PaData | readonly PaData[] | undefined;
  verify?(ctx: AsPreauthContext, padata: PaData): Promise<PreauthOutcome>;
  returnPadata?(ctx: AsPreauthContext): PaData | undefined;
}

export interface PreauthRegistry {
  /** Mechanisms in the order their hints are sent. */
  readonly mechanisms: readonly PreauthMechanism[];
  /** Frozen null-prototype table by padata type. */
  readonly byType: Readonly<Record<number, PreauthMechanism | undefined>>;
}

export function preauthRegistry(mechanisms: readonly PreauthMechanism[]): PreauthRegistry {
  const byType = Object.create(null) as Record<number, PreauthMechanism>;
  for (const m of mechanisms) byType[m.padataType] = m;
  return Object.freeze({ mechanisms: Object.freeze([...mechanisms]), byType: Object.freeze(byType) });
}

/**
 * RFC 4120 §5.2.7.5 PA-ETYPE-INFO2: how the client makes its key — the salt
 * and s2kparams exactly as stored. One entry, for the key the KDC chose from
 * the client's list (as MIT sends).
 */
export const etypeInfo2Mechanism: PreauthMechanism = Object.freeze({
  padataType: PaType.PA_ETYPE_INFO2,
  name: 'etype-info2',
  edata: (ctx: AsPreauthContext) => etypeInfo2(ctx),
  returnPadata: (ctx: AsPreauthContext) => etypeInfo2(ctx),
});

function etypeInfo2(ctx: AsPreauthContext): PaData | undefined {
  const key = ctx.replyKey;
  if (key === undefined) return undefined; // no password: nothing to salt
  const entry = {
    etype: key.enctype,
    salt: saltOf(key, ctx.clientName),
    ...(key.s2kparams === undefined ? {} : { s2kparams: key.s2kparams }),
  };
  return { padataType: PaType.PA_ETYPE_INFO2, padataValue: EtypeInfo2.encode([entry]) };
}

/**
 * RFC 4120 §5.2.7.2 PA-ENC-TIMESTAMP: PA-ENC-TS-ENC encrypted in the client's
 * key (usage 1), within the clock skew.
 */
export const encryptedTimestampMechanism: PreauthMechanism = Object.freeze({
  padataType: PaType.PA_ENC_TIMESTAMP,
  name: 'encrypted-timestamp',
  edata: (): PaData => ({ padataType: PaType.PA_ENC_TIMESTAMP, padataValue: new Uint8Array(0) }),
  async verify(ctx: AsPreauthContext, padata: PaData): Promise<PreauthOutcome> {
    let enc: EncryptedData;
    try {
      enc = EncryptedData.decode(padata.padataValue);
    } catch (err) {
      throw new KdcRequestError(ErrorCode.KDC_ERR_PREAUTH_FAILED, 'PA-ENC-TIMESTAMP is not a valid EncryptedData', { cause: err });
    }
    const candidates = currentKeys(ctx.client.keys).filter((k) => k.enctype === enc.etype);
    if (candidates.length === 0) {
      throw new KdcRequestError(ErrorCode.KDC_ERR_PREAUTH_FAILED, `no key of enctype ${enc.etype} for the encrypted timestamp`, {
        reason: `PA-ENC-TIMESTAMP in enctype ${enc.etype}, for which ${ctx.clientName} has no current key`,
      });
    }
    let plain: Uint8Array | undefined;
    for (const stored of candidates) {
      // Outside the try: a stored key that does not unwrap is the KDC's failure, not a wrong password.
      const key = ctx.openKey(stored);
      try {
        plain = decrypt(key, KeyUsage.PA_ENC_TIMESTAMP, enc.cipher);
        break;
      } catch {
        // wrong key: try the next candidate, then fail
      }
    }
    if (plain === undefined) {
      throw new KdcRequestError(ErrorCode.KDC_ERR_PREAUTH_FAILED, 'pre-authentication failed', {
        reason: `PA-ENC-TIMESTAMP did not decrypt with the enctype ${enc.etype} key of ${ctx.clientName} (kvno ${candidates[0]!.kvno}): wrong password or out-of-date key`,
      });
    }
    let ts: PaEncTsEnc;
    try {
      ts = PaEncTsEnc.decode(plain);
    } catch (err) {
      throw new KdcRequestError(ErrorCode.KDC_ERR_PREAUTH_FAILED, 'PA-ENC-TIMESTAMP does not hold a PA-ENC-TS-ENC', { cause: err });
    }
    const skewMs = Math.abs(ts.patimestamp.getTime() - ctx.now);
    if (skewMs > ctx.policy.clockSkew * 1000) {
      throw new KdcRequestError(ErrorCode.KRB_AP_ERR_SKEW, 'clock skew too great', {
        reason: `client clock differs from the KDC's by ${formatDuration(skewMs)}, more than the allowed ${formatDuration(ctx.policy.clockSkew * 1000)}; check NTP on the client`,
      });
    }
    return {};
  },
});

/** The built-in registry: hints in the order MIT sends them. */
export const DEFAULT_PREAUTH: PreauthRegistry = preauthRegistry([etypeInfo2Mechanism, encryptedTimestampMechanism]);

/** '7m12s' style, for skew messages. */
export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}
