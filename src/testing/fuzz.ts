/**
 * Property-based fuzzing of decoders with fast-check (docs/architecture.md
 * "Rules of the house": decoders throw typed errors, a server never crashes
 * on input).
 *
 * A `*.fuzz.test.ts` file declares its targets with `fuzzSuite`; each target
 * is a function fed bytes. The property: it returns, or throws a
 * `KerbsideError` — never a TypeError, RangeError or other untyped exception,
 * not even as the `cause` of a typed one — and it never hangs. Inputs are
 * fully random bytes and mutations of valid encodings (bit flips, byte
 * changes, truncation, insertion, deletion, DER length-field rewrites,
 * element duplication and splicing between seeds), so most inputs get past
 * the first tag check and deep into the decoder.
 *
 * Every suite runs in one worker thread per file; the main thread watches
 * its progress through shared memory and terminates it when one input runs
 * longer than the hang limit, reporting that input. A synchronous endless
 * loop in a decoder thus fails its test instead of hanging CI.
 *
 * Reproducible: the fast-check seed is fixed (KERBSIDE_FUZZ_SEED changes it)
 * and the number of runs per target is KERBSIDE_FUZZ_RUNS (default 5,000; the
 * `npm run fuzz` script raises it). A failure prints the seed, the
 * fast-check path and the input in hex.
 *
 * A `*.fuzz.test.ts` file must call nothing but `fuzzSuite` at top level:
 * the worker imports the same file to find the targets. Regression inputs
 * for bugs the fuzzer found go into the target's `examples` (run every time)
 * and into an ordinary test next to the decoder.
 */

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import fc, { type Arbitrary } from 'fast-check';
import { systemClock } from '../core/clock.js';
import { KerbsideError } from '../core/errors.js';
import { concatBytes, fromHex, toHex } from '../core/bytes.js';

export interface FuzzTarget {
  /** Valid encodings to mutate (test vectors, real messages). */
  readonly seeds: readonly Uint8Array[];
  /** Feeds one input: return, or throw a KerbsideError. May be async. */
  readonly run: (input: Uint8Array) => unknown;
  /** Longest fully random input, octets (default 512). */
  readonly maxRandomLength?: number;
  /** Octet strings worth inserting (keywords of a text format, magic numbers). */
  readonly dictionary?: readonly Uint8Array[];
  /** Runs relative to the default (a slow target takes 0.2, a cheap one 3). */
  readonly weight?: number;
  /** Inputs run first on every run: regressions found earlier, as hex. */
  readonly examples?: readonly string[];
}

export type FuzzTargets = Readonly<Record<string, () => FuzzTarget | Promise<FuzzTarget>>>;

export const DEFAULT_FUZZ_SEED = 0x6b657262; // "kerb"
export const DEFAULT_FUZZ_RUNS = 5000;
/** One input running longer than this is a hang. */
const HANG_MS = 15_000;
/** Shared progress: [0] inputs started, [1] inputs finished, [2] current input length; then the input. */
const PROGRESS_HEADER = 3;
const PROGRESS_BYTES = 64 * 1024;

export interface FuzzSettings {
  readonly seed: number;
  readonly runs: number;
}

/** The seed and run count from KERBSIDE_FUZZ_SEED / KERBSIDE_FUZZ_RUNS, else the CI defaults. */
export function fuzzSettings(env: Readonly<Record<string, string | undefined>> = process.env): FuzzSettings {
  const num = (name: string, fallback: number): number => {
    const v = env[name];
    if (v === undefined || v === '') return fallback;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not "${v}"`);
    return n;
  };
  return { seed: num('KERBSIDE_FUZZ_SEED', DEFAULT_FUZZ_SEED), runs: num('KERBSIDE_FUZZ_RUNS', DEFAULT_FUZZ_RUNS) };
}

// ---------------------------------------------------------------------------
// Inputs

/** A DER element found in a seed: where it starts, where its length field is, where it ends. */
interface Tlv {
  readonly start: number;
  readonly lengthAt: number;
  readonly contentAt: number;
  readonly end: number;
}

/**
 * Every element of a (valid) DER encoding, found leniently: constructed
 * elements are descended into, and so are primitive contents that happen to
 * parse as DER (OCTET STRINGs carrying a nested message). Non-DER seeds give
 * whatever prefix parses, often nothing.
 */
export function derElements(bytes: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  const walk = (from: number, to: number, depth: number): boolean => {
    let at = from;
    const found: Tlv[] = [];
    while (at < to) {
      const tlv = header(bytes, at, to);
      if (tlv === undefined) return false;
      found.push(tlv);
      at = tlv.end;
    }
    out.push(...found);
    if (depth < 24) {
      for (const t of found) {
        if ((bytes[t.start]! & 0x20) !== 0 || t.end - t.contentAt >= 2) walk(t.contentAt, t.end, depth + 1);
      }
    }
    return true;
  };
  const first = header(bytes, 0, bytes.length);
  if (first !== undefined) {
    out.push(first);
    walk(first.contentAt, first.end, 1);
  }
  return out;
}

function header(bytes: Uint8Array, at: number, to: number): Tlv | undefined {
  let p = at;
  if (p >= to) return undefined;
  if ((bytes[p++]! & 0x1f) === 0x1f) {
    while (p < to && (bytes[p]! & 0x80) !== 0) p++;
    p++;
  }
  if (p >= to) return undefined;
  const lengthAt = p;
  const first = bytes[p++]!;
  let length = first;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 3 || p + n > to) return undefined;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + bytes[p++]!;
  }
  if (p + length > to) return undefined;
  return { start: at, lengthAt, contentAt: p, end: p + length };
}

function derLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return Uint8Array.of(0x80 | out.length, ...out);
}

/** Length fields a decoder must refuse or bound: off by one, zero, indefinite, non-minimal, huge. */
const LENGTH_REWRITES: readonly ((len: number, room: number) => Uint8Array)[] = [
  (len) => derLength(len + 1),
  (len) => derLength(Math.max(0, len - 1)),
  () => Uint8Array.of(0),
  () => Uint8Array.of(0x80),
  (len) => Uint8Array.of(0x81, len & 0xff),
  (len) => Uint8Array.of(0x82, (len >> 8) & 0xff, len & 0xff),
  () => Uint8Array.of(0x84, 0xff, 0xff, 0xff, 0xff),
  () => Uint8Array.of(0x84, 0x7f, 0xff, 0xff, 0xff),
  () => Uint8Array.of(0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9),
  (_len, room) => derLength(room),
  (_len, room) => derLength(room + 1),
];

/** Integers for binary length/count fields (ccache, keytab): boundaries and the seed's own size. */
const INTEGER_REWRITES: readonly ((size: number) => number)[] = [
  () => 0, () => 1, () => 0x7f, () => 0x80, () => 0xff, () => 0xffff, () => 0x7fffffff, () => 0x80000000, () => 0xffffffff,
  (size) => size, (size) => size + 1, (size) => Math.max(0, size - 1),
];

type Op =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number }
  | { readonly kind: 'word'; readonly at: number; readonly width: 2 | 4; readonly which: number }
  | { readonly kind: 'length'; readonly element: number; readonly which: number }
  | { readonly kind: 'duplicate'; readonly element: number }
  | { readonly kind: 'splice'; readonly element: number; readonly donor: number; readonly donorElement: number }
  | { readonly kind: 'word-dict'; readonly at: number; readonly entry: number };

function opArbitrary(): Arbitrary<Op> {
  const at = fc.nat();
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), at, value: fc.constantFrom(0, 0x7f, 0x80, 0xff, 0x30, 0xa0, 0x04, 0x1b, 0x02) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at, count: fc.integer({ min: 1, max: 16 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('word' as const), at, width: fc.constantFrom(2 as const, 4 as const), which: fc.nat() }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('length' as const), element: fc.nat(), which: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), element: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('splice' as const), element: fc.nat(), donor: fc.nat(), donorElement: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('word-dict' as const), at, entry: fc.nat() }) },
  );
}

function applyOp(input: Uint8Array, op: Op, seeds: readonly Uint8Array[], dictionary: readonly Uint8Array[]): Uint8Array {
  const n = input.length;
  const pos = (at: number, extra = 0): number => (n + extra === 0 ? 0 : at % (n + extra));
  switch (op.kind) {
    case 'flip': {
      if (n === 0) return input;
      const out = input.slice();
      out[pos(op.at)]! ^= 1 << op.bit;
      return out;
    }
    case 'set': {
      if (n === 0) return input;
      const out = input.slice();
      out[pos(op.at)] = op.value;
      return out;
    }
    case 'truncate':
      return input.slice(0, pos(op.at));
    case 'insert': {
      const p = pos(op.at, 1);
      return concatBytes(input.subarray(0, p), op.bytes, input.subarray(p));
    }
    case 'delete': {
      if (n === 0) return input;
      const p = pos(op.at);
      return concatBytes(input.subarray(0, p), input.subarray(Math.min(n, p + op.count)));
    }
    case 'word': {
      if (n < op.width) return input;
      const p = op.at % (n - op.width + 1);
      const value = INTEGER_REWRITES[op.which % INTEGER_REWRITES.length]!(n) >>> 0;
      const out = input.slice();
      for (let i = 0; i < op.width; i++) out[p + i] = (value >>> (8 * (op.width - 1 - i))) & 0xff;
      return out;
    }
    case 'word-dict': {
      if (dictionary.length === 0) return input;
      const entry = dictionary[op.entry % dictionary.length]!;
      const p = pos(op.at, 1);
      return concatBytes(input.subarray(0, p), entry, input.subarray(p));
    }
    case 'length': {
      const elements = derElements(input);
      if (elements.length === 0) return input;
      const t = elements[op.element % elements.length]!;
      const rewrite = LENGTH_REWRITES[op.which % LENGTH_REWRITES.length]!;
      return concatBytes(input.subarray(0, t.lengthAt), rewrite(t.end - t.contentAt, n - t.contentAt), input.subarray(t.contentAt));
    }
    case 'duplicate': {
      const elements = derElements(input);
      if (elements.length === 0) return input;
      const t = elements[op.element % elements.length]!;
      return concatBytes(input.subarray(0, t.end), input.subarray(t.start, t.end), input.subarray(t.end));
    }
    case 'splice': {
      const elements = derElements(input);
      const donor = seeds.length === 0 ? input : seeds[op.donor % seeds.length]!;
      const donorElements = derElements(donor);
      if (elements.length === 0 || donorElements.length === 0) return input;
      const t = elements[op.element % elements.length]!;
      const d = donorElements[op.donorElement % donorElements.length]!;
      return concatBytes(input.subarray(0, t.start), donor.subarray(d.start, d.end), input.subarray(t.end));
    }
  }
}

/** Seeds for a codec's target: the vectors it decodes, or all of them when it decodes none. */
export function decodableSeeds(codec: { decode(bytes: Uint8Array): unknown }, vectors: readonly Uint8Array[]): Uint8Array[] {
  const own = vectors.filter((v) => {
    try {
      codec.decode(v);
      return true;
    } catch {
      return false;
    }
  });
  return own.length > 0 ? own : [...vectors];
}

/** Random bytes, random bytes behind a seed's first octets, and mutated seeds. */
export function fuzzInput(target: Pick<FuzzTarget, 'seeds' | 'maxRandomLength' | 'dictionary'>): Arbitrary<Uint8Array> {
  const seeds = target.seeds;
  const dictionary = target.dictionary ?? [];
  const random = fc.uint8Array({ maxLength: target.maxRandomLength ?? 512 });
  if (seeds.length === 0) return random;
  const prefixed = fc.tuple(fc.nat(seeds.length - 1), fc.integer({ min: 1, max: 4 }), fc.uint8Array({ maxLength: 256 }))
    .map(([i, keep, tail]) => concatBytes(seeds[i]!.subarray(0, keep), tail));
  const mutated = fc.tuple(fc.nat(seeds.length - 1), fc.array(opArbitrary(), { minLength: 1, maxLength: 5 }))
    .map(([i, ops]) => ops.reduce((bytes, op) => applyOp(bytes, op, seeds, dictionary), seeds[i]!));
  return fc.oneof(
    { weight: 2, arbitrary: random },
    { weight: 1, arbitrary: prefixed },
    { weight: 7, arbitrary: mutated },
  );
}

// ---------------------------------------------------------------------------
// The property

/** Untyped exceptions: what a decoder must never let out, even wrapped as a typed error's cause. */
const UNTYPED: readonly (new (...args: never[]) => Error)[] = [TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError];

/** Why `err` breaks the property, or undefined when it is a typed error with a clean cause chain. */
export function untypedReason(err: unknown): string | undefined {
  if (!(err instanceof KerbsideError)) {
    return `threw ${err instanceof Error ? `${err.name}: ${err.message}` : `a non-Error value (${String(err)})`}`;
  }
  let cause: unknown = (err as { cause?: unknown }).cause;
  for (let depth = 0; cause !== undefined && depth < 16; depth++) {
    if (cause instanceof Error && !(cause instanceof KerbsideError) && UNTYPED.some((c) => cause instanceof c)) {
      return `threw ${err.name} (${err.code}) wrapping ${cause.name}: ${cause.message}`;
    }
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}

class UntypedFailure extends Error {
  constructor(reason: string, readonly original: unknown) {
    super(reason);
  }
}

function describe(err: unknown): string {
  if (err instanceof UntypedFailure) {
    const o = err.original;
    const stack = o instanceof Error ? o.stack : undefined;
    const causeStack = o instanceof KerbsideError && o.cause instanceof Error ? `\ncause: ${o.cause.stack}` : '';
    return `${err.message}\n${stack ?? ''}${causeStack}`;
  }
  return err instanceof Error ? `${err.stack ?? err.message}` : String(err);
}

// ---------------------------------------------------------------------------
// Main thread: one test per target; worker: runs them.

interface RunRequest { readonly name: string; readonly seed: number; readonly runs: number }
type RunResult =
  | { readonly kind: 'ok'; readonly runs: number; readonly typedErrors: number; readonly accepted: number }
  | { readonly kind: 'failed'; readonly report: string };

const WORKER_FLAG = 'kerbsideFuzzSuite';

/**
 * Declares the fuzz targets of one test file. Call it once, at top level,
 * with `import.meta.url`.
 */
export function fuzzSuite(moduleUrl: string, targets: FuzzTargets): void {
  if (isMainThread) {
    registerTests(moduleUrl, targets);
    return;
  }
  const data = workerData as { [WORKER_FLAG]?: string; progress?: SharedArrayBuffer } | undefined;
  if (data?.[WORKER_FLAG] !== moduleUrl || parentPort === null) return;
  serve(targets, data.progress!);
}

function registerTests(moduleUrl: string, targets: FuzzTargets): void {
  const settings = fuzzSettings();
  let runner: SuiteWorker | undefined;
  after(async () => { await runner?.stop(); });
  for (const name of Object.keys(targets)) {
    test(`fuzz ${name}: only typed errors, never another exception, never a hang`, { timeout: 30 * 60_000 }, async (t) => {
      runner ??= new SuiteWorker(moduleUrl);
      const result = await runner.run({ name, ...settings });
      if (result.kind === 'hang') {
        await runner.stop();
        runner = undefined;
        assert.fail(`${name}: one input ran longer than ${HANG_MS / 1000} s (a hang). Input (${result.input.length} octets${result.truncated ? ', truncated' : ''}):\n${toHex(result.input)}`);
      }
      if (result.kind === 'failed') assert.fail(`${name}: ${result.report}`);
      t.diagnostic(`${result.runs} inputs: ${result.accepted} accepted, ${result.typedErrors} typed errors (seed ${settings.seed})`);
    });
  }
}

class SuiteWorker {
  readonly #worker: Worker;
  readonly #progress = new SharedArrayBuffer(PROGRESS_HEADER * 4 + PROGRESS_BYTES);
  readonly #counters = new Int32Array(this.#progress, 0, PROGRESS_HEADER);
  readonly #input = new Uint8Array(this.#progress, PROGRESS_HEADER * 4);
  #exited: Promise<void>;
  #pending: ((r: RunResult | { kind: 'exit'; error: string }) => void) | undefined;

  constructor(moduleUrl: string) {
    this.#worker = new Worker(new URL(moduleUrl), { workerData: { [WORKER_FLAG]: moduleUrl, progress: this.#progress } });
    this.#worker.on('message', (m: RunResult) => { this.#pending?.(m); });
    this.#worker.on('error', (err) => { this.#pending?.({ kind: 'exit', error: describe(err) }); });
    this.#exited = new Promise((resolve) => this.#worker.once('exit', (code) => {
      this.#pending?.({ kind: 'exit', error: `the fuzz worker exited with code ${code}` });
      resolve();
    }));
  }

  run(request: RunRequest): Promise<RunResult | { kind: 'hang'; input: Uint8Array; truncated: boolean }> {
    const clock = systemClock();
    const counters = this.#counters;
    const input = this.#input;
    return new Promise((resolve) => {
      let lastStarted = -1;
      let since = clock.now();
      const finish = (r: RunResult | { kind: 'hang'; input: Uint8Array; truncated: boolean } | { kind: 'exit'; error: string }): void => {
        timer.cancel();
        this.#pending = undefined;
        resolve(r.kind === 'exit' ? { kind: 'failed', report: r.error } : r);
      };
      const check = (): void => {
        // A hang: the same input has been running for HANG_MS.
        const started = Atomics.load(counters, 0);
        const finished = Atomics.load(counters, 1);
        const now = clock.now();
        if (started !== lastStarted || finished === started) {
          lastStarted = started;
          since = now;
        } else if (now - since > HANG_MS) {
          const length = Atomics.load(counters, 2);
          finish({ kind: 'hang', input: input.slice(0, Math.min(length, PROGRESS_BYTES)), truncated: length > PROGRESS_BYTES });
          return;
        }
        timer = clock.setTimer(1000, check);
      };
      let timer = clock.setTimer(1000, check);
      this.#pending = finish;
      this.#worker.postMessage(request);
    });
  }

  async stop(): Promise<void> {
    await this.#worker.terminate();
    await this.#exited;
  }
}

function serve(targets: FuzzTargets, progress: SharedArrayBuffer): void {
  const counters = new Int32Array(progress, 0, PROGRESS_HEADER);
  const current = new Uint8Array(progress, PROGRESS_HEADER * 4);
  parentPort!.on('message', (request: RunRequest) => {
    void runTarget(targets, request, counters, current).then((r) => parentPort!.postMessage(r));
  });
}

async function runTarget(targets: FuzzTargets, request: RunRequest, counters: Int32Array, current: Uint8Array): Promise<RunResult> {
  const make = targets[request.name];
  if (make === undefined) return { kind: 'failed', report: `no fuzz target named ${request.name}` };
  let target: FuzzTarget;
  try {
    target = await make();
  } catch (err) {
    return { kind: 'failed', report: `setting up the target failed: ${describe(err)}` };
  }
  let typedErrors = 0;
  let accepted = 0;
  let runs = 0;
  const property = fc.asyncProperty(fuzzInput(target), async (input) => {
    runs++;
    current.set(input.subarray(0, PROGRESS_BYTES));
    Atomics.store(counters, 2, input.length);
    Atomics.add(counters, 0, 1);
    try {
      await target.run(input);
      accepted++;
    } catch (err) {
      const reason = untypedReason(err);
      if (reason !== undefined) throw new UntypedFailure(reason, err);
      typedErrors++;
    } finally {
      Atomics.add(counters, 1, 1);
    }
  });
  const numRuns = Math.max(1, Math.round(request.runs * (target.weight ?? 1)));
  const examples = (target.examples ?? []).map((hex) => [fromHex(hex)] as [Uint8Array]);
  const details = await fc.check(property, { seed: request.seed, numRuns, examples, endOnFailure: false });
  if (!details.failed) return { kind: 'ok', runs, typedErrors, accepted };
  const input = details.counterexample?.[0];
  return {
    kind: 'failed',
    report: [
      `after ${details.numRuns} inputs (seed ${details.seed}, path "${details.counterexamplePath ?? ''}", shrunk ${details.numShrinks} times):`,
      `input (${input?.length ?? 0} octets): ${input === undefined ? '?' : toHex(input)}`,
      describe(details.errorInstance),
      `reproduce: KERBSIDE_FUZZ_SEED=${details.seed} node --test dist/src/...fuzz.test.js, or add the input to the target's examples`,
    ].join('\n'),
  };
}
