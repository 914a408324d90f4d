/**
 * Principal names as text, with MIT krb5's quoting rules (krb5_parse_name /
 * krb5_unparse_name): '/' separates components, the first unescaped '@'
 * starts the realm, and '\' escapes '/', '@', '\' plus \n \t \b \0 for
 * newline, tab, backspace and NUL; any other escaped character stands for
 * itself. 'krbtgt/REALM' gets NT_SRV_INST, everything else NT_PRINCIPAL
 * unless a name type is given.
 */

import { KerbsideError } from '../core/errors.js';
import type { PrincipalName } from './basic.js';
import { NameType } from './registries.js';

export class PrincipalSyntaxError extends KerbsideError {
  static override readonly code: string = 'ERR_PRINCIPAL_SYNTAX';
}

export interface ParsePrincipalOptions {
  /** Name type to use instead of the default (NT_SRV_INST for krbtgt/…, else NT_PRINCIPAL). */
  readonly nameType?: number;
  /**
   * Parse as an enterprise name (RFC 6806 §5): everything before the last
   * unescaped '@' is one component ('user@example.com@REALM'), type NT_ENTERPRISE.
   */
  readonly enterprise?: boolean;
}

export interface ParsedPrincipal {
  name: PrincipalName;
  realm?: string;
}

const UNESCAPE: Readonly<Record<string, string>> = Object.freeze({ n: '\n', t: '\t', b: '\b', '0': '\0' });

export function principalNameFromString(text: string, options: ParsePrincipalOptions = {}): ParsedPrincipal {
  const fail = (why: string): never => {
    throw new PrincipalSyntaxError(`cannot parse principal ${JSON.stringify(text)}: ${why}`, {
      hint: 'write principals as name/instance@REALM; escape a literal / @ or \\ with a backslash',
      detail: { principal: text },
    });
  };
  // Tokenise into characters, each marked as escaped or not.
  const chars: { c: string; escaped: boolean }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\') {
      chars.push({ c, escaped: false });
      continue;
    }
    const next = text[++i];
    if (next === undefined) fail('it ends with a lone backslash');
    chars.push({ c: UNESCAPE[next!] ?? next!, escaped: true });
  }
  const realmSeps = chars.flatMap((ch, i) => (!ch.escaped && ch.c === '@' ? [i] : []));
  let at: number | undefined;
  if (options.enterprise === true) {
    at = realmSeps.length > 0 ? realmSeps[realmSeps.length - 1] : undefined;
  } else {
    if (realmSeps.length > 1) fail('it has more than one unescaped @');
    at = realmSeps[0];
  }
  const nameChars = at === undefined ? chars : chars.slice(0, at);
  const realmChars = at === undefined ? undefined : chars.slice(at + 1);

  let realm: string | undefined;
  if (realmChars !== undefined) {
    if (realmChars.length === 0) fail('the realm after @ is empty');
    if (realmChars.some((ch) => !ch.escaped && ch.c === '/')) fail('a / follows the realm separator @');
    realm = realmChars.map((ch) => ch.c).join('');
  }

  let components: string[];
  if (options.enterprise === true) {
    components = [nameChars.map((ch) => ch.c).join('')];
  } else {
    components = [''];
    for (const ch of nameChars) {
      if (!ch.escaped && ch.c === '/') components.push('');
      else components[components.length - 1] += ch.c;
    }
  }

  const nameType = options.nameType
    ?? (options.enterprise === true ? NameType.NT_ENTERPRISE
      : components.length === 2 && components[0] === 'krbtgt' ? NameType.NT_SRV_INST
        : NameType.NT_PRINCIPAL);
  const name: PrincipalName = { nameType, nameString: components };
  return realm === undefined ? { name } : { name, realm };
}

function quote(s: string, special: RegExp): string {
  return s.replace(special, (c) => {
    switch (c) {
      case '\n': return '\\n';
      case '\t': return '\\t';
      case '\b': return '\\b';
      case '\0': return '\\0';
      default: return `\\${c}`;
    }
  });
}

/** 'HTTP/host.example.com@EXAMPLE.COM', quoting characters that would otherwise be read as separators. */
export function principalNameToString(name: PrincipalName, realm?: string): string {
  const text = name.nameString.map((c) => quote(c, /[/@\\\n\t\b\0]/g)).join('/');
  return realm === undefined ? text : `${text}@${quote(realm, /[/@\\\n\t\b\0]/g)}`;
}
