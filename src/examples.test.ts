/**
 * examples/ and the README's TypeScript snippets, as a user gets them: copied
 * into a project that has the packed kerbside in node_modules, compiled with
 * `strict`, and run: the Express and Fastify apps answer MIT-kinit'ed
 * `curl --negotiate` (the service principal without a realm, from krb5.conf),
 * the service account calls the Express app from its keytab, and the
 * startTestRealm test passes under `node --test`.
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestRealm, type TestRealm } from './kdc/index.js';
import { baseEnvironment, checkRun, mitTool, requireTool, runProgram } from './testing/mit-tools.js';
import { consumerProject, repoRoot, type Consumer } from './testing/package.js';

let consumer: Consumer;
let realm: TestRealm;
let env: Record<string, string>;
let curl: string;
const children: ChildProcess[] = [];

/** The ```ts blocks of the README, in order. */
function readmeSnippets(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

before(async () => {
  curl = requireTool('curl', 'curl');
  const kinit = mitTool('kinit');
  consumer = await consumerProject();
  const dir = consumer.dir;
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'examples', type: 'module', private: true }));
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', rootDir: '.',
      types: ['node'], skipLibCheck: true,
    },
    include: ['*.ts'],
  }));
  for (const f of await readdir(join(repoRoot, 'examples'))) {
    if (f.endsWith('.ts')) await copyFile(join(repoRoot, 'examples', f), join(dir, f));
  }
  const snippets = readmeSnippets(await readFile(join(repoRoot, 'README.md'), 'utf8'));
  assert.ok(snippets.length >= 2, 'README has its TypeScript snippets');
  for (const [i, s] of snippets.entries()) await writeFile(join(dir, `readme-snippet-${i + 1}.ts`), `${s}\nexport {};\n`);
  const tsc = await runProgram(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { env: baseEnvironment(), cwd: dir, timeoutMs: 120_000 });
  assert.equal(tsc.code, 0, `examples or README snippets do not compile:\n${tsc.stdout}${tsc.stderr}`);

  realm = await startTestRealm({
    principals: [
      { name: 'alice', password: 'alice-password' },
      { name: 'HTTP/localhost', randomKey: true },
      { name: 'svc-report', randomKey: true },
    ],
  });
  await realm.writeKrb5Conf(join(dir, 'krb5.conf'));
  await realm.exportKeytab('HTTP/localhost', join(dir, 'http.keytab'));
  await realm.exportKeytab('svc-report', join(dir, 'svc-report.keytab'));
  env = { ...baseEnvironment(), HOME: dir, KRB5_CONFIG: join(dir, 'krb5.conf'), KRB5CCNAME: `FILE:${join(dir, 'ccache')}` };
  checkRun('kinit alice', await runProgram(kinit, [`alice@${realm.realm}`], { input: 'alice-password\n', env }));
});

after(async () => {
  for (const c of children) c.kill('SIGTERM');
  await realm?.stop();
  await consumer?.remove();
});

/** Starts an example app; resolves to its port once it prints "listening on http://127.0.0.1:PORT/". */
function startApp(file: string): Promise<number> {
  const child = spawn(process.execPath, [join(consumer.dir, 'out', file)], {
    cwd: consumer.dir, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...env, KEYTAB: join(consumer.dir, 'http.keytab'), SERVICE: 'HTTP/localhost', PORT: '0' },
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${file} exited (${code}) before listening:\n${out}${err}`)));
  });
}

function curlNegotiate(port: number) {
  return runProgram(curl, ['-sS', '--fail', '--negotiate', '-u', ':', '--resolve', `localhost:${port}:127.0.0.1`, `http://localhost:${port}/`], { env, timeoutMs: 20_000 });
}

describe('examples/', { timeout: 120_000 }, () => {
  let expressPort: number;

  test('express-app: curl --negotiate with an MIT kinit TGT is greeted by name', async () => {
    expressPort = await startApp('express-app.js');
    const r = await curlNegotiate(expressPort);
    assert.equal(r.code, 0, `curl failed:\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^hello alice@${realm.realm.replace('.', '\\.')}, your ticket is valid until \\d{4}-`));
  });

  test('fastify-app: curl --negotiate is greeted by name and mechanism', async () => {
    const port = await startApp('fastify-app.js');
    const r = await curlNegotiate(port);
    assert.equal(r.code, 0, `curl failed:\n${r.stderr}`);
    assert.equal(r.stdout, `hello alice@${realm.realm} (spnego/kerberos)\n`);
  });

  test('service-account: logs on from its keytab and calls the Express app with negotiateFetch', async () => {
    const r = await runProgram(process.execPath, [join(consumer.dir, 'out', 'service-account.js'), `http://localhost:${expressPort}/`], {
      env: { ...env, CLIENT_KEYTAB: join(consumer.dir, 'svc-report.keytab'), PRINCIPAL: 'svc-report' }, cwd: consumer.dir,
    });
    assert.equal(r.code, 0, `service-account failed:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^200 hello svc-report@${realm.realm.replace('.', '\\.')}, your ticket`));
  });

  test('test-realm.test: passes under node --test', async () => {
    const r = await runProgram(process.execPath, ['--test', join(consumer.dir, 'out', 'test-realm.test.js')], { env, cwd: consumer.dir, timeoutMs: 60_000 });
    assert.equal(r.code, 0, `node --test failed:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /# pass 1\n/);
  });
});
