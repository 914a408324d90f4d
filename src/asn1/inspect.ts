/**
 * Schema-less view of DER for diagnostics: `parseDer` builds a tree of
 * elements under the same strict framing rules as the codecs, `dumpDer`
 * prints it one element per line (in the spirit of MIT's trval).
 */

import { fromUtf8, toHex } from '../core/bytes.js';
import { DerReader, describeTag } from './der.js';
import type { DecodeOptions, Element } from './der.js';
import { Asn1TrailingError } from './errors.js';

export interface DerNode {
  readonly element: Element;
  /** Children of a constructed element; undefined for primitives. */
  readonly children: readonly DerNode[] | undefined;
  /** Content octets of a primitive (a view into the input). */
  readonly content: Uint8Array | undefined;
}

export function parseDer(bytes: Uint8Array, options: DecodeOptions = {}): DerNode {
  const reader = new DerReader(bytes, options, 'DER');
  const top = reader.element(0, bytes.length, 'DER');
  if (top.end !== bytes.length) {
    throw new Asn1TrailingError(`${bytes.length - top.end} byte(s) follow the end of the value`, { offset: top.end, path: 'DER' });
  }
  const build = (el: Element): DerNode => {
    if (!el.constructed) return { element: el, children: undefined, content: reader.content(el) };
    const children = reader.nested(el, 'DER', () => reader.children(el, 'DER').map(build));
    return { element: el, children, content: undefined };
  };
  return build(top);
}

export function dumpDer(bytes: Uint8Array, options: DecodeOptions = {}): string {
  const lines: string[] = [];
  const walk = (node: DerNode, indent: string): void => {
    const el = node.element;
    const head = `${indent}${describeTag(el)} @${el.start} len=${el.end - el.contentStart}`;
    if (node.children === undefined) {
      const c = node.content!;
      const printable = c.length > 0 && c.every((x) => x >= 0x20 && x < 0x7f);
      lines.push(`${head} ${printable ? JSON.stringify(fromUtf8(c)) : toHex(c)}`);
    } else {
      lines.push(head);
      for (const child of node.children) walk(child, `${indent}  `);
    }
  };
  walk(parseDer(bytes, options), '');
  return lines.join('\n');
}
