/**
 * Authorization data a TGS exchange copies into the new ticket (RFC 4120
 * §3.3.3, §5.2.6; MIT src/kdc/kdc_authdata.c copy_request_authdata,
 * copy_tgt_authdata and is_kdc_issued_authdatum). Some elements only the KDC
 * may issue — a PAC, AD-KDC-ISSUED, AD-SIGNTICKET, a CAMMAC and the
 * authentication indicators inside it — because acceptors trust them as the
 * KDC's word. A client can put anything in a TGS-REQ's enc-authorization-data,
 * so those elements are dropped, as MIT drops them, also when they sit inside
 * an AD-IF-RELEVANT or AD-AND-OR container. kerbside makes no KDC-issued
 * elements of its own yet, so a ticket it issues carries none.
 *
 * Two choices stricter than MIT: containers are searched at every depth (MIT
 * looks one AD-IF-RELEVANT level deep), and a container whose contents do not
 * decode is dropped (MIT keeps it), since nobody can tell what it hides.
 */

import {
  AdAndOr, AdIfRelevant, AuthorizationDataType as AD, ErrorCode, type AuthorizationData, type AuthorizationDataEntry,
} from '../messages/index.js';
import { KdcRequestError } from './errors.js';

/** Types only the KDC may issue (MIT is_kdc_issued_authdatum). */
export const KDC_ISSUED_AD_TYPES: ReadonlySet<number> = new Set([
  AD.AD_KDC_ISSUED, AD.AD_WIN2K_PAC, 512 /* AD-SIGNTICKET (MIT KRB5_AUTHDATA_SIGNTICKET) */, AD.AD_CAMMAC,
  AD.AD_AUTHENTICATION_INDICATOR,
]);

/** How deep AD-IF-RELEVANT (RFC 4120 §5.2.6.1) and AD-AND-OR (§5.2.6.3) containers are searched; deeper is dropped. */
const MAX_NESTING = 8;

/** True when the element is, or contains at any depth, a KDC-issued element (or cannot be read). */
function hidesKdcIssued(entry: AuthorizationDataEntry, depth: number): boolean {
  if (KDC_ISSUED_AD_TYPES.has(entry.adType)) return true;
  if (entry.adType !== AD.AD_IF_RELEVANT && entry.adType !== AD.AD_AND_OR) return false;
  if (depth >= MAX_NESTING) return true;
  let inner: AuthorizationData;
  try {
    inner = entry.adType === AD.AD_IF_RELEVANT ? AdIfRelevant.decode(entry.adData) : AdAndOr.decode(entry.adData).elements;
  } catch {
    return true;
  }
  return inner.some((e) => hidesKdcIssued(e, depth + 1));
}

export interface FilteredAuthorizationData {
  /** What may go into the ticket, in the order given. */
  readonly kept: AuthorizationDataEntry[];
  /** The top-level ad-type of every element left out (for the request log). */
  readonly dropped: number[];
}

/** Leaves out every top-level element that is or hides a KDC-issued element (MIT add_filtered_authdata). */
export function filterClientAuthorizationData(entries: readonly AuthorizationDataEntry[]): FilteredAuthorizationData {
  const kept: AuthorizationDataEntry[] = [];
  const dropped: number[] = [];
  for (const entry of entries) {
    if (hidesKdcIssued(entry, 0)) dropped.push(entry.adType);
    else kept.push(entry);
  }
  return { kept, dropped };
}

/** MIT has_mandatory_for_kdc_authdata: AD-MANDATORY-FOR-KDC names conditions this KDC cannot check. */
export function refuseMandatoryForKdc(entries: readonly AuthorizationDataEntry[], source: string): void {
  if (entries.some((e) => e.adType === AD.AD_MANDATORY_FOR_KDC)) {
    throw new KdcRequestError(ErrorCode.KDC_ERR_POLICY, 'KDC policy rejects request', {
      reason: `${source} carries AD-MANDATORY-FOR-KDC (8), which this KDC does not understand`,
    });
  }
}
