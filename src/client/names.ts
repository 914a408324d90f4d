/**
 * Principals on the client side: the files module's `Principal` (realm, name
 * type, components — what caches and keytabs store) and the wire form
 * (PrincipalName + realm, RFC 4120 §5.2.2).
 */

import { InvalidArgumentError } from '../core/errors.js';
import { principalEquals, principalToString, parsePrincipal, type Credential, type Principal } from '../files/index.js';
import { principalNameFromString } from '../messages/index.js';
import { NameType, Ticket, type EncKdcRepPart, type PrincipalName } from '../messages/index.js';

export function toPrincipalName(p: Principal): PrincipalName {
  return { nameType: p.nameType, nameString: [...p.components] };
}

export function fromPrincipalName(name: PrincipalName, realm: string): Principal {
  return { realm, nameType: name.nameType, components: [...name.nameString] };
}

/** krbtgt/SERVICE_REALM@CLIENT_REALM (RFC 4120 §7.3). */
export function tgsPrincipal(realm: string, clientRealm: string = realm): Principal {
  return { realm: clientRealm, nameType: NameType.NT_SRV_INST, components: ['krbtgt', realm] };
}

export function isTgsPrincipal(p: Principal): boolean {
  return p.components.length === 2 && p.components[0] === 'krbtgt';
}

/** Same components and realm; name types are ignored, as MIT compares. */
export function samePrincipal(a: Principal, b: Principal): boolean {
  return principalEquals(a, b);
}

export const showPrincipal = principalToString;

/** Parses `name[@REALM]`, using `defaultRealm` when the text has none. */
export function principal(text: string, defaultRealm: string | undefined): Principal {
  return parsePrincipal(text, defaultRealm === undefined ? {} : { defaultRealm });
}

/**
 * An enterprise name (RFC 6806 §5, NT-ENTERPRISE; kinit -E): one component,
 * typically a UPN such as `alice@ad.test`. As MIT parses it, the first
 * unescaped '@' belongs to the name and a second one starts the realm to ask
 * (else the default realm).
 */
export function enterprisePrincipal(text: string, defaultRealm: string | undefined): Principal {
  const ats = text.match(/(?<!\\)@/g)?.length ?? 0;
  const full = ats >= 2 || defaultRealm === undefined ? text : `${text}@${defaultRealm}`;
  const parsed = principalNameFromString(full, { enterprise: true });
  const realm = parsed.realm ?? defaultRealm;
  if (realm === undefined) {
    throw new InvalidArgumentError(`no realm for enterprise name ${text}`, { hint: 'set default_realm in krb5.conf, or add @REALM after the name (alice@ad.test@AD.TEST)' });
  }
  return { realm, nameType: parsed.name.nameType, components: [...parsed.name.nameString] };
}

/** The credential-cache form of a validated AS or TGS reply (RFC 4120 §5.4.2). */
export function credentialFromReply(client: Principal, server: Principal, enc: EncKdcRepPart, ticket: Ticket): Credential {
  return {
    client,
    server,
    key: { enctype: enc.key.keytype, keyvalue: enc.key.keyvalue },
    authtime: enc.authtime,
    ...(enc.starttime !== undefined ? { starttime: enc.starttime } : {}),
    endtime: enc.endtime,
    ...(enc.renewTill !== undefined ? { renewTill: enc.renewTill } : {}),
    isSkey: false,
    ticketFlags: enc.flags >>> 0,
    addresses: (enc.caddr ?? []).map((a) => ({ addrType: a.addrType, address: a.address })),
    authdata: [],
    ticket: Ticket.encode(ticket),
    secondTicket: new Uint8Array(0),
  };
}
