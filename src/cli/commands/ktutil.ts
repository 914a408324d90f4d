/**
 * `kerbside ktutil <list|add|remove|merge>`: MIT ktutil's keytab editing as
 * non-interactive subcommands. Keys and passwords are read through
 * io.readSecret, never taken from the command line.
 *
 *   ktutil list   -k keytab [-t] [-e] [-K]
 *   ktutil add    -k keytab -p principal -V kvno -e enctype[,enctype…] (--password | --key) [-s salt]
 *   ktutil remove -k keytab -p principal [-V kvno|old] [-e enctype]
 *   ktutil merge  -k keytab source_keytab…
 */

import { fromHex, toHex } from '../../core/bytes.js';
import { enctypeFromName, enctypeName, getEnctype } from '../../crypto/index.js';
import {
  keytabEntriesFromPassword, keytabEntryFromKey, parseKeytabName, principalEquals, principalToString, readKeytab,
  removeKeytabEntries, updateKeytab, type KeytabEntry,
} from '../../files/index.js';
import { clientFromEnvironment, comErr } from '../../client/index.js';
import { parseCommandLine, positionals } from '../args.js';
import { UsageError, type CliIO, type Command } from '../io.js';
import { timeFormatter } from './klist.js';

const USAGE = [
  'ktutil list -k keytab [-t] [-e] [-K]',
  '       ktutil add -k keytab -p principal -V kvno -e enctype[,enctype…] (--password | --key) [-s salt]',
  '       ktutil remove -k keytab -p principal [-V kvno|old] [-e enctype]',
  '       ktutil merge -k keytab source_keytab…',
].join('\n');

export const command: Command = {
  name: 'ktutil',
  summary: 'list, add, remove and merge keytab entries (MIT ktutil, non-interactive)',
  usage: USAGE,
  async run(io: CliIO): Promise<number> {
    const [sub, ...rest] = io.argv;
    if (sub === undefined || !['list', 'add', 'remove', 'merge'].includes(sub)) {
      throw new UsageError(sub === undefined ? 'name a subcommand: list, add, remove or merge' : `unknown subcommand "${sub}"`);
    }
    // In `list`, -e is a switch (show enctypes), elsewhere it names enctypes.
    const parsed = parseCommandLine(rest, sub === 'list'
      ? { k: { type: 'string' }, t: { type: 'boolean' }, e: { type: 'boolean' }, K: { type: 'boolean' } }
      : {
        k: { type: 'string' }, p: { type: 'string' }, V: { type: 'string' }, e: { type: 'string', multiple: true },
        s: { type: 'string' }, password: { type: 'boolean' }, key: { type: 'boolean' },
      });
    if (sub !== 'merge') positionals(parsed.positionals, []);
    const v = parsed.values as Values;
    const keytab = v['k'];
    if (typeof keytab !== 'string') throw new UsageError('-k keytab is required');
    try {
      parseKeytabName(keytab);
      switch (sub) {
        case 'list':
          return await list(io, keytab, { timestamps: v['t'] === true, enctypes: v['e'] === true, keys: v['K'] === true });
        case 'add':
          return await add(io, keytab, v);
        case 'remove':
          return await remove(io, keytab, v);
        default:
          return await merge(io, keytab, parsed.positionals);
      }
    } catch (err) {
      if (err instanceof UsageError) throw err;
      io.err(comErr('ktutil', err));
      return 1;
    }
  },
};

/** MIT ktutil's `list` layout: slot, kvno, [timestamp,] principal right-aligned in 40 columns. */
async function list(io: CliIO, keytab: string, o: { timestamps: boolean; enctypes: boolean; keys: boolean }): Promise<number> {
  const entries = await readKeytab(keytab);
  const fmt = timeFormatter(io.env['TZ']);
  const lines = o.timestamps
    ? ['slot KVNO Timestamp         Principal', `---- ---- ----------------- ${'-'.repeat(51)}`]
    : ['slot KVNO Principal', `---- ---- ${'-'.repeat(69)}`];
  entries.forEach((e, i) => {
    let line = `${String(i + 1).padStart(4)} ${String(e.kvno).padStart(4)} `;
    if (o.timestamps) line += `${fmt(e.timestamp.getTime())} `;
    line += principalToString(e.principal).padStart(40);
    if (o.enctypes) line += ` (${enctypeName(e.enctype)}) `;
    if (o.keys) line += ` (0x${toHex(e.key)})`;
    lines.push(line);
  });
  io.out(lines.join('\n'));
  return 0;
}

type Values = Record<string, string | boolean | string[] | undefined>;

function enctypesOf(v: Values, required: boolean): number[] {
  const names = ((v['e'] as string[] | undefined) ?? []).flatMap((x) => x.split(','));
  if (names.length === 0 && required) throw new UsageError('-e enctype is required');
  return names.map((n) => {
    const e = enctypeFromName(n);
    if (e === undefined) throw new UsageError(`unknown enctype "${n}"`);
    return e;
  });
}

function kvnoOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`kvno "${text}" is not a number`);
  return Number(text);
}

async function add(io: CliIO, keytab: string, v: Values): Promise<number> {
  if (typeof v['p'] !== 'string') throw new UsageError('-p principal is required');
  const kvno = kvnoOf(v['V'] as string | undefined);
  if (kvno === undefined) throw new UsageError('-V kvno is required');
  if ((v['password'] === true) === (v['key'] === true)) throw new UsageError('give exactly one of --password and --key');
  const enctypes = enctypesOf(v, true);
  const { client, config } = await clientFromEnvironment(io);
  const principal = client.principal(v['p']);
  const who = principalToString(principal);
  let entries: KeytabEntry[];
  if (v['password'] === true) {
    const password = await io.readSecret(`Password for ${who}: `);
    entries = await keytabEntriesFromPassword({
      principal, password, kvno, enctypes, clock: io.clock, allowWeak: config.allowWeakCrypto,
      ...(typeof v['s'] === 'string' ? { salt: v['s'] } : {}),
    });
  } else {
    if (enctypes.length !== 1) throw new UsageError('--key adds one key: give exactly one -e enctype');
    const enctype = enctypes[0]!;
    const hex = await io.readSecret(`Key for ${who} (hex): `);
    let keyvalue: Uint8Array;
    try {
      keyvalue = fromHex(hex.trim());
    } catch {
      throw new UsageError('the key must be given in hex');
    }
    const size = getEnctype(enctype, { allowWeak: config.allowWeakCrypto }).keyBytes;
    if (keyvalue.length !== size) throw new UsageError(`a ${enctypeName(enctype)} key is ${size} bytes, not ${keyvalue.length}`);
    entries = [keytabEntryFromKey({ principal, kvno, key: { enctype, keyvalue }, clock: io.clock })];
  }
  await updateKeytab(keytab, (existing) => [
    // A new entry replaces one with the same principal, kvno and enctype.
    ...existing.filter((x) => !entries.some((n) => sameSlot(n, x))),
    ...entries,
  ]);
  return 0;
}

function sameSlot(a: KeytabEntry, b: KeytabEntry): boolean {
  return a.kvno === b.kvno && a.enctype === b.enctype && principalEquals(a.principal, b.principal);
}

async function remove(io: CliIO, keytab: string, v: Values): Promise<number> {
  if (typeof v['p'] !== 'string') throw new UsageError('-p principal is required');
  const { client } = await clientFromEnvironment(io);
  const principal = client.principal(v['p']);
  const kvnoText = v['V'] as string | undefined;
  const kvno = kvnoText === 'old' ? 'old' as const : kvnoOf(kvnoText);
  const enctype = enctypesOf(v, false)[0];
  let removed = 0;
  await updateKeytab(keytab, (existing) => {
    const kept = removeKeytabEntries(existing, {
      principal, ...(kvno !== undefined ? { kvno } : {}), ...(enctype !== undefined ? { enctype } : {}),
    });
    removed = existing.length - kept.length;
    return kept;
  });
  io.out(`removed ${removed} entr${removed === 1 ? 'y' : 'ies'} of ${principalToString(principal)} from ${keytab}`);
  return removed > 0 ? 0 : 1;
}

async function merge(io: CliIO, keytab: string, sources: readonly string[]): Promise<number> {
  if (sources.length === 0) throw new UsageError('name at least one source keytab');
  const incoming: KeytabEntry[] = [];
  for (const s of sources) incoming.push(...await readKeytab(s));
  let added = 0;
  await updateKeytab(keytab, (existing) => {
    const out = [...existing];
    for (const e of incoming) {
      if (out.some((x) => sameSlot(x, e))) continue;
      out.push(e);
      added++;
    }
    return out;
  });
  io.out(`merged ${added} entr${added === 1 ? 'y' : 'ies'} into ${keytab}`);
  return 0;
}
