/**
 * Typed combinators that build codecs for constructed types:
 *
 *   const PrincipalName = seq({
 *     nameType: ctx(0, int32),
 *     nameString: ctx(1, seqOf(kerberosString)),
 *   });
 *   type PrincipalName = Infer<typeof PrincipalName>;
 *
 * SEQUENCE field keys are camelCase; error paths use the kebab-case ASN.1
 * name derived from them (`reqBody` → 'req-body'). Decoding enforces
 * definition order and rejects unknown or repeated fields: RFC 4120 types are
 * not extensible in DER, and later extensions (FAST, PKINIT, MS-KILE, MS-SFU)
 * travel in padata, authorization data and e-data instead; the one added
 * field in use, EncKDCRepPart [12] (RFC 6806), is part of our definition.
 */

import { concatBytes } from '../core/bytes.js';
import { accepts, describeTags, fromContent, makeCodec } from './codec.js';
import type { Codec, Infer, Optional } from './codec.js';
import { DerReader, TagClass, UniversalTag, describeTag, sameTag, tag } from './der.js';
import type { Element, Tag } from './der.js';
import { Asn1EncodeError, Asn1TagError, Asn1TrailingError, Asn1TruncatedError, Asn1ValueError } from './errors.js';
import type { KerbsideErrorOptions } from '../core/errors.js';

// ---------------------------------------------------------------- explicit tags

function explicit<T>(cls: TagClass, n: number, inner: Codec<T>, name: string): Codec<T> {
  const t = tag(cls, n, true);
  return fromContent<T>(name, {
    tag: t,
    encodeContent: (value, path) => inner.write(value, path),
    decodeContent(reader, el, path) {
      return reader.nested(el, path, () => {
        const kids = reader.children(el, path);
        const first = kids[0];
        if (first === undefined) {
          throw new Asn1TruncatedError(`${describeTag(t)} is empty; expected ${describeTags(inner.tags)}`, {
            offset: el.start, path,
          });
        }
        if (kids.length > 1) {
          throw new Asn1TrailingError(`extra data after the value inside ${describeTag(t)}`, {
            offset: kids[1]!.start, path,
          });
        }
        return inner.read(reader, first, path);
      });
    },
  });
}

/** `[n] EXPLICIT t`, the context tag of every RFC 4120 SEQUENCE field. */
export function ctx<T>(n: number, inner: Codec<T>): Codec<T> {
  return explicit(TagClass.CONTEXT, n, inner, inner.name);
}

/** `[APPLICATION n] EXPLICIT t`, the outer tag of RFC 4120 messages. */
export function app<T>(n: number, inner: Codec<T>, name: string = inner.name): Codec<T> {
  return explicit(TagClass.APPLICATION, n, inner, name);
}

/** `[cls n] IMPLICIT t`: replaces the tag of a single-tag codec, keeping its constructed bit. */
export function implicit<T>(cls: TagClass, n: number, inner: Codec<T>, name: string = inner.name): Codec<T> {
  const content = inner.content;
  if (content === undefined) throw new TypeError(`cannot apply an IMPLICIT tag to ${inner.name} (untagged CHOICE or ANY)`);
  return fromContent<T>(name, { ...content, tag: tag(cls, n, content.tag.constructed) });
}

// ---------------------------------------------------------------- SEQUENCE

/** Marks a SEQUENCE field OPTIONAL; the property is absent when the field is. */
export function opt<T>(codec: Codec<T>): Optional<T> {
  return Object.freeze({ optional: true as const, codec });
}

type Field = Codec<any> | Optional<any>;
type Fields = Record<string, Field>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type RequiredKeys<F> = { [K in keyof F]: F[K] extends Optional<any> ? never : K }[keyof F];
type OptionalKeys<F> = { [K in keyof F]: F[K] extends Optional<any> ? K : never }[keyof F];

/** The object type a `seq()` definition decodes to (optional fields become optional properties). */
export type SeqValue<F extends Fields> = Simplify<
  { [K in RequiredKeys<F>]: Infer<F[K]> } & { [K in OptionalKeys<F>]?: Infer<F[K]> }
>;

/** 'reqBody' → 'req-body', 's2kparams' → 's2kparams'. */
export function asn1FieldName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

interface FieldInfo {
  readonly key: string;
  readonly asn1: string;
  readonly optional: boolean;
  readonly codec: Codec<unknown>;
}

function isOptional(f: Field): f is Optional<unknown> {
  return (f as Optional<unknown>).optional === true;
}

export function seq<F extends Fields>(fields: F, name = 'SEQUENCE'): Codec<SeqValue<F>> {
  const infos: FieldInfo[] = Object.entries(fields).map(([key, f]) => ({
    key,
    asn1: asn1FieldName(key),
    optional: isOptional(f),
    codec: isOptional(f) ? f.codec : f,
  }));
  // Decoding picks fields by tag, so two fields that can start with the same tag would be ambiguous.
  for (let i = 0; i < infos.length; i++) {
    for (let j = i + 1; j < infos.length; j++) {
      const a = infos[i]!.codec.tags;
      const b = infos[j]!.codec.tags;
      if (a === null || b === null || a.some((x) => b.some((y) => sameTag(x, y)))) {
        throw new TypeError(`${name}: fields ${infos[i]!.key} and ${infos[j]!.key} cannot be told apart by tag`);
      }
    }
  }
  return fromContent<SeqValue<F>>(name, {
    tag: tag(TagClass.UNIVERSAL, UniversalTag.SEQUENCE, true),
    encodeContent(value, path) {
      if (typeof value !== 'object' || value === null) throw new Asn1EncodeError('expected an object', { path });
      const parts: Uint8Array[] = [];
      const record = value as Record<string, unknown>;
      for (const f of infos) {
        const v = record[f.key];
        if (v === undefined) {
          if (f.optional) continue;
          throw new Asn1EncodeError(`required field ${f.asn1} (${f.key}) is missing`, { path: `${path}.${f.asn1}` });
        }
        parts.push(f.codec.write(v, `${path}.${f.asn1}`));
      }
      return concatBytes(...parts);
    },
    decodeContent(reader, el, path) {
      return reader.nested(el, path, () => {
        const kids = reader.children(el, path);
        const out: Record<string, unknown> = {};
        let k = 0;
        for (const f of infos) {
          const kid = kids[k];
          if (kid !== undefined && accepts(f.codec, kid)) {
            out[f.key] = f.codec.read(reader, kid, `${path}.${f.asn1}`);
            k++;
          } else if (!f.optional) {
            const found = kid === undefined ? 'the end of the SEQUENCE' : describeTag(kid);
            throw new Asn1TagError(
              `required field ${f.asn1} (${describeTags(f.codec.tags)}) is missing; found ${found}`,
              { offset: kid?.start ?? el.start, path: `${path}.${f.asn1}` },
            );
          }
        }
        const extra = kids[k];
        if (extra !== undefined) {
          const known = infos.find((f) => accepts(f.codec, extra));
          const why = known === undefined
            ? `unknown field ${describeTag(extra)}`
            : `field ${known.asn1} (${describeTag(extra)}) is out of order or repeated`;
          throw new Asn1TagError(why, { offset: extra.start, path });
        }
        return out as SeqValue<F>;
      });
    },
  });
}

// ---------------------------------------------------------------- SEQUENCE OF

/** SEQUENCE OF t as an array; element paths are 'name[i]'. */
export function seqOf<T>(element: Codec<T>, name = `SEQUENCE OF ${element.name}`): Codec<T[]> {
  return fromContent<T[]>(name, {
    tag: tag(TagClass.UNIVERSAL, UniversalTag.SEQUENCE, true),
    encodeContent(value, path) {
      if (!Array.isArray(value)) throw new Asn1EncodeError('expected an array', { path });
      return concatBytes(...value.map((v, i) => element.write(v, `${path}[${i}]`)));
    },
    decodeContent(reader, el, path) {
      return reader.nested(el, path, () =>
        reader.children(el, path).map((kid, i) => element.read(reader, kid, `${path}[${i}]`)));
    },
  });
}

// ---------------------------------------------------------------- CHOICE

type Alternatives = Record<string, Codec<any>>;
/** `{ type: key, value }` for the alternative that was present. */
export type ChoiceValue<A extends Alternatives> = { [K in keyof A & string]: { type: K; value: Infer<A[K]> } }[keyof A & string];

/** An untagged CHOICE, dispatched on the tag of the element found. */
export function choice<A extends Alternatives>(alternatives: A, name = 'CHOICE'): Codec<ChoiceValue<A>> {
  const entries = Object.entries(alternatives);
  const tags: Tag[] = [];
  for (const [key, c] of entries) {
    if (c.tags === null) throw new TypeError(`${name}: alternative ${key} accepts any element`);
    for (const t of c.tags) {
      if (tags.some((x) => sameTag(x, t))) throw new TypeError(`${name}: tag ${describeTag(t)} is used twice`);
      tags.push(t);
    }
  }
  return makeCodec<ChoiceValue<A>>({
    name,
    tags,
    write(value, path) {
      const c = alternatives[value?.type];
      if (c === undefined) throw new Asn1EncodeError(`unknown alternative ${String(value?.type)}`, { path });
      return c.write(value.value, path);
    },
    read(reader, el, path) {
      const [key, c] = entries.find(([, alt]) => accepts(alt, el))!;
      return { type: key, value: c.read(reader, el, path) } as ChoiceValue<A>;
    },
  });
}

/** Decodes with whichever codec accepts the tag, encodes with the first (e.g. EncASRepPart read as [APPLICATION 25] or 26). */
export function acceptAlso<T>(primary: Codec<T>, ...others: Codec<T>[]): Codec<T> {
  const all = [primary, ...others];
  return makeCodec<T>({
    name: primary.name,
    tags: all.flatMap((c) => c.tags ?? []),
    write: primary.write,
    read: (reader, el, path) => all.find((c) => accepts(c, el))!.read(reader, el, path),
  });
}

// ---------------------------------------------------------------- raw bytes

/**
 * Any single element kept as its exact DER bytes (tag, length and content),
 * e.g. an open type decoded later. Decoding checks the framing of everything
 * inside (minimal lengths, depth); encoding writes the bytes as they are,
 * after checking they are exactly one DER element.
 */
export const raw: Codec<Uint8Array> = makeCodec<Uint8Array>({
  name: 'ANY',
  tags: null,
  write(value, path) {
    if (!(value instanceof Uint8Array)) throw new Asn1EncodeError('expected a Uint8Array', { path });
    try {
      rawCheck(value);
    } catch (e) {
      throw new Asn1EncodeError(`raw value is not one well-formed DER element: ${(e as Error).message}`, { path, cause: e });
    }
    return value.slice();
  },
  read(reader, el, path) {
    reader.validate(el, path);
    return reader.bytes.slice(el.start, el.end);
  },
});

function rawCheck(bytes: Uint8Array): void {
  const reader = new DerReader(bytes, {}, 'ANY');
  const el = reader.element(0, bytes.length, 'ANY');
  if (el.end !== bytes.length) throw new Asn1TrailingError('trailing bytes', { offset: el.end, path: 'ANY' });
  reader.validate(el, 'ANY');
}

export interface WithRaw<T> {
  readonly value: T;
  /** The exact DER bytes the value was decoded from. */
  readonly raw: Uint8Array;
}

/**
 * Decodes like `inner` and also keeps the exact bytes of the element (what a
 * checksum over KDC-REQ-BODY covers). Encoding writes `value` afresh; DER
 * makes that identical for values this layer decoded.
 */
export function withRaw<T>(inner: Codec<T>): Codec<WithRaw<T>> {
  return makeCodec<WithRaw<T>>({
    name: inner.name,
    tags: inner.tags,
    write: (v, path) => inner.write(v.value, path),
    read: (reader, el, path) => ({ value: inner.read(reader, el, path), raw: reader.bytes.slice(el.start, el.end) }),
  });
}

// ---------------------------------------------------------------- transforms

/**
 * Maps a codec's values: `decode` turns the inner value into the outer one,
 * `encode` the reverse. A `decode` that rejects a value throws
 * `ValueRejected`, which becomes an `Asn1ValueError` with offset and path.
 */
export function map<A, B>(
  inner: Codec<A>,
  fns: { readonly decode: (a: A) => B; readonly encode: (b: B, path: string) => A },
  name: string = inner.name,
): Codec<B> {
  const content = inner.content;
  return makeCodec<B>({
    name,
    tags: inner.tags,
    ...(content === undefined ? {} : {
      content: {
        tag: content.tag,
        encodeContent: (v: B, path: string) => content.encodeContent(fns.encode(v, path), path),
        decodeContent: (reader: DerReader, el: Element, path: string) =>
          convert(fns.decode, content.decodeContent(reader, el, path), el.start, path),
      },
    }),
    write: (v, path) => inner.write(fns.encode(v, path), path),
    read: (reader, el, path) => convert(fns.decode, inner.read(reader, el, path), el.start, path),
  });
}

/** Thrown from a `map` decode function to reject a value; becomes an `Asn1ValueError` with offset and path. */
export class ValueRejected extends Error {
  readonly options: KerbsideErrorOptions;
  constructor(message: string, options: KerbsideErrorOptions = {}) {
    super(message);
    this.options = options;
  }
}

function convert<A, B>(fn: (a: A) => B, a: A, offset: number, path: string): B {
  try {
    return fn(a);
  } catch (e) {
    if (e instanceof ValueRejected) throw new Asn1ValueError(e.message, { ...e.options, offset, path });
    throw e;
  }
}

/**
 * A field whose value is fixed (pvno 5, msg-type 10…). Decoding any other
 * value fails with `Asn1ValueError` carrying `krbCode` when given.
 */
export function constant<B extends number | string | boolean, const V extends B>(
  inner: Codec<B>, expected: V, options: { readonly krbCode?: number; readonly what?: string } = {},
): Codec<V> {
  const what = options.what ?? inner.name;
  return map<B, V>(inner, {
    decode(v) {
      if (v !== expected) {
        throw new ValueRejected(`${what} must be ${String(expected)}, found ${String(v)}`,
          options.krbCode === undefined ? {} : { krbCode: options.krbCode });
      }
      return expected;
    },
    encode(v, path) {
      if (v !== expected) throw new Asn1EncodeError(`${what} must be ${String(expected)}, got ${String(v)}`, { path });
      return v;
    },
  });
}
