/**
 * House rules that a compiler cannot check (docs/architecture.md "Modules", docs/style.md):
 * 1. imports flow downward only between the modules;
 * 2. no wall-clock reads, timers or randomness outside `core/` (time and
 *    randomness are injected).
 * Both scan the TypeScript sources, so they fail the suite on the commit that
 * breaks the rule.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bottom to top, as in docs/architecture.md. A module may import only from modules below it. */
export const LAYERS = Object.freeze([
  'core', 'asn1', 'messages', 'crypto', 'pki', 'files', 'store', 'events', 'lifecycle',
  'client', 'kdc', 'gss', 'http', 'scheduler', 'web', 'cli',
] as const);

/** Folders outside the layering: test harnesses and the package root may import anything. */
const UNLAYERED = new Set(['testing']);

const here = dirname(fileURLToPath(import.meta.url));
// Compiled to dist/src/architecture.test.js; the sources sit at <repo>/src.
const srcRoot = resolve(here, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (name.endsWith('.ts')) out.push(full);
  }
  return out;
}

function moduleOf(file: string): string | undefined {
  const rel = relative(srcRoot, file).split(sep);
  return rel.length > 1 ? rel[0] : undefined;
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) found.push((m[1] ?? m[2])!);
  return found;
}

/** Returns "file: module a imports module b (upward)" for every violation. */
export function upwardImports(files: readonly string[], read: (f: string) => string): string[] {
  const rank = new Map<string, number>(LAYERS.map((m, i) => [m, i]));
  const problems: string[] = [];
  for (const file of files) {
    const from = moduleOf(file);
    // Tests may combine modules (a client simulation against an in-process KDC);
    // the rule guards what ships.
    if (from === undefined || UNLAYERED.has(from) || file.endsWith('.test.ts')) continue;
    const fromRank = rank.get(from);
    if (fromRank === undefined) {
      problems.push(`${relative(srcRoot, file)}: folder "${from}" is not a module listed in docs/architecture.md`);
      continue;
    }
    for (const spec of importsOf(read(file))) {
      if (!spec.startsWith('.')) continue;
      const target = moduleOf(resolve(dirname(file), spec));
      if (target === undefined || target === from) {
        if (target === undefined) {
          problems.push(`${relative(srcRoot, file)}: imports the package root "${spec}"`);
        }
        continue;
      }
      if (UNLAYERED.has(target)) {
        problems.push(`${relative(srcRoot, file)}: production code imports test harness "${spec}"`);
        continue;
      }
      const targetRank = rank.get(target);
      if (targetRank === undefined || targetRank > fromRank) {
        problems.push(`${relative(srcRoot, file)}: ${from} imports ${target} ("${spec}"), which sits above it`);
      } else if (target !== 'core' && !spec.endsWith(`/${target}/index.js`)) {
        // A module's public surface is its index.ts; core's few files are all public.
        problems.push(`${relative(srcRoot, file)}: imports "${spec}" instead of ${target}/index.js`);
      }
    }
  }
  return problems;
}

test('imports flow downward only between modules, through each module\'s index', () => {
  const problems = upwardImports(sourceFiles(srcRoot), (f) => readFileSync(f, 'utf8'));
  assert.deepEqual(problems, []);
});

test('the upward-import check catches an upward import', () => {
  const fake = join(srcRoot, 'crypto', 'fake.ts');
  const problems = upwardImports([fake], () => "import { x } from '../kdc/index.js';\n");
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /crypto imports kdc/);
  assert.deepEqual(upwardImports([fake], () => "import type { Y } from '../messages/index.js';\n"), []);
  assert.match(upwardImports([fake], () => "import { Z } from '../messages/kdc.js';\n")[0] ?? '', /instead of messages\/index\.js/);
});

/** Reading the time, starting timers or drawing randomness belongs to core/ only. */
const AMBIENT = [
  /\bDate\.now\(/, /\bnew Date\(\s*\)/, /\bsetTimeout\(/, /\bsetInterval\(/, /\bperformance\.now\(/,
  /\bMath\.random\(/, /\brandomBytes\(/, /\brandomInt\(/, /\bgetRandomValues\(/, /\brandomUUID\(/,
];

test('no ambient time or randomness outside core/', () => {
  const problems: string[] = [];
  for (const file of sourceFiles(srcRoot)) {
    const mod = moduleOf(file);
    // Tests and harnesses that drive real peers use systemClock()/systemRandom() too.
    if (mod === 'core') continue;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (/^\s*(\/\/|\*)/.test(line)) return;
      for (const re of AMBIENT) {
        if (re.test(line)) problems.push(`${relative(srcRoot, file)}:${i + 1}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(problems, [], 'use the injected Clock / RandomSource from core/');
});
