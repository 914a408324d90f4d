/**
 * Conversions between the files module's `Principal` (realm + name type +
 * components, what keytabs and ccaches store), the wire `PrincipalName`
 * (RFC 4120 §5.2.2) and crypto `Key`s.
 */

import type { Key } from '../crypto/index.js';
import type { Principal } from '../files/index.js';
import type { PrincipalName } from '../messages/index.js';

export function toPrincipalName(p: Principal): PrincipalName {
  return { nameType: p.nameType, nameString: [...p.components] };
}

export function fromPrincipalName(name: PrincipalName, realm: string): Principal {
  return { realm, nameType: name.nameType, components: [...name.nameString] };
}

export function toKey(k: { readonly enctype: number; readonly keyvalue: Uint8Array }): Key {
  return { enctype: k.enctype, keyvalue: k.keyvalue };
}
