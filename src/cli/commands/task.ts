/**
 * `kerbside task add|list|show|modify|delete|enable|disable|run|history`:
 * defines the tasks the scheduler daemon runs (docs/scheduler.md "CLI").
 * The daemon sees the changes without a restart. A stored password is read
 * from --password-file or typed when asked (piped stdin works), never from
 * an argument; it is sealed under the host key before it is stored.
 */

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  InvalidTaskError, type CredentialInput, type InstancePolicy, type TaskAction, type TaskInput, type TaskOptions, type TaskPatch, type Trigger,
} from '../../scheduler/index.js';
import { dateOption, durationOption, parseCommandLine, positionals } from '../args.js';
import { UsageError, type CliIO, type Command } from '../io.js';
import {
  RUN_HEADER, conflictsExitTwo, describeAction, formatRun, formatTask, iso, openAdmin, runJson, taskJson,
} from '../scheduler-cli.js';
import { nextStart } from '../../scheduler/index.js';

const USAGE = `task add NAME --principal P [credential] [triggers] [options] (--http URL | -- COMMAND [ARG...])
       task modify NAME [credential] [triggers] [options] [--http URL | -- COMMAND [ARG...]]
       task list|show NAME|history [NAME] [--json] [--limit N]
       task delete|enable|disable|run NAME
  common: --dir DIR (default $KERBSIDE_SCHEDULER_DIR or ./scheduler)
  credential: --password-file FILE | --keytab KEYTAB | --run-only-if-logged-on  (default: prompt for the password)
              --no-verify (do not check the credential against the KDC now)
  triggers: --cron "EXPR" (repeatable) --every DURATION [--start TIME] --at TIME --at-logon [PRINCIPAL]
  HTTP action: --http URL [--method M] [--spn SPN] [--expect-status N]
  command action: -- COMMAND [ARG...] [--cwd DIR] [--env NAME=VALUE ...]
  options: --time-limit DURATION (72h) --expected-run DURATION (1h) --instances ignore-new|parallel|queue|stop-existing
           --retry N --retry-delay DURATION --run-missed --krb5-config FILE --disabled --description TEXT`;

const OPTIONS = {
  dir: { type: 'string' },
  principal: { type: 'string' },
  'password-file': { type: 'string' },
  keytab: { type: 'string' },
  'run-only-if-logged-on': { type: 'boolean' },
  'no-run-only-if-logged-on': { type: 'boolean' },
  'no-verify': { type: 'boolean' },
  cron: { type: 'string', multiple: true },
  timezone: { type: 'string' },
  every: { type: 'string' },
  start: { type: 'string' },
  at: { type: 'string' },
  'at-logon': { type: 'boolean' },
  'logon-of': { type: 'string' },
  'clear-triggers': { type: 'boolean' },
  http: { type: 'string' },
  method: { type: 'string' },
  spn: { type: 'string' },
  'expect-status': { type: 'string' },
  cwd: { type: 'string' },
  env: { type: 'string', multiple: true },
  'time-limit': { type: 'string' },
  'expected-run': { type: 'string' },
  instances: { type: 'string' },
  retry: { type: 'string' },
  'retry-delay': { type: 'string' },
  'run-missed': { type: 'boolean' },
  'no-run-missed': { type: 'boolean' },
  'krb5-config': { type: 'string' },
  disabled: { type: 'boolean' },
  description: { type: 'string' },
  json: { type: 'boolean' },
  limit: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseCommandLine<typeof OPTIONS>>['values'];

const INSTANCES: readonly InstancePolicy[] = ['ignore-new', 'parallel', 'queue', 'stop-existing'];

export const command: Command = {
  name: 'task',
  summary: 'define, list, run and inspect scheduled tasks (runs as accounts with their own logon)',
  usage: USAGE,
  async run(io: CliIO): Promise<number> {
    const [sub, ...rest] = io.argv;
    if (sub === undefined) throw new UsageError('name a subcommand: add, list, show, modify, delete, enable, disable, run or history');
    const split = rest.indexOf('--');
    const argv = split < 0 ? rest : rest.slice(0, split);
    const commandArgv = split < 0 ? undefined : rest.slice(split + 1);
    const parsed = parseCommandLine(argv, OPTIONS);
    const v = parsed.values;
    return conflictsExitTwo(io, 'task', async () => {
      switch (sub) {
        case 'add': return add(io, v, positionals(parsed.positionals, ['the task name'])[0]!, commandArgv);
        case 'modify': return modify(io, v, positionals(parsed.positionals, ['the task name'])[0]!, commandArgv);
        case 'list': positionals(parsed.positionals, []); return list(io, v);
        case 'show': return show(io, v, positionals(parsed.positionals, ['the task name'])[0]!);
        case 'delete': case 'enable': case 'disable': case 'run':
          return simple(io, v, sub, positionals(parsed.positionals, ['the task name'])[0]!);
        case 'history': {
          if (parsed.positionals.length > 1) throw new UsageError(`unexpected argument "${parsed.positionals[1]!}"`);
          return history(io, v, parsed.positionals[0]);
        }
        default: throw new UsageError(`unknown subcommand "${sub}"`);
      }
    });
  },
};

async function add(io: CliIO, v: Values, name: string, commandArgv: string[] | undefined): Promise<number> {
  if (v.principal === undefined) throw new UsageError('--principal is required');
  const action = actionOf(io, v, commandArgv);
  if (action === undefined) throw new UsageError('give an action: --http URL, or -- COMMAND [ARG...]');
  const options = optionsOf(v);
  const credential = await credentialOf(io, v, name, v.principal, options.runOnlyIfLoggedOn === true);
  const input: TaskInput = {
    name, principal: v.principal, action, triggers: triggersOf(io, v) ?? [], options,
    ...(credential !== undefined ? { credential } : {}),
    ...(v.disabled === true ? { enabled: false } : {}),
    ...(v['krb5-config'] !== undefined ? { krb5Config: resolve(io.cwd, v['krb5-config']) } : {}),
    ...(v.description !== undefined ? { description: v.description } : {}),
  };
  const a = await openAdmin(io, v.dir, { verify: v['no-verify'] !== true, ...(input.krb5Config !== undefined ? { krb5Config: input.krb5Config } : {}) });
  try {
    const { task, warnings } = await a.admin.add(input);
    for (const w of warnings) io.err(`kerbside task: warning: ${w}`);
    io.out(`Task "${task.name}" added: runs as ${task.principal}; next run ${iso(task.enabled ? nextStart(task) : undefined)}`);
    return 0;
  } finally {
    await a.close();
  }
}

async function modify(io: CliIO, v: Values, name: string, commandArgv: string[] | undefined): Promise<number> {
  const a = await openAdmin(io, v.dir, { verify: v['no-verify'] !== true });
  try {
    const old = await a.admin.get(name);
    const options = optionsOf(v);
    const wantsPassword = v['password-file'] !== undefined;
    const credential = wantsPassword || v.keytab !== undefined ? await credentialOf(io, v, name, v.principal ?? old.principal, false) : undefined;
    const action = actionOf(io, v, commandArgv);
    const triggers = triggersOf(io, v);
    const patch: TaskPatch = {
      ...(v.principal !== undefined ? { principal: v.principal } : {}),
      ...(credential !== undefined ? { credential } : {}),
      ...(action !== undefined ? { action } : {}),
      ...(triggers !== undefined ? { triggers: v['clear-triggers'] === true ? triggers : [...old.triggers, ...triggers] } : v['clear-triggers'] === true ? { triggers: [] } : {}),
      ...(Object.keys(options).length > 0 ? { options } : {}),
      ...(v['krb5-config'] !== undefined ? { krb5Config: resolve(io.cwd, v['krb5-config']) } : {}),
      ...(v.description !== undefined ? { description: v.description } : {}),
      ...(v.disabled === true ? { enabled: false } : {}),
    };
    const { warnings } = await a.admin.modify(name, patch);
    for (const w of warnings) io.err(`kerbside task: warning: ${w}`);
    io.out(`Task "${name}" modified`);
    return 0;
  } finally {
    await a.close();
  }
}

async function list(io: CliIO, v: Values): Promise<number> {
  const a = await openAdmin(io, v.dir);
  try {
    const tasks = await a.admin.list();
    const last = new Map<string, Awaited<ReturnType<typeof a.dir.store.history>>[number]>();
    for (const t of tasks) {
      const r = (await a.dir.store.history({ task: t.name, limit: 1 }))[0];
      if (r !== undefined) last.set(t.name, r);
    }
    if (v.json === true) {
      io.out(JSON.stringify(tasks.map((t) => ({ ...taskJson(t), lastRun: last.has(t.name) ? runJson(last.get(t.name)!) : null })), null, 2));
      return 0;
    }
    if (tasks.length === 0) {
      io.out('No tasks defined');
      return 0;
    }
    io.out(`${'Task'.padEnd(20)} ${'Status'.padEnd(9)} ${'Principal'.padEnd(28)} ${'Next run'.padEnd(21)} ${'Last result'.padEnd(12)} Action`);
    for (const t of tasks) {
      const r = last.get(t.name);
      io.out(`${t.name.padEnd(20)} ${(t.enabled ? 'ready' : 'disabled').padEnd(9)} ${a.canonical(t.principal).padEnd(28)} ${iso(t.enabled ? nextStart(t) : undefined).padEnd(21)} ${(r?.status ?? 'never run').padEnd(12)} ${describeAction(t)}`);
    }
    return 0;
  } finally {
    await a.close();
  }
}

async function show(io: CliIO, v: Values, name: string): Promise<number> {
  const a = await openAdmin(io, v.dir);
  try {
    const t = await a.admin.get(name);
    const last = (await a.dir.store.history({ task: name, limit: 1 }))[0];
    if (v.json === true) io.out(JSON.stringify({ ...taskJson(t), lastRun: last === undefined ? null : runJson(last) }, null, 2));
    else io.out(formatTask(t, last));
    return 0;
  } finally {
    await a.close();
  }
}

async function simple(io: CliIO, v: Values, sub: 'delete' | 'enable' | 'disable' | 'run', name: string): Promise<number> {
  const a = await openAdmin(io, v.dir);
  try {
    if (sub === 'delete') {
      await a.admin.remove(name);
      io.out(`Task "${name}" deleted`);
    } else if (sub === 'run') {
      await a.admin.requestRun(name);
      io.out(`Run of task "${name}" requested (the scheduler starts it within a second; see kerbside task history ${name})`);
    } else {
      await a.admin.setEnabled(name, sub === 'enable');
      io.out(`Task "${name}" ${sub}d`);
    }
    return 0;
  } finally {
    await a.close();
  }
}

async function history(io: CliIO, v: Values, name: string | undefined): Promise<number> {
  const a = await openAdmin(io, v.dir);
  try {
    if (name !== undefined) await a.admin.get(name);
    const limit = v.limit === undefined ? undefined : Number(v.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new UsageError(`--limit "${v.limit!}" is not a positive number`);
    const runs = await a.dir.store.history({ ...(name !== undefined ? { task: name } : {}), ...(limit !== undefined ? { limit } : {}) });
    if (v.json === true) {
      io.out(JSON.stringify(runs.map(runJson), null, 2));
      return 0;
    }
    if (runs.length === 0) {
      io.out(name === undefined ? 'No runs recorded' : `No runs of task "${name}" recorded`);
      return 0;
    }
    io.out(RUN_HEADER);
    for (const r of runs) io.out(formatRun(r));
    return 0;
  } finally {
    await a.close();
  }
}

function actionOf(io: CliIO, v: Values, commandArgv: string[] | undefined): TaskAction | undefined {
  if (v.http !== undefined && commandArgv !== undefined) throw new UsageError('give either --http URL or a command after --, not both');
  if (v.http !== undefined) {
    const status = v['expect-status'] === undefined ? undefined : Number(v['expect-status']);
    if (status !== undefined && !Number.isInteger(status)) throw new UsageError(`--expect-status "${v['expect-status']!}" is not an HTTP status`);
    return {
      kind: 'http', url: v.http,
      ...(v.method !== undefined ? { method: v.method.toUpperCase() } : {}),
      ...(v.spn !== undefined ? { spn: v.spn } : {}),
      ...(status !== undefined ? { expectStatus: status } : {}),
    };
  }
  if (commandArgv === undefined) return undefined;
  const env: Record<string, string> = {};
  for (const e of v.env ?? []) {
    const eq = e.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env "${e}" is not NAME=VALUE`);
    env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return {
    kind: 'command', argv: commandArgv,
    ...(v.cwd !== undefined ? { cwd: resolve(io.cwd, v.cwd) } : {}),
    ...(Object.keys(env).length > 0 ? { env } : {}),
  };
}

function triggersOf(io: CliIO, v: Values): Trigger[] | undefined {
  void io;
  const out: Trigger[] = [];
  for (const c of v.cron ?? []) out.push({ kind: 'cron', expression: c, ...(v.timezone !== undefined ? { timezone: v.timezone } : {}) });
  if (v.every !== undefined) {
    const start = v.start === undefined ? undefined : dateOption('start', v.start);
    out.push({ kind: 'interval', everyMs: durationOption('every', v.every) * 1000, ...(start !== undefined && start !== null ? { startAt: start } : {}) });
  }
  if (v.at !== undefined) {
    const at = dateOption('at', v.at);
    if (at === null) throw new UsageError('--at needs a time');
    out.push({ kind: 'once', at });
  }
  if (v['at-logon'] === true || v['logon-of'] !== undefined) out.push({ kind: 'logon', ...(v['logon-of'] !== undefined ? { principal: v['logon-of'] } : {}) });
  return out.length === 0 ? undefined : out;
}

function optionsOf(v: Values): Partial<TaskOptions> {
  const o: { -readonly [K in keyof TaskOptions]?: TaskOptions[K] } = {};
  if (v['time-limit'] !== undefined) o.timeLimitMs = durationOption('time-limit', v['time-limit']) * 1000;
  if (v['expected-run'] !== undefined) o.expectedRunMs = durationOption('expected-run', v['expected-run']) * 1000;
  if (v.instances !== undefined) {
    if (!INSTANCES.includes(v.instances as InstancePolicy)) throw new UsageError(`--instances must be one of ${INSTANCES.join(', ')}`);
    o.instances = v.instances as InstancePolicy;
  }
  if (v.retry !== undefined || v['retry-delay'] !== undefined) {
    const count = v.retry === undefined ? 3 : Number(v.retry);
    if (!Number.isInteger(count) || count < 0) throw new UsageError(`--retry "${v.retry!}" is not a count`);
    o.retry = { count, delayMs: v['retry-delay'] === undefined ? 60_000 : durationOption('retry-delay', v['retry-delay']) * 1000 };
  }
  if (v['run-missed'] === true) o.runMissed = true;
  if (v['no-run-missed'] === true) o.runMissed = false;
  if (v['run-only-if-logged-on'] === true) o.runOnlyIfLoggedOn = true;
  if (v['no-run-only-if-logged-on'] === true) o.runOnlyIfLoggedOn = false;
  return o;
}

async function credentialOf(io: CliIO, v: Values, task: string, principal: string, runOnlyIfLoggedOn: boolean): Promise<CredentialInput | undefined> {
  const given = [v['password-file'] !== undefined, v.keytab !== undefined].filter(Boolean).length;
  if (given > 1) throw new UsageError('give either --password-file or --keytab, not both');
  if (runOnlyIfLoggedOn) {
    if (given > 0) throw new InvalidTaskError(`task "${task}": a run-only-if-logged-on task runs inside its account's session and takes no stored credential`, { hint: 'leave out --password-file/--keytab' });
    return undefined;
  }
  if (v.keytab !== undefined) return { kind: 'keytab', keytab: resolve(io.cwd, v.keytab.replace(/^FILE:/, '')) };
  let password: string;
  if (v['password-file'] !== undefined) {
    const text = await readFile(resolve(io.cwd, v['password-file']), 'utf8').catch((err: unknown) => {
      throw new UsageError(`--password-file ${v['password-file']!} cannot be read (${(err as { code?: string }).code ?? String(err)})`);
    });
    password = text.replace(/\r?\n$/, '');
  } else {
    password = await io.readSecret(`Password for ${principal} (stored for task "${task}"): `);
  }
  if (password === '') throw new UsageError('the password is empty; nothing was stored');
  return { kind: 'password', password };
}
