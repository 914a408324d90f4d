/**
 * Acceptor keys that never go stale (docs/lessons.md "Acceptor", "Never cache
 * acceptor keys past a rotation"; docs/architecture.md founding failure 2).
 *
 * A key source hands the acceptor the keytab entries it currently holds.
 * `KeytabKeys` watches a FILE keytab: it stats the file at most every
 * `checkIntervalMs` of the injected clock and re-reads it when its inode,
 * size, mtime or ctime changed, and once more on a key miss (rate-limited,
 * so a flood of bogus tickets cannot turn into a flood of reads). A keytab
 * that fails to read or parse — a rotation caught half-written — leaves the
 * previous copy in use and is reported as an event. Keys are never dropped
 * because of their age: only a new copy of the keytab replaces them.
 *
 * `findTicketKeys` looks keys up by (principal, kvno, enctype) and, when
 * there is none, says why in the manner of MIT's rd_req_dec.c: wrong
 * service principal, ticket out of date, keytab out of date, or enctype
 * missing.
 */

import { systemClock, type Clock } from '../core/clock.js';
import { enctypeName, getEnctype, WeakEnctypeError } from '../crypto/index.js';
import { createEmitter, nullSink, type Emitter, type EventSink } from '../events/index.js';
import {
  parseKeytabName, principalEquals, principalToString, readKeytab, sameStamp, statFile,
  type FileStamp, type KeytabEntry, type Principal,
} from '../files/index.js';
import { ErrorCode } from '../messages/index.js';
import { AcceptorKeyError } from './errors.js';

export interface AcceptorKeySource {
  /** Names the source in messages ('keytab FILE:/etc/krb5.keytab'). */
  readonly description: string;
  /** The keys to try (the source may re-check its backing file first). */
  keys(): Promise<readonly KeytabEntry[]>;
  /** Called on a key miss: re-read now if the source can and may; resolves to the keys afterwards. */
  refresh(): Promise<readonly KeytabEntry[]>;
}

/** A fixed set of keys (tests, keys held in memory by the caller). */
export function staticKeys(entries: readonly KeytabEntry[], description = 'the static key list'): AcceptorKeySource {
  const frozen = Object.freeze([...entries]);
  return {
    description,
    keys: () => Promise.resolve(frozen),
    refresh: () => Promise.resolve(frozen),
  };
}

export interface KeytabKeysOptions {
  readonly clock?: Clock;
  readonly events?: EventSink;
  /** Minimum clock time between two stats of the keytab (default 5 s). */
  readonly checkIntervalMs?: number;
  /** Minimum clock time between two re-reads forced by key misses (default 1 s). */
  readonly missReloadIntervalMs?: number;
  /** stat of the keytab path (default: node:fs stat). */
  readonly stat?: (path: string) => Promise<FileStamp | undefined>;
  /** Reads and decodes the keytab (default: files/ readKeytab). */
  readonly read?: (name: string) => Promise<KeytabEntry[]>;
}

export interface KeytabKeysStatus {
  readonly keytab: string;
  /** Clock time of the last successful read. */
  readonly loadedAt: number | undefined;
  readonly entries: number;
  /** 'HTTP/web@EXAMPLE.TEST: 12, 13' per principal. */
  readonly kvnos: readonly string[];
  readonly reloads: number;
  /** The last read or parse failure, while the previous copy is in use. */
  readonly lastError: string | undefined;
}

/** Keys from a FILE keytab, re-read when it changes; never expired by age. */
export class KeytabKeys implements AcceptorKeySource {
  readonly name: string;
  readonly description: string;
  readonly #path: string;
  readonly #clock: Clock;
  readonly #emit: Emitter;
  readonly #checkInterval: number;
  readonly #missInterval: number;
  readonly #stat: (path: string) => Promise<FileStamp | undefined>;
  readonly #read: (name: string) => Promise<KeytabEntry[]>;
  #entries: readonly KeytabEntry[] | undefined;
  #stamp: FileStamp | undefined;
  #lastCheck = Number.NEGATIVE_INFINITY;
  #lastRead = Number.NEGATIVE_INFINITY;
  #loadedAt: number | undefined;
  #reloads = 0;
  #lastError: Error | undefined;
  #inflight: Promise<void> | undefined;

  constructor(name: string, options: KeytabKeysOptions = {}) {
    this.name = name;
    this.#path = parseKeytabName(name).path;
    this.description = `keytab ${name}`;
    this.#clock = options.clock ?? systemClock();
    this.#emit = createEmitter(options.events ?? nullSink(), this.#clock);
    this.#checkInterval = options.checkIntervalMs ?? 5_000;
    this.#missInterval = options.missReloadIntervalMs ?? 1_000;
    this.#stat = options.stat ?? statFile;
    this.#read = options.read ?? readKeytab;
  }

  async keys(): Promise<readonly KeytabEntry[]> {
    // A read in flight (the first one, say) is awaited: before it ends there is no copy to answer from.
    if (this.#inflight !== undefined) await this.#inflight;
    else if (this.#clock.now() - this.#lastCheck >= this.#checkInterval) await this.#check(false);
    return this.#current();
  }

  async refresh(): Promise<readonly KeytabEntry[]> {
    // A periodic check in flight may have started before the file changed: let it finish, then check again.
    if (this.#inflight !== undefined) await this.#inflight;
    await this.#check(true);
    return this.#current();
  }

  status(): KeytabKeysStatus {
    return {
      keytab: this.name,
      loadedAt: this.#loadedAt,
      entries: this.#entries?.length ?? 0,
      kvnos: describeKvnos(this.#entries ?? []),
      reloads: this.#reloads,
      lastError: this.#lastError?.message,
    };
  }

  #current(): readonly KeytabEntry[] {
    if (this.#entries !== undefined) return this.#entries;
    throw new AcceptorKeyError(`the ${this.description} could not be read: ${this.#lastError?.message ?? 'not loaded'}`, {
      problem: 'keytab-unavailable',
      hint: 'check that the keytab exists and is readable by this process (mode 0600, owned by the service account)',
      detail: { keytab: this.name, problem: 'keytab-unavailable' },
      cause: this.#lastError,
    });
  }

  /** Single-flight: concurrent callers share one stat/read. */
  #check(miss: boolean): Promise<void> {
    this.#inflight ??= this.#doCheck(miss).finally(() => { this.#inflight = undefined; });
    return this.#inflight;
  }

  async #doCheck(miss: boolean): Promise<void> {
    const now = this.#clock.now();
    this.#lastCheck = now;
    let stamp: FileStamp | undefined;
    try {
      stamp = await this.#stat(this.#path);
    } catch (err) {
      this.#failed(err);
      return;
    }
    const unchanged = this.#entries !== undefined && sameStamp(stamp, this.#stamp);
    // A miss re-reads even an unchanged-looking file (a same-size rewrite within the mtime
    // granularity), but no more often than missReloadIntervalMs.
    if (unchanged && (!miss || now - this.#lastRead < this.#missInterval)) return;
    if (stamp === undefined) {
      this.#failed(new Error(`${this.#path} does not exist`));
      return;
    }
    this.#lastRead = now;
    let entries: KeytabEntry[];
    try {
      entries = await this.#read(this.name);
    } catch (err) {
      this.#failed(err);
      return;
    }
    const before = describeKvnos(this.#entries ?? []);
    const initial = this.#entries === undefined;
    this.#entries = Object.freeze(entries);
    this.#stamp = stamp;
    this.#loadedAt = now;
    this.#lastError = undefined;
    const after = describeKvnos(entries);
    if (!initial && before.join('\n') !== after.join('\n')) {
      this.#reloads++;
      this.#emit.emit('acceptor.keytab_reloaded', `keytab ${this.name} was re-read: ${after.join('; ')}`, {
        keytab: this.name, entries: entries.length, kvnos: after, previous: before,
      }, 'info');
    }
  }

  #failed(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.#lastError = error;
    const kept = this.#entries !== undefined;
    this.#emit.emit('acceptor.keytab_reload_failed',
      `keytab ${this.name} could not be read (${error.message}); ${kept ? 'still using the previous copy' : 'no keys are available'}`,
      { keytab: this.name, error: error.message, keptPreviousCopy: kept, entries: this.#entries?.length ?? 0 },
      kept ? 'warning' : 'error');
  }
}

/** A watched FILE keytab (see KeytabKeys). */
export function keytabKeys(name: string, options: KeytabKeysOptions = {}): KeytabKeys {
  return new KeytabKeys(name, options);
}

/** 'HTTP/web@EXAMPLE.TEST: 12, 13' for every principal, sorted. */
function describeKvnos(entries: readonly KeytabEntry[]): string[] {
  const byPrincipal = new Map<string, Set<number>>();
  for (const e of entries) {
    const name = principalToString(e.principal);
    let set = byPrincipal.get(name);
    if (set === undefined) byPrincipal.set(name, set = new Set());
    set.add(e.kvno);
  }
  return [...byPrincipal].sort(([a], [b]) => a.localeCompare(b))
    .map(([name, kvnos]) => `${name}: ${[...kvnos].sort((x, y) => x - y).join(', ')}`);
}

// ---------------------------------------------------------------- lookup

export interface TicketKeyQuery {
  /** The ticket's server principal (sname + realm). */
  readonly server: Principal;
  /** enc-part kvno; absent in some tickets. */
  readonly kvno?: number;
  readonly enctype: number;
}

export interface KeyLookupOptions {
  /**
   * Principals this acceptor answers for; empty means any principal in the
   * keytab (MIT's GSS_C_NO_NAME acceptor), including aliases: when the
   * ticket's principal is not in the keytab, every key of the ticket's
   * enctype and kvno is tried.
   */
  readonly principals: readonly Principal[];
  /** Accept rc4-hmac tickets (default false). */
  readonly allowWeak?: boolean;
  readonly description: string;
}

export type KeyLookup =
  /** `unmatched`: the candidates are other principals' keys (alias scan); the error to report if none decrypts. */
  | { readonly ok: true; readonly candidates: readonly KeytabEntry[]; readonly unmatched?: AcceptorKeyError }
  | { readonly ok: false; readonly error: AcceptorKeyError };

function kvnoMatches(entryKvno: number, ticketKvno: number | undefined): boolean {
  if (ticketKvno === undefined) return true;
  // Old keytabs store kvno modulo 256.
  return entryKvno === ticketKvno || (entryKvno < 256 && ticketKvno > 255 && (ticketKvno & 0xff) === entryKvno);
}

/** Keys to try for a ticket, best first, or the reason there are none. */
export function findTicketKeys(entries: readonly KeytabEntry[], q: TicketKeyQuery, o: KeyLookupOptions): KeyLookup {
  const tsname = principalToString(q.server);
  const kvnoText = q.kvno === undefined ? 'no kvno' : `kvno ${q.kvno}`;
  const fail = (message: string, problem: AcceptorKeyError['problem'], krbCode: number, hint: string, detail: Record<string, unknown> = {}): KeyLookup => ({
    ok: false,
    error: new AcceptorKeyError(message, {
      krbCode, problem, hint,
      detail: { server: tsname, ...(q.kvno === undefined ? {} : { ticketKvno: q.kvno }), enctype: q.enctype, problem, ...detail },
    }),
  });

  if (!(o.allowWeak ?? false) && isWeak(q.enctype)) {
    return fail(`the ticket for ${tsname} is encrypted with ${enctypeName(q.enctype)}, which this acceptor does not accept`,
      'weak-enctype', ErrorCode.KDC_ERR_ETYPE_NOSUPP,
      'give the service principal AES keys (and remove rc4-hmac), or allow weak enctypes for legacy Active Directory interop');
  }
  if (o.principals.length > 0 && !o.principals.some((p) => principalEquals(p, q.server))) {
    return fail(`the ticket is for ${tsname} (${kvnoText}), but this acceptor serves ${o.principals.map(principalToString).join(', ')}`,
      'wrong-principal', ErrorCode.KRB_AP_ERR_NOT_US,
      'the client asked for another service name (SPN): check the host name the client used, or configure the acceptor for that principal');
  }
  const byPrincipal = entries.filter((e) => principalEquals(e.principal, q.server));
  if (byPrincipal.length === 0) {
    const held = [...new Set(entries.map((e) => principalToString(e.principal)))];
    const miss = fail(`the ticket is for ${tsname} (${kvnoText}), but ${o.description} holds ${held.length === 0 ? 'no keys' : `keys for ${held.join(', ')}`}`,
      'wrong-principal', ErrorCode.KRB_AP_ERR_NOT_US,
      `the client asked for a service name this server has no key for: check the name (SPN) the client uses, or add ${tsname}'s keys to the keytab`,
      { keytabPrincipals: held });
    if (o.principals.length === 0 && !miss.ok) {
      // Scan all keys: the ticket may name an alias of a principal in the keytab.
      const aliases = entries.filter((e) => e.enctype === q.enctype && kvnoMatches(e.kvno, q.kvno));
      if (aliases.length > 0) return { ok: true, candidates: aliases, unmatched: miss.error };
    }
    return miss;
  }
  const byKvno = byPrincipal.filter((e) => kvnoMatches(e.kvno, q.kvno));
  if (byKvno.length === 0) {
    const kvnos = [...new Set(byPrincipal.map((e) => e.kvno))].sort((a, b) => a - b);
    const ticketOld = kvnos.some((k) => k > (q.kvno ?? 0));
    const held = kvnos.join(', ');
    return ticketOld
      ? fail(`ticket kvno ${q.kvno} not in keytab (which holds ${held}) for ${tsname}: the ticket is likely out of date`,
        'ticket-out-of-date', ErrorCode.KRB_AP_ERR_BADKEYVER,
        `${tsname}'s key was changed (kvno ${kvnos[kvnos.length - 1]}) after the client got its ticket, and the keytab no longer holds kvno ${q.kvno}: the client needs a new service ticket (kdestroy and kinit again, or wait for the ticket to expire); keep old kvnos in the keytab until such tickets expire`,
        { keytabKvnos: kvnos.map(String), outOfDate: 'ticket' })
      : fail(`ticket kvno ${q.kvno} not in keytab (which holds ${held}) for ${tsname}: the keytab is likely out of date`,
        'keytab-out-of-date', ErrorCode.KRB_AP_ERR_BADKEYVER,
        `${tsname}'s key was changed in the KDC (kvno ${q.kvno}) but this keytab was not updated: export a new keytab and install it`,
        { keytabKvnos: kvnos.map(String), outOfDate: 'keytab' });
  }
  const byEnctype = byKvno.filter((e) => e.enctype === q.enctype);
  if (byEnctype.length === 0) {
    const have = [...new Set(byKvno.map((e) => enctypeName(e.enctype)))].join(', ');
    return fail(`the keytab holds ${tsname} ${kvnoText} but not with enctype ${enctypeName(q.enctype)} (only ${have})`,
      'enctype-missing', ErrorCode.KRB_AP_ERR_BADKEYVER,
      'the KDC encrypted the ticket with an enctype the keytab has no key for: export the keytab with all the principal\'s enctypes');
  }
  // Without a ticket kvno, newest first.
  return { ok: true, candidates: [...byEnctype].sort((a, b) => b.kvno - a.kvno) };
}

function isWeak(enctype: number): boolean {
  try {
    getEnctype(enctype);
    return false;
  } catch (err) {
    // Unknown enctypes fail later, when no key decrypts the ticket.
    return err instanceof WeakEnctypeError;
  }
}
