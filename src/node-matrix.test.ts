/**
 * Node 22 and 24 next to the Node running `npm test` (README "Node.js
 * versions"): the registry's `node` package ships their binaries
 * (`npx -y -p node@22 node`). Under each one this runs, with the built-in
 * node:sqlite (better-sqlite3 is built for the main Node's ABI only):
 * - the store conformance suites (principal store, replay cache, event log,
 *   scheduler store);
 * - one KDC smoke test: `kerbside kdc` under that Node, MIT kinit as the peer;
 * - one realm file passed between the drivers: written by the main Node,
 *   then by Node 22 and Node 24, and read back by the main Node;
 * - a CommonJS file requiring `kerbside` (require(esm), Node >= 20.19).
 * Only these, to keep the time it adds small.
 */

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseEnvironment, runProgram, type RunResult } from './testing/mit-tools.js';

const VERSIONS = ['22', '24'] as const;
const dist = dirname(fileURLToPath(import.meta.url)); // dist/src
const repo = resolve(dist, '..', '..');
const CONFORMANCE = ['store/sqlite.test.js', 'store/replay-cache.test.js', 'store/event-log.test.js', 'scheduler/store.test.js'];
const KDC_SMOKE = { file: 'cli/commands/kdc.test.js', name: 'the admin principal made by realm init gets a TGT from MIT kinit' };

let work = '';
before(async () => { work = await mkdtemp(join(tmpdir(), 'kerbside-node-matrix-')); });
after(async () => { await rm(work, { recursive: true, force: true }); });

const binaries = new Map<string, Promise<string>>();

/** The path of the registry's Node `major` binary (fetched by npx into its cache on first use). */
function nodeBinary(major: string): Promise<string> {
  let p = binaries.get(major);
  if (p === undefined) {
    p = runProgram('npx', ['-y', '-p', `node@${major}`, 'node', '-p', 'process.execPath'], {
      env: { ...process.env } as Record<string, string>, timeoutMs: 300_000,
    }).then((r) => {
      const path = r.stdout.trim();
      if (r.code !== 0 || !path.startsWith('/')) {
        throw new Error(`cannot run Node ${major} from the npm registry: \`npx -y -p node@${major} node --version\` must work `
          + `(network access to the npm registry, or a warm npx cache):\n${r.stderr}`);
      }
      return path;
    });
    binaries.set(major, p);
  }
  return p;
}

/** A clean environment: node --test's own variables from this run must not reach the child's runner. */
function env(extra: Record<string, string> = {}): Record<string, string> {
  return { ...baseEnvironment(), HOME: process.env['HOME'] ?? tmpdir(), KERBSIDE_SQLITE_DRIVER: 'node', ...extra };
}

function runTests(node: string, files: readonly string[], extra: readonly string[] = []): Promise<RunResult> {
  return runProgram(node, ['--test', '--test-concurrency=1', '--test-reporter=tap', ...extra, ...files.map((f) => join(dist, f))], {
    env: env(), cwd: repo, timeoutMs: 120_000,
  });
}

function tapCount(out: string, what: 'pass' | 'fail' | 'tests'): number {
  const m = new RegExp(`^# ${what} (\\d+)$`, 'm').exec(out);
  return m === null ? Number.NaN : Number(m[1]);
}

// Runs in a child: opens the principal store with this Node's default driver, checks the
// names already there, adds one and prints the driver and integrity check.
const STORE_STEP = `
const { openSqliteStore, openWalDatabase } = await import(process.argv[1]);
const [, , path, expected, add] = process.argv;
const store = await openSqliteStore({ path });
const names = [];
for (const n of expected.split(',').filter(Boolean)) {
  const r = await store.get(n);
  if (r === undefined || r.keys[0].keyvalue[0] !== n.length) throw new Error('missing or wrong keys for ' + n);
  names.push(n);
}
await store.create({ name: add, keys: [{ enctype: 18, keyvalue: new Uint8Array(32).fill(add.length) }] });
const driver = store.driver;
await store.close();
const db = await openWalDatabase(path, 1000, 'FULL');
const integrity = db.pragma('integrity_check', { simple: true });
db.close();
process.stdout.write(JSON.stringify({ driver, names, integrity }));
`;

async function storeStep(node: string, path: string, expected: readonly string[], add: string, driverEnv: Record<string, string>) {
  const r = await runProgram(node, ['--input-type=module', '-e', STORE_STEP, join(dist, 'store', 'index.js'), path, expected.join(','), add], {
    env: { ...env({ KERBSIDE_SQLITE_DRIVER: '' }), ...driverEnv }, timeoutMs: 30_000, // each Node's default driver unless forced
  });
  assert.equal(r.code, 0, `store step under ${node} failed:\n${r.stderr}`);
  assert.equal(r.stderr, '', `store step under ${node}: nothing on stderr (node:sqlite's ExperimentalWarning is not passed on)`);
  return JSON.parse(r.stdout) as { driver: string; names: string[]; integrity: string };
}

for (const major of VERSIONS) {
  test(`Node ${major}: the store conformance suites pass with node:sqlite`, async () => {
    const node = await nodeBinary(major);
    const r = await runTests(node, CONFORMANCE);
    assert.equal(r.code, 0, `conformance under Node ${major} failed:\n${r.stdout.split('\n').filter((l) => /not ok|error|Error/.test(l)).join('\n')}\n${r.stderr}`);
    assert.equal(tapCount(r.stdout, 'fail'), 0);
    assert.ok(tapCount(r.stdout, 'pass') >= 60, `only ${tapCount(r.stdout, 'pass')} tests passed under Node ${major}`);
    for (const suite of ['PrincipalStore conformance: sqlite (node)', 'EventLogStore conformance: sqlite (node)', 'sqlite (node): tasks', 'sqlite (node): an authenticator']) {
      assert.ok(r.stdout.includes(suite), `"${suite}" did not run under Node ${major}`);
    }
  });

  test(`Node ${major}: kerbside kdc under it gives MIT kinit a TGT`, async () => {
    const node = await nodeBinary(major);
    const r = await runTests(node, [KDC_SMOKE.file], ['--test-name-pattern', KDC_SMOKE.name]);
    assert.equal(r.code, 0, `the KDC smoke test under Node ${major} failed:\n${r.stdout}\n${r.stderr}`);
    assert.equal(tapCount(r.stdout, 'pass'), 1, `expected exactly the smoke test to pass:\n${r.stdout}`);
  });
}

test('one realm database file passes between better-sqlite3 (this Node) and node:sqlite (Node 22, 24) and back', async () => {
  const path = join(work, 'shared', 'principal.sqlite');
  const here = await storeStep(process.execPath, path, [], 'a@R', {});
  const [n22, n24] = [await nodeBinary('22'), await nodeBinary('24')];
  const s22 = await storeStep(n22, path, ['a@R'], 'bb@R', {});
  const s24 = await storeStep(n24, path, ['a@R', 'bb@R'], 'ccc@R', {});
  const back = await storeStep(process.execPath, path, ['a@R', 'bb@R', 'ccc@R'], 'dddd@R', {});
  assert.deepEqual([s22.driver, s24.driver], ['node', 'node']);
  assert.equal(here.driver, back.driver);
  assert.deepEqual(back.names, ['a@R', 'bb@R', 'ccc@R']);
  for (const s of [here, s22, s24, back]) assert.equal(s.integrity, 'ok');
  if (here.driver === 'node') {
    // This Node has node:sqlite too: force better-sqlite3 for the round trip's other half.
    const forced = await storeStep(process.execPath, path, ['a@R', 'bb@R', 'ccc@R', 'dddd@R'], 'eeeee@R', { KERBSIDE_SQLITE_DRIVER: 'better-sqlite3' });
    assert.equal(forced.driver, 'better-sqlite3');
  } else {
    assert.equal(here.driver, 'better-sqlite3');
  }
});

test('CommonJS: require("kerbside") works under this Node and Node 22 (require(esm), Node >= 20.19)', async () => {
  const app = join(work, 'cjs-app');
  await mkdir(join(app, 'node_modules'), { recursive: true });
  await symlink(repo, join(app, 'node_modules', 'kerbside'));
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'cjs-app', type: 'commonjs' }));
  await writeFile(join(app, 'main.js'), [
    "const kerbside = require('kerbside');",
    "const store = require('kerbside/store');",
    "if (typeof kerbside.KerbsideError !== 'function' || typeof store.openSqliteStore !== 'function') throw new Error('exports missing');",
    "process.stdout.write('ok');",
  ].join('\n'));
  for (const node of [process.execPath, await nodeBinary('22')]) {
    const r = await runProgram(node, [join(app, 'main.js')], { env: env(), cwd: app });
    assert.equal(r.code, 0, `require('kerbside') under ${node} failed:\n${r.stderr}`);
    assert.equal(r.stdout, 'ok');
    assert.equal(r.stderr, '', `require('kerbside') under ${node} printed a warning`);
  }
});
