/**
 * `kerbside klist`: lists a credential cache or a keytab in MIT klist(1)'s
 * layout (checked line by line against MIT 1.20's output): -c cache, -k
 * keytab, -e enctypes, -f flags, -t keytab timestamps, -K keytab keys, -C
 * configuration entries, -s silent (exit status only). Times are printed as
 * MIT does in the C locale (MM/DD/YY HH:MM:SS) in the time zone of TZ.
 */

import { enctypeName } from '../../crypto/index.js';
import {
  ccacheFullName, isConfigEntry, listCcacheCollection, parseKeytabName, principalEquals, principalToString, readCcache, readKeytab,
  type Credential, type CredentialCache, type KeytabEntry,
} from '../../files/index.js';
import { Ticket, TicketFlags } from '../../messages/index.js';
import { comErr, defaultCcacheName, defaultKeytabName, loadClientConfig } from '../../client/index.js';
import { toHex } from '../../core/bytes.js';
import { parseCommandLine } from '../args.js';
import { UsageError, type CliIO, type Command } from '../io.js';
import { formatUsage, usageTable } from '../usage.js';

/** MIT klist's usage (klist.c usage()), with the flags kerbside implements. */
export const HELP = usageTable({
  synopsis: ['Usage: klist [-e] [[-c] [-l] [-A] [-f] [-s]] [-k [-t] [-K]] [-C] [name]'],
  options: [
    ['-c', 'specifies credentials cache'], ['-k', 'specifies keytab'], ['   (Default is credentials cache)', ''],
    ['-l', 'lists credential caches in collection'], ['-A', 'shows content of all credential caches'],
    ['-e', 'shows the encryption type'],
    ['options for credential caches:', ''], ['\t-f', 'shows credentials flags'], ['\t-s', 'sets exit status based on valid tgt existence'],
    ['options for keytabs:', ''], ['\t-t', 'shows keytab entry timestamps'], ['\t-K', 'shows keytab entry keys'],
    ['\t-C', 'includes configuration data entries'],
  ],
  usageExit: 1,
});

export const command: Command = {
  name: 'klist',
  summary: 'list cached Kerberos tickets or keytab entries (MIT klist)',
  usage: formatUsage(HELP),
  help: HELP,
  async run(io: CliIO): Promise<number> {
    const parsed = parseCommandLine(io.argv, {
      c: { type: 'boolean' }, k: { type: 'boolean' }, e: { type: 'boolean' }, f: { type: 'boolean' }, t: { type: 'boolean' },
      K: { type: 'boolean' }, s: { type: 'boolean' }, C: { type: 'boolean' }, l: { type: 'boolean' }, A: { type: 'boolean' },
    });
    const v = parsed.values;
    if (parsed.positionals.length > 1) throw new UsageError(`extra arguments: ${parsed.positionals.slice(1).join(' ')}`);
    if (v.k === true && v.c === true) throw new UsageError('-c and -k are mutually exclusive');
    if ((v.l === true || v.A === true) && (v.k === true || v.s === true)) throw new UsageError('-l and -A cannot be combined with -k or -s');
    const config = await loadClientConfig(undefined, { env: io.env }).catch(() => undefined);
    const fmt = timeFormatter(io.env['TZ']);
    if (v.k === true) {
      const name = parsed.positionals[0] ?? defaultKeytabName(config, io.env);
      return listKeytab(io, name, { timestamps: v.t === true, enctypes: v.e === true, keys: v.K === true, fmt });
    }
    const name = parsed.positionals[0] ?? defaultCcacheName(config, io.env);
    const o = { enctypes: v.e === true, flags: v.f === true, silent: v.s === true, config: v.C === true, fmt };
    if (v.l === true) return listCollection(io, name);
    if (v.A === true) return showCollection(io, name, o);
    return listCache(io, name, o);
  },
};

export type TimeFormatter = (ms: number) => string;

/** MM/DD/YY HH:MM:SS (strftime "%x %X" in the C locale) in `tz`, or local time. */
export function timeFormatter(tz: string | undefined): TimeFormatter {
  let intl: Intl.DateTimeFormat | undefined;
  try {
    intl = new Intl.DateTimeFormat('en-US', {
      ...(tz !== undefined && tz !== '' ? { timeZone: tz.replace(/^:/, '') } : {}),
      year: '2-digit', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    });
  } catch {
    intl = undefined;
  }
  return (ms) => {
    if (intl === undefined) return timeFormatter(undefined)(ms);
    const p: Record<string, string> = {};
    for (const part of intl.formatToParts(new Date(ms))) p[part.type] = part.value;
    return `${p['month']}/${p['day']}/${p['year']} ${p['hour']}:${p['minute']}:${p['second']}`;
  };
}

/** MIT klist's flag letters, in its order. */
const FLAG_LETTERS: readonly (readonly [number, string])[] = [
  [TicketFlags.forwardable, 'F'], [TicketFlags.forwarded, 'f'], [TicketFlags.proxiable, 'P'], [TicketFlags.proxy, 'p'],
  [TicketFlags.mayPostdate, 'D'], [TicketFlags.postdated, 'd'], [TicketFlags.invalid, 'i'], [TicketFlags.renewable, 'R'],
  [TicketFlags.initial, 'I'], [TicketFlags.hwAuthent, 'H'], [TicketFlags.preAuthent, 'A'],
  [TicketFlags.transitedPolicyChecked, 'T'], [TicketFlags.okAsDelegate, 'O'], [TicketFlags.anonymous, 'a'],
];

export function flagLetters(flags: number): string {
  return FLAG_LETTERS.filter(([mask]) => (flags & mask) !== 0).map(([, l]) => l).join('');
}

type CacheListingOptions = { enctypes: boolean; flags: boolean; silent: boolean; config: boolean; fmt: TimeFormatter };

/**
 * MIT klist's check_ccache: a cache is current when its TGT for the client's
 * realm is unexpired, or, having no such TGT, when any ticket is.
 */
function isCurrent(cache: CredentialCache, now: number): boolean {
  const realm = cache.defaultPrincipal.realm;
  const tickets = cache.credentials.filter((c) => !isConfigEntry(c));
  const tgts = tickets.filter((c) => c.server.components.length === 2 && c.server.components[0] === 'krbtgt'
    && c.server.components[1] === realm && c.server.realm === realm);
  return (tgts.length > 0 ? tgts : tickets).some((c) => c.endtime.getTime() > now);
}

/** klist -l: "Principal name  Cache name" for each cache of the collection (MIT klist.c list_ccaches). */
/** The caches of the collection `name` is in, with their contents (unreadable ones skipped, as MIT does); undefined after an error. */
async function collection(io: CliIO, name: string): Promise<{ member: string; cache: CredentialCache }[] | undefined> {
  let members: string[];
  try {
    members = await listCcacheCollection(name);
  } catch (err) {
    io.err(comErr('klist', err, 'listing ccache collection'));
    return undefined;
  }
  const out: { member: string; cache: CredentialCache }[] = [];
  for (const member of members) {
    const cache = await readCcache(member).catch(() => undefined);
    if (cache !== undefined) out.push({ member, cache }); // a reserved cache has no principal yet
  }
  return out;
}

async function listCollection(io: CliIO, name: string): Promise<number> {
  const caches = await collection(io, name);
  if (caches === undefined) return 1;
  const lines = [`${'Principal name'.padEnd(30)} Cache name`, `${'--------------'.padEnd(30)} ----------`];
  for (const { member, cache } of caches) {
    const expired = isCurrent(cache, io.clock.now()) ? '' : ' (Expired)';
    lines.push(`${principalToString(cache.defaultPrincipal).slice(0, 30).padEnd(30)} ${member}${expired}`);
  }
  io.out(lines.join('\n'));
  return caches.length > 0 ? 0 : 1;
}

/** klist -A: every cache of the collection, a blank line between them. */
async function showCollection(io: CliIO, name: string, o: CacheListingOptions): Promise<number> {
  const caches = await collection(io, name);
  if (caches === undefined) return 1;
  caches.forEach(({ member, cache }, i) => {
    if (i > 0) io.out('');
    io.out(cacheLines(member, cache, o).join('\n'));
  });
  return caches.length > 0 ? 0 : 1;
}

function displayName(name: string): string {
  return `FILE:${parseKeytabName(name).path}`;
}

async function listCache(io: CliIO, name: string, o: CacheListingOptions): Promise<number> {
  let cache;
  let fullName;
  try {
    fullName = await ccacheFullName(name);
    cache = await readCcache(name);
  } catch (err) {
    if (!o.silent) io.err(comErr('klist', err));
    return 1;
  }
  if (o.silent) {
    const now = io.clock.now();
    return cache.credentials.some((c) => !isConfigEntry(c) && c.endtime.getTime() > now) ? 0 : 1;
  }
  io.out(cacheLines(fullName, cache, o).join('\n'));
  return 0;
}

/** One cache as MIT's show_ccache prints it. */
function cacheLines(fullName: string, cache: CredentialCache, o: CacheListingOptions): string[] {
  const lines: string[] = [
    `Ticket cache: ${fullName}`,
    `Default principal: ${principalToString(cache.defaultPrincipal)}`,
    '',
    'Valid starting     Expires            Service principal',
  ];
  // In file order, as MIT prints them; configuration entries only with -C.
  for (const c of cache.credentials) {
    if (!isConfigEntry(c)) lines.push(...credentialLines(c, cache.defaultPrincipal, o));
    else if (o.config) lines.push(configLine(c));
  }
  return lines;
}

/** One ticket as MIT's show_credential prints it. */
function credentialLines(
  c: Credential, defaultPrincipal: Credential['client'], o: { enctypes: boolean; flags: boolean; fmt: TimeFormatter },
): string[] {
  const out = [`${o.fmt((c.starttime ?? c.authtime).getTime())}  ${o.fmt(c.endtime.getTime())}  ${principalToString(c.server)}`];
  let line = '';
  let extra = 0;
  const add = (text: string): void => { line += `${extra === 0 ? '\t' : ', '}${text}`; };
  const newline = (): void => { out.push(line); line = ''; extra = 0; };
  if (!principalEquals(c.client, defaultPrincipal)) {
    add(`for client ${principalToString(c.client)}`);
    extra++;
  }
  if (c.renewTill !== undefined) {
    add(`renew until ${o.fmt(c.renewTill.getTime())}`);
    extra += 2;
  }
  if (extra > 3) newline();
  if (o.flags) {
    const letters = flagLetters(c.ticketFlags);
    if (letters !== '') {
      add(`Flags: ${letters}`);
      extra++;
    }
  }
  if (extra > 2) newline();
  if (o.enctypes) {
    let tkt = 'unknown';
    try {
      tkt = enctypeName(Ticket.decode(c.ticket).encPart.etype);
    } catch {
      // An undecodable ticket is still listed.
    }
    add(`Etype (skey, tkt): ${enctypeName(c.key.enctype)}, ${tkt} `);
    extra++;
  }
  if (extra > 0) newline();
  return out;
}

/** `config: key(principal) = value`; the value as text when printable, else hex. */
function configLine(c: Credential): string {
  const [, key, principal] = c.server.components;
  return `config: ${key}${principal !== undefined ? `(${principal})` : ''} = ${printable(c.ticket)}`;
}

function printable(value: Uint8Array): string {
  const text = Buffer.from(value).toString('latin1');
  return /^[\x20-\x7e]*$/.test(text) ? text : `0x${toHex(value)}`;
}

export interface KeytabListingOptions {
  readonly timestamps: boolean;
  readonly enctypes: boolean;
  readonly keys: boolean;
  readonly fmt: TimeFormatter;
}

/** MIT klist -k's lines for `entries` (after the "Keytab name:" line). */
export function keytabListing(entries: readonly KeytabEntry[], o: KeytabListingOptions): string[] {
  const lines = o.timestamps
    ? ['KVNO Timestamp         Principal', `---- ----------------- ${'-'.repeat(56)}`]
    : ['KVNO Principal', `---- ${'-'.repeat(74)}`];
  for (const e of entries) {
    let line = `${String(e.kvno).padStart(4)} ${o.timestamps ? `${o.fmt(e.timestamp.getTime())} ` : ''}${principalToString(e.principal)}`;
    if (o.enctypes) line += ` (${enctypeName(e.enctype)}) `;
    if (o.keys) line += ` (0x${toHex(e.key)})`;
    lines.push(line);
  }
  return lines;
}

async function listKeytab(io: CliIO, name: string, o: KeytabListingOptions): Promise<number> {
  io.out(`Keytab name: ${displayName(name)}`);
  let entries;
  try {
    entries = await readKeytab(name);
  } catch (err) {
    io.err(comErr('klist', err, 'starting keytab scan'));
    return 1;
  }
  io.out(keytabListing(entries, o).join('\n'));
  return 0;
}
