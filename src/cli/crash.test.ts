/**
 * Crash safety of the realm database: real `kerbside principal add |
 * set-password | modify` processes (two at a time) and `kerbside kdc` are
 * killed with SIGKILL at seeded random points. A write is acknowledged when
 * its process exits 0. Afterwards every acknowledged write is there (a
 * killed one may or may not be: its old or its new state, nothing else),
 * the SQLite database passes PRAGMA integrity_check, and every principal
 * gets a TGT from MIT kinit against a restarted `kerbside kdc`.
 */

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { clientKrb5Conf } from '../files/index.js';
import { openWalDatabase } from '../store/index.js';
import { CLI_MAIN, runCli, runCliInProcess, spawnCli, type CliProcess } from '../testing/kerbside-cli.js';
import { baseEnvironment, mitTool, runProgram } from '../testing/mit-tools.js';

const REALM = 'EXAMPLE.TEST';
const COMMANDS = 120;
const LANES = 2;
const KDC_KILL_EVERY = 20;
const seed = Number(process.env['KERBSIDE_CRASH_SEED'] ?? 8);

let work: string;
after(async () => { if (work !== undefined) await rm(work, { recursive: true, force: true }); });

/** What a principal may be after the run: each field lists the states it may be in (the last acknowledged one, plus any killed write after it). */
interface Expected {
  passwords: string[];
  maxLife: string[];
  /** False while only a killed `add` created it. */
  acked: boolean;
}

interface Outcome { readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly output: string }

/** Runs `kerbside …args` with `input` on stdin, SIGKILLed after `killAfterMs` when given. */
function admin(args: readonly string[], input: string, killAfterMs: number | undefined): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { env: baseEnvironment(), stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { output += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { output += d; });
    child.stdin.on('error', () => {}); // killed before it read its input
    child.stdin.end(input);
    const timer = killAfterMs === undefined ? undefined : systemClock().setTimer(killAfterMs, () => child.kill('SIGKILL'));
    child.once('exit', (code, signal) => { timer?.cancel(); resolve({ code, signal, output }); });
  });
}

test('kill -9 of admin commands and of the KDC: acknowledged writes survive, the database is intact, every principal can kinit', { timeout: 180_000 }, async (t) => {
  work = await mkdtemp(join(tmpdir(), 'kerbside-crash-'));
  const dir = join(work, 'realm');
  const init = await runCliInProcess(['realm', 'init', '--realm', REALM, '--dir', dir, '--admin-password', 'Admin-pw-1']);
  assert.equal(init.code, 0, init.stderr);
  const random = seededRandom(seed);
  const expected = new Map<string, Expected>([['admin', { passwords: ['Admin-pw-1'], maxLife: [], acked: true }]]);
  const figures = { commands: 0, acked: 0, killed: 0, failed: 0, kdcKills: 0, kdcStarts: 0, verified: 0 };

  let kdc: CliProcess | undefined;
  const startKdc = async (): Promise<string> => {
    kdc = spawnCli(['kdc', '--dir', dir, '--listen', '127.0.0.1:0', '--poll-interval-ms', '200']);
    figures.kdcStarts++;
    const m = await kdc.waitFor(/ready on udp 127\.0\.0\.1:(\d+)/, 30_000);
    return `127.0.0.1:${m[1]!}`;
  };
  await startKdc();

  let counter = 0;
  const lane = async (laneNo: number): Promise<void> => {
    /** Principals this lane added; those whose add was acknowledged are the ones later writes go to. */
    const mine: string[] = [];
    const live = (): string[] => mine.filter((m) => expected.get(m)?.acked === true);
    for (let i = laneNo; i < COMMANDS; i += LANES) {
      if (i > 0 && i % KDC_KILL_EVERY === 0 && laneNo === 0) {
        // The KDC is killed at a random point of its life too, then started again while admin commands go on.
        await systemClock().sleep(random.int(300));
        await kdc!.stop('SIGKILL');
        figures.kdcKills++;
        await startKdc();
      }
      const n = ++counter;
      const op = live().length === 0 ? 0 : random.int(3);
      // Kill about half of the commands, at a point from just after start to past their usual end.
      const killAfter = random.int(2) === 0 ? 40 + random.int(500) : undefined;
      let args: string[];
      let name: string;
      let input = '';
      let apply: (e: Expected, definite: boolean) => void;
      if (op === 0) {
        name = `user${laneNo}-${mine.length}`;
        const pw = `Pw-${name}-${n}x`;
        args = ['principal', 'add', name, '--password-file', '-', '--dir', dir];
        input = `${pw}\n`;
        mine.push(name);
        expected.set(name, { passwords: [pw], maxLife: ['10h'], acked: false });
        apply = (e, definite) => { e.acked ||= definite; };
      } else if (op === 1) {
        name = live()[random.int(live().length)]!;
        const pw = `Pw-${name}-${n}y`;
        args = ['principal', 'set-password', name, '--password-file', '-', '--dir', dir];
        input = `${pw}\n`;
        apply = (e, definite) => { e.passwords = definite ? [pw] : [...e.passwords, pw]; };
      } else {
        name = live()[random.int(live().length)]!;
        const life = `${1 + random.int(9)}h`;
        args = ['principal', 'modify', name, '--max-life', life, '--dir', dir];
        apply = (e, definite) => { e.maxLife = definite ? [life] : [...e.maxLife, life]; };
      }
      figures.commands++;
      const r = await admin(args, input, killAfter);
      const e = expected.get(name)!;
      if (r.code === 0) {
        figures.acked++;
        apply(e, true);
      } else if (r.signal === 'SIGKILL') {
        figures.killed++;
        apply(e, false);
      } else {
        // A refusal (say, the database busy) is not acknowledged, and it must not have written anything.
        figures.failed++;
        if (op === 0 && !e.acked) expected.delete(name);
        t.diagnostic(`kerbside ${args.join(' ')} exited ${r.code}: ${r.output.trim().split('\n')[0] ?? ''}`);
      }
    }
  };
  await Promise.all(Array.from({ length: LANES }, (_, i) => lane(i)));
  await kdc!.stop('SIGKILL');
  figures.kdcKills++;

  // The database file is intact.
  const db = await openWalDatabase(join(dir, 'principal.sqlite'), 5000, 'FULL');
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  } finally {
    db.close();
  }

  // Every acknowledged write is there, and every principal can log on with MIT kinit.
  const address = await startKdc();
  try {
    const conf = join(work, 'krb5.conf');
    await writeFile(conf, clientKrb5Conf({ realm: REALM, kdc: address }));
    const listed = await runCli(['principal', 'list', '--dir', dir]);
    assert.equal(listed.code, 0, listed.stderr);
    for (const [name, e] of expected) {
      const exists = listed.stdout.split('\n').some((l) => l.trim() === `${name}@${REALM}`);
      if (!exists) {
        assert.ok(!e.acked, `${name}: its add was acknowledged but the principal is gone`);
        continue;
      }
      if (e.maxLife.length > 0) {
        const shown = await runCli(['principal', 'show', name, '--dir', dir]);
        const life = /Maximum ticket life: (\S+)/.exec(shown.stdout)?.[1];
        assert.ok(life !== undefined && e.maxLife.includes(life), `${name}: max life ${life}, expected one of ${e.maxLife.join(', ')}`);
      }
      let ok = false;
      const errors: string[] = [];
      // The newest candidate first: a killed write most often got through.
      for (const pw of [...e.passwords].reverse()) {
        const r = await runProgram(mitTool('kinit'), [`${name}@${REALM}`], {
          env: { ...baseEnvironment(), KRB5_CONFIG: conf, KRB5CCNAME: `FILE:${join(work, 'cc')}` }, input: `${pw}\n`,
        });
        if (r.code === 0) { ok = true; break; }
        errors.push(r.stderr.trim());
      }
      assert.ok(ok, `${name}: MIT kinit failed with every password it may have (${e.passwords.length}): ${errors.join(' | ')}`);
      figures.verified++;
    }
  } finally {
    await kdc!.stop('SIGKILL');
  }
  const summary = `crash test (seed ${seed}): ${figures.commands} admin commands, ${figures.acked} acknowledged, ${figures.killed} killed, `
    + `${figures.failed} refused; ${figures.kdcKills} KDC kills, ${figures.kdcStarts} KDC starts; ${figures.verified} principals verified with MIT kinit`;
  t.diagnostic(summary);
  assert.ok(figures.killed > 0 && figures.acked > 0 && figures.kdcKills >= 2, summary);
});
