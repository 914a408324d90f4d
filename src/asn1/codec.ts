/**
 * The codec abstraction every DER type in kerbside is built from.
 *
 * A `Codec<T>` turns a value of type T into one complete DER element and back.
 * `encode`/`decode` are the entry points for whole messages (decode enforces
 * size, depth, no trailing bytes); `write`/`read` are the pieces combinators
 * use to nest codecs. Codecs built on a single tag also expose their content
 * functions (`content`) so `implicit()` can re-tag them.
 */

import { DerReader, encodeTlv, describeTag, sameTag } from './der.js';
import type { DecodeOptions, Element, Tag } from './der.js';
import { Asn1TagError, Asn1TrailingError } from './errors.js';

export interface ContentCodec<T> {
  readonly tag: Tag;
  /** The content octets of the value (for constructed tags, the children's encodings). */
  readonly encodeContent: (value: T, path: string) => Uint8Array;
  /** Reads the value from an element whose tag has already been checked. */
  readonly decodeContent: (reader: DerReader, element: Element, path: string) => T;
}

export interface Codec<T> {
  /** ASN.1 name of the type; the root of error paths when decoding at top level. */
  readonly name: string;
  /** Outer tags this codec accepts; `null` means any element (raw/ANY). */
  readonly tags: readonly Tag[] | null;
  /** Present when the codec is one tag around content (everything except choice and raw). */
  readonly content: ContentCodec<T> | undefined;
  /** The complete DER encoding of `value`. Throws `Asn1EncodeError`. */
  readonly encode: (value: T) => Uint8Array;
  /** Strict DER decode of exactly one element filling `bytes`. Throws `Asn1Error` subclasses. */
  readonly decode: (bytes: Uint8Array, options?: DecodeOptions) => T;
  /** One complete TLV for `value`; `path` names it in errors. */
  readonly write: (value: T, path: string) => Uint8Array;
  /** Reads the value from `element` (checks the tag). */
  readonly read: (reader: DerReader, element: Element, path: string) => T;
}

/** A field of a SEQUENCE that may be absent; only meaningful inside `seq()`. */
export interface Optional<T> {
  readonly optional: true;
  readonly codec: Codec<T>;
}

/** The value type of a codec or optional field. */
export type Infer<C> = C extends Codec<infer T> ? T : C extends Optional<infer T> ? T : never;

/** Whether `codec` (anything with `tags`) accepts an element with tag `el`. */
export function accepts(codec: { readonly tags: readonly Tag[] | null }, el: Tag): boolean {
  return codec.tags === null || codec.tags.some((t) => sameTag(t, el));
}

export function describeTags(tags: readonly Tag[] | null): string {
  if (tags === null) return 'any element';
  return tags.map(describeTag).join(' or ');
}

export function expectTag(codec: { readonly tags: readonly Tag[] | null }, el: Element, path: string): void {
  if (!accepts(codec, el)) {
    throw new Asn1TagError(`expected ${describeTags(codec.tags)} but found ${describeTag(el)}`, {
      offset: el.start, path,
    });
  }
}

interface CodecSpec<T> {
  readonly name: string;
  readonly tags: readonly Tag[] | null;
  readonly content?: ContentCodec<T>;
  readonly write: (value: T, path: string) => Uint8Array;
  /** Called after the tag has been checked. */
  readonly read: (reader: DerReader, element: Element, path: string) => T;
}

/** Assembles a codec, adding the tag check and the top-level encode/decode. */
export function makeCodec<T>(spec: CodecSpec<T>): Codec<T> {
  const codec: Codec<T> = {
    name: spec.name,
    tags: spec.tags,
    content: spec.content,
    write: spec.write,
    read(reader, element, path) {
      expectTag(codec, element, path);
      return spec.read(reader, element, path);
    },
    encode: (value) => spec.write(value, spec.name),
    decode(bytes, options) {
      const reader = new DerReader(bytes, options, spec.name);
      const el = reader.element(0, bytes.length, spec.name);
      if (el.end !== bytes.length) {
        throw new Asn1TrailingError(`${bytes.length - el.end} byte(s) follow the end of the value`, {
          offset: el.end, path: spec.name,
        });
      }
      return codec.read(reader, el, spec.name);
    },
  };
  return Object.freeze(codec);
}

/** A codec that is exactly one tag around content. */
export function fromContent<T>(name: string, content: ContentCodec<T>): Codec<T> {
  return makeCodec({
    name,
    tags: [content.tag],
    content,
    write: (value, path) => encodeTlv(content.tag, content.encodeContent(value, path)),
    read: (reader, el, path) => content.decodeContent(reader, el, path),
  });
}

/** The same codec under another ASN.1 name (the root of its error paths). */
export function named<T>(name: string, codec: Codec<T>): Codec<T> {
  return makeCodec({
    name,
    tags: codec.tags,
    ...(codec.content === undefined ? {} : { content: codec.content }),
    write: codec.write,
    read: codec.read,
  });
}
