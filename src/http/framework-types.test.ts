/**
 * `req.auth` is typed without a cast under `strict` in a user's project:
 * TypeScript compiles small consumer projects against the packed package
 * (kerbside/http resolved through package.json `exports`), with Express's and
 * Fastify's own types, and without them (the augmentation must not break a
 * project that has neither framework, even with skipLibCheck off).
 */

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { baseEnvironment, runProgram } from '../testing/mit-tools.js';
import { consumerProject, type Consumer } from '../testing/package.js';

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
    exactOptionalPropertyTypes: true, types: ['node'],
  },
  include: ['*.ts'],
};

let withFrameworks: Consumer;
let bare: Consumer;

before(async () => {
  withFrameworks = await consumerProject();
  bare = await consumerProject({ exclude: ['express', 'fastify', '@types/express', '@types/express-serve-static-core'] });
});

after(async () => {
  await withFrameworks?.remove();
  await bare?.remove();
});

async function tsc(dir: string, files: Record<string, string>, skipLibCheck: boolean) {
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ ...TSCONFIG, compilerOptions: { ...TSCONFIG.compilerOptions, skipLibCheck } }));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return runProgram(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { env: baseEnvironment(), cwd: dir, timeoutMs: 120_000 });
}

const APP = `
import express from 'express';
import Fastify from 'fastify';
import { negotiateServer, negotiateExpress, negotiateFastify, type NegotiateAuth } from 'kerbside/http';

const auth = negotiateServer({ keytab: '/etc/http.keytab', principal: 'HTTP/web.example.test' });
const app = express();
app.get('/', negotiateExpress(auth), (req, res) => {
  const who: NegotiateAuth = req.auth;
  res.send(\`hello \${req.auth.principal} until \${who.ticketEndTime}\`);
});
const fastify = Fastify();
await fastify.register(negotiateFastify, { server: auth });
fastify.get('/', async (request) => \`hello \${request.auth.principal} (\${request.auth.mechanism})\`);
`;

test('Express and Fastify handlers see req.auth typed (strict, no cast)', async () => {
  const r = await tsc(withFrameworks.dir, { 'app.ts': APP }, true);
  assert.equal(r.code, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
});

test('req.auth is NegotiateAuth, not any: a wrong field does not compile', async () => {
  const wrong = `${APP}\napp.get('/x', (req, res) => { res.send(req.auth.noSuchField); });\nfastify.get('/x', async (request) => request.auth.noSuchField);\n`;
  const r = await tsc(withFrameworks.dir, { 'app.ts': wrong }, true);
  assert.notEqual(r.code, 0);
  assert.equal(r.stdout.match(/Property 'noSuchField' does not exist on type 'NegotiateAuth'/g)?.length, 2, r.stdout);
});

test('a project without Express or Fastify compiles kerbside/http with skipLibCheck off', async () => {
  const r = await tsc(bare.dir, {
    'app.ts': `import { createServer } from 'node:http';
import { negotiateServer, negotiateListener } from 'kerbside/http';
const auth = negotiateServer({ keytab: '/etc/http.keytab', principal: 'HTTP/web.example.test' });
createServer(negotiateListener(auth, (req, res) => { res.end(req.auth.principal); }));
`,
  }, false);
  assert.equal(r.code, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
});
