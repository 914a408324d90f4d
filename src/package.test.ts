/**
 * What `npm pack` ships: every source map resolves to a shipped `src/*.ts`
 * (so stack traces and debuggers in a user's project land on real files),
 * tests and test harnesses stay out, and no shipped comment points at a file
 * the package or repository does not have (the founding design and lessons
 * notes and the shared folder kept beside the checkout; docs/ holds what they
 * said).
 */

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { packedFiles, repoRoot } from './testing/package.js';

let files: string[];

before(async () => {
  files = await packedFiles();
});

test('every .js.map in the package names sources that are in the package', async () => {
  const shipped = new Set(files);
  const maps = files.filter((f) => f.endsWith('.js.map'));
  assert.ok(maps.length > 100, `only ${maps.length} source maps packed`);
  const missing: string[] = [];
  for (const map of maps) {
    const { sources } = JSON.parse(await readFile(join(repoRoot, map), 'utf8')) as { sources: string[] };
    for (const s of sources) {
      const target = posix.normalize(posix.join(posix.dirname(map), s));
      if (!shipped.has(target)) missing.push(`${map} -> ${target}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('no tests or test harnesses are packed; the entry points are', () => {
  assert.deepEqual(files.filter((f) => /\.test\.|(^|\/)testing\//.test(f)), []);
  for (const f of ['dist/src/index.js', 'dist/src/http/index.d.ts', 'dist/src/cli/main.js', 'src/http/index.ts', 'LICENSE', 'README.md']) {
    assert.ok(files.includes(f), `${f} is packed`);
  }
});

test('no packed file cites the design or lessons notes or the shared folder outside the repository', async () => {
  const cites: string[] = [];
  for (const f of files.filter((p) => /\.(js|ts|md|json)$/.test(p))) {
    const text = await readFile(join(repoRoot, f), 'utf8');
    text.split('\n').forEach((line, i) => {
      if (/DESIGN\.md|LESSONS\.md|\.\.\/shared\b/.test(line)) cites.push(`${f}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(cites, []);
});
