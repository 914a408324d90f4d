/**
 * Principals as the MIT file formats store them: a realm, a name type and the
 * name components (RFC 4120 §6.2). Text forms follow MIT's krb5_unparse_name /
 * krb5_parse_name quoting: `\/`, `\@`, `\\` and `\n \t \b \0` inside a
 * component; `/` is not escaped inside the realm.
 */

import { InvalidArgumentError } from '../core/errors.js';

export interface Principal {
  readonly realm: string;
  readonly nameType: number;
  readonly components: readonly string[];
}

/** RFC 4120 §6.2 name types used by the files module's defaults. */
export const NT_UNKNOWN = 0;
export const NT_PRINCIPAL = 1;
export const NT_SRV_INST = 2;

const ESCAPES: Readonly<Record<string, string>> = Object.freeze({ '\n': 'n', '\t': 't', '\b': 'b', '\0': '0' });
const UNESCAPES: Readonly<Record<string, string>> = Object.freeze({ n: '\n', t: '\t', b: '\b', '0': '\0' });

function quote(text: string, inRealm: boolean): string {
  let out = '';
  for (const ch of text) {
    const esc = ESCAPES[ch];
    if (esc !== undefined) out += `\\${esc}`;
    else if (ch === '\\' || ch === '@' || (ch === '/' && !inRealm)) out += `\\${ch}`;
    else out += ch;
  }
  return out;
}

/** `HTTP/host@REALM`, quoted as MIT does. */
export function principalToString(p: Principal): string {
  return `${p.components.map((c) => quote(c, false)).join('/')}@${quote(p.realm, true)}`;
}

/**
 * Parses `a/b@REALM`. Without a realm in the text, `defaultRealm` is used (an
 * error when neither is there). The name type defaults to NT-PRINCIPAL, as
 * MIT's krb5_parse_name does.
 */
export function parsePrincipal(text: string, options: { defaultRealm?: string; nameType?: number } = {}): Principal {
  const components: string[] = [];
  let current = '';
  let realm: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === undefined) throw new InvalidArgumentError(`principal name "${text}" ends with a lone backslash`);
      current += UNESCAPES[next] ?? next;
      i++;
    } else if (ch === '/' && realm === undefined) {
      components.push(current);
      current = '';
    } else if (ch === '@' && realm === undefined) {
      components.push(current);
      current = '';
      realm = '';
    } else if (ch === '@') {
      throw new InvalidArgumentError(`principal name "${text}" has more than one unescaped "@"`);
    } else {
      current += ch;
    }
  }
  if (realm === undefined) {
    components.push(current);
    realm = options.defaultRealm;
    if (realm === undefined) {
      throw new InvalidArgumentError(`principal name "${text}" has no realm and no default realm was given`);
    }
  } else {
    realm = current;
  }
  if (components.length === 0 || (components.length === 1 && components[0] === '')) {
    throw new InvalidArgumentError(`principal name "${text}" has no name components`);
  }
  return { realm, nameType: options.nameType ?? NT_PRINCIPAL, components };
}

/** Same realm and components; the name type is ignored, as MIT's krb5_principal_compare does. */
export function principalEquals(a: Principal, b: Principal): boolean {
  return a.realm === b.realm
    && a.components.length === b.components.length
    && a.components.every((c, i) => c === b.components[i]);
}
