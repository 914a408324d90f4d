/**
 * Serving an open realm directory: the SQLite store behind a PrincipalCache
 * (so principals changed by `kerbside principal …` in another process are
 * seen within one poll interval, without a restart), the store's lockout
 * table (failures kept off the principal records), the realm policy from
 * kdc.conf with its lockout settings (docs/lockout.md), keys unwrapped with the master key,
 * the TGS replay cache in the realm database (so it survives a restart),
 * one log line per request, rate-limited per cause and source for refusals
 * and garbage (docs/events.md), and the persistent event log
 * `<realm>/events.sqlite` (4768/4769/4771/4740 audits; docs/events.md "The
 * event log"). Shared by `kerbside kdc` and `kerbside start`.
 */

import {
  DEFAULT_PREAUTH, createKdc, pkinitMechanism, preauthRegistry, resolveRealmPolicy, serveKdc, type BoundAddress, type Kdc, type KdcServer, type ListenAddress, type TransportLimitKind,
} from '../kdc/index.js';
import {
  EVENT_LOG_FILE, createEmitter, eventLogShape, eventLogSink, fanout, isolateSink, jsonLinesSink, rateLimitSink, redactEvent,
  type EventSink, type KerbsideEvent, type RateLimitGroup,
} from '../events/index.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { PrincipalCache, openSqliteEventLog, openSqliteReplayCache, type SqliteEventLog } from '../store/index.js';
import { ntlmPassThroughServer, serveNtlmPassThrough } from '../gss/index.js';
import { KdcListenError } from './errors.js';
import type { CliIO } from './io.js';
import { DEFAULT_EVENT_LOG_SETTINGS, formatListenAddress, realmPolicy, transportOptions } from './kdc-conf.js';
import type { OpenRealm } from './realm-dir.js';
import { kdcPkinitOptions } from './realm-ca.js';

export type LogFormat = 'text' | 'json';

export interface KdcRunOptions {
  readonly listen: readonly ListenAddress[];
  readonly logFormat?: LogFormat;
  /** Also log debug events (lookaside hits, dropped datagrams). */
  readonly verbose?: boolean;
  /** How often the cache polls the store's change log (ms, default 1000). */
  readonly pollIntervalMs?: number;
  /**
   * Where to answer NTLM pass-through requests (docs/ntlm.md "Validation"); default kdc.conf's
   * ntlm_listen. Needs ntlm = true in kdc.conf.
   */
  readonly ntlmListen?: readonly ListenAddress[];
}

export interface RunningKdc {
  readonly kdc: Kdc;
  readonly server: KdcServer;
  readonly addresses: readonly BoundAddress[];
  /** The NTLM pass-through listeners (none unless NTLM is enabled and given an address). */
  readonly ntlmAddresses: readonly BoundAddress[];
  /** Stops listening, finishes pending writes and closes the realm's store. */
  stop(): Promise<void>;
}

function field(event: KerbsideEvent, name: string): string | undefined {
  const v = event.fields[name];
  return v === undefined || v === null ? undefined : Array.isArray(v) ? v.join(',') : String(v);
}

/**
 * One line per request: `TIME AS client=… service=… result=… enctype=…
 * from=ADDR/udp reason="…" dropped_authdata=128,4`; other events as `TIME severity type: message`.
 * Never secrets: events pass the redaction guard first.
 */
export function formatLogLine(event: KerbsideEvent): string {
  const e = redactEvent(event);
  const time = new Date(e.time).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (e.type !== 'kdc.request' || field(e, 'client') === undefined && field(e, 'service') === undefined) {
    return `${time} ${e.severity} ${e.type}: ${e.message}`;
  }
  const parts = [
    `${time} ${field(e, 'exchange') ?? 'KDC'}`,
    `client=${field(e, 'client') ?? '-'}`,
    `service=${field(e, 'service') ?? '-'}`,
    `result=${field(e, 'result') ?? '-'}`,
  ];
  const enctype = field(e, 'sessionEnctype');
  if (enctype !== undefined) parts.push(`enctype=${enctype}`);
  const address = field(e, 'address');
  if (address !== undefined) parts.push(`from=${address}/${field(e, 'transport') ?? '?'}`);
  // A refusal's reason, except for the routine first round of pre-authentication.
  const reason = field(e, 'reason');
  const result = field(e, 'result');
  if (reason !== undefined && result !== 'issued' && result !== 'KDC_ERR_PREAUTH_REQUIRED') parts.push(`reason="${reason}"`);
  // ad-types a client tried to get into its ticket that only a KDC may issue (kdc/authdata.ts).
  const dropped = field(e, 'droppedAuthorizationData');
  if (dropped !== undefined && dropped !== '') parts.push(`dropped_authdata=${dropped}`);
  return parts.join(' ');
}

/** Summary wording for each transport limit (kdc/transport.ts TransportLimitKind; docs/kdc-transport.md). */
const TRANSPORT_LIMITS: Readonly<Record<TransportLimitKind, string>> = Object.freeze({
  tcp_per_address: 'TCP connections refused by the per-address limit',
  tcp_connections: 'TCP connections refused because every connection was busy',
  tcp_evicted: 'idle TCP connections closed to admit new ones',
  tcp_request_timeout: 'TCP connections closed for not sending a whole request in time',
  tcp_idle_timeout: 'idle TCP connections closed',
  tcp_write_timeout: 'TCP connections closed for not reading their replies',
  udp_in_flight: 'UDP datagrams dropped because too many requests were in progress',
});

/**
 * How the KDC's log groups events for rate limiting: by cause and source
 * address. Issued tickets, the routine PREAUTH_REQUIRED round (info lines: one
 * per legitimate request, as MIT logs them), lockouts and configuration
 * warnings are never limited; refusals, garbage and transport limits are.
 */
export function kdcLogGroup(event: KerbsideEvent): RateLimitGroup | undefined {
  if (event.type === 'kdc.lockout' || event.type === 'kdc.config' || event.type.startsWith('events.')) return undefined;
  if (event.severity === 'info') return undefined;
  const address = event.fields['address'];
  const source = typeof address === 'string' ? address : 'the KDC itself';
  if (event.type === 'kdc.preauth_failed') return { cause: 'preauth_failed', source, what: 'pre-authentication failures' };
  if (event.type === 'kdc.store_poll_failed') return { cause: 'store_poll_failed', source: 'the principal database', what: 'failed database polls' };
  if (event.type !== 'kdc.request') return { cause: event.type, source, what: `"${event.type}" events` };
  const result = String(event.fields['result'] ?? 'unknown');
  const reason = String(event.fields['reason'] ?? '');
  if (result === 'dropped') {
    if (Object.hasOwn(TRANSPORT_LIMITS, reason)) return { cause: reason, source, what: TRANSPORT_LIMITS[reason as TransportLimitKind] };
    if (reason.startsWith('malformed')) return { cause: 'malformed', source, what: 'malformed requests' };
    return { cause: 'not_a_kdc_request', source, what: 'messages that are not KDC requests' };
  }
  if (result === 'lookaside') return { cause: 'lookaside', source, what: 'retransmissions answered from the lookaside cache' };
  return { cause: result, source, what: `requests refused with ${result}` };
}

export interface KdcLogSink extends EventSink {
  /** Writes the rate limiter's pending summaries and any unreported sink failure (at shutdown). */
  flush(): void;
}

/**
 * Writes events as text lines or JSON lines; debug events only when verbose.
 * Refusals and garbage are rate-limited per cause and source (kdcLogGroup),
 * and a failing writer (stderr closed, disk full) is isolated: requests are
 * answered whatever happens to the log.
 */
export function logSink(write: (line: string) => void, format: LogFormat, verbose: boolean, clock: Clock): KdcLogSink {
  const json = jsonLinesSink(write);
  const writer = isolateSink({
    emit(event) {
      if (format === 'json') json.emit(event);
      // The request's own line already says KDC_ERR_PREAUTH_FAILED; JSON keeps the audit event.
      else if (event.type !== 'kdc.preauth_failed') write(`${formatLogLine(event)}\n`);
    },
  }, { clock });
  const limited = rateLimitSink(writer, { clock, classify: kdcLogGroup });
  return {
    emit(event) {
      if (event.severity === 'debug' && !verbose) return;
      limited.emit(event);
    },
    flush() {
      limited.flush();
      writer.flush();
    },
  };
}

/**
 * The realm's persistent event log (`<realm dir>/events.sqlite`, docs/events.md
 * "The event log"), with kdc.conf's retention. Audits (4768, 4769, 4771, 4740)
 * are recorded one by one; refusals and garbage without an audit id are
 * rate-limited as in the text log, so a flood cannot fill it faster than
 * retention empties it.
 */
export interface KdcEventLog extends EventSink {
  readonly store: SqliteEventLog;
  /** Writes what is queued and closes the log. */
  close(): Promise<void>;
}

export async function openKdcEventLog(realm: OpenRealm, clock: Clock): Promise<KdcEventLog | undefined> {
  const settings = realm.settings.eventLog ?? DEFAULT_EVENT_LOG_SETTINGS;
  if (!settings.enabled) return undefined;
  const store = await openSqliteEventLog({ path: join(realm.settings.dir, EVENT_LOG_FILE) });
  const sink = eventLogSink(store, {
    clock, computer: hostname(), retention: { maxAgeMs: settings.maxAge * 1000, maxBytes: settings.maxSize },
  });
  const limited = rateLimitSink(sink, {
    clock, classify: (e) => (eventLogShape(e)?.level.startsWith('audit_') === true ? undefined : kdcLogGroup(e)),
  });
  return {
    store,
    emit(event) { limited.emit(event); },
    async close() {
      limited.flush();
      await sink.flush();
      await store.close();
    },
  };
}

export async function startRealmKdc(realm: OpenRealm, io: CliIO, options: KdcRunOptions): Promise<RunningKdc> {
  // PKINIT when kdc.conf names a pkinit_identity (kerbside ca init writes it; docs/pkinit.md). Its files are
  // read before anything is opened, so a missing one leaves nothing to close.
  const pkinit = realm.settings.pkinit === undefined ? undefined : await kdcPkinitOptions(realm.settings.pkinit, io.random);
  const ntlmListen = options.ntlmListen ?? realm.settings.ntlm.listen;
  if (ntlmListen.length > 0 && !realm.settings.ntlm.enabled) {
    throw new KdcListenError(`NTLM pass-through needs NTLM enabled for realm ${realm.settings.realm}`, {
      hint: `add ntlm = true to the [realms] ${realm.settings.realm} section of kdc.conf (docs/ntlm.md)`,
    });
  }
  const text = logSink((line) => io.err(line), options.logFormat ?? 'text', options.verbose ?? false, io.clock);
  const eventLog = await openKdcEventLog(realm, io.clock);
  const events: KdcLogSink = eventLog === undefined ? text : { emit: fanout(text, eventLog).emit, flush: () => text.flush() };
  // The runner's own events, through the catalogue and the same sink isolation as the KDC's.
  const log = createEmitter(events, io.clock);
  const closeEventLog = async (): Promise<void> => { await eventLog?.close(); };
  const policy = realmPolicy(realm.settings);
  const resolved = resolveRealmPolicy(policy);
  const replayCache = await openSqliteReplayCache({
    path: realm.store.path, clockSkewSeconds: resolved.clockSkew, maxEntries: resolved.replayCacheEntries,
  }).catch(async (err: unknown) => {
    await closeEventLog();
    throw err;
  });
  const cache = await PrincipalCache.open(realm.store, {
    clock: io.clock,
    pollIntervalMs: options.pollIntervalMs ?? 1000,
    onError: (err) => log.emit('kdc.store_poll_failed',
      `reading the principal database's change log failed (serving cached principals): ${err instanceof Error ? err.message : String(err)}`),
  }).catch(async (err: unknown) => {
    replayCache.close();
    await closeEventLog();
    throw err;
  });
  if (policy.lockout?.maxFailures === 0) {
    log.emit('kdc.config',
      `account lockout is off: kdc.conf sets no maxfailure for realm ${realm.settings.realm}, so passwords can be guessed without limit (see docs/lockout.md)`,
      { realm: realm.settings.realm });
  }
  if (pkinit !== undefined) {
    const p = realm.settings.pkinit!;
    log.emit('kdc.config',
      `PKINIT on: KDC certificate ${p.certificate}, ${pkinit.anchors.length} trust anchor(s), ${pkinit.crls?.length ?? 0} CRL(s), DH from ${p.dhMinBits} bits${p.requireFreshness ? ', freshness tokens required' : ''} (docs/pkinit.md)`,
      { realm: realm.settings.realm, pkinit: true }, 'info');
  }
  const kdc = createKdc({
    ...(pkinit === undefined ? {} : { preauth: preauthRegistry([...DEFAULT_PREAUTH.mechanisms, pkinitMechanism(pkinit)]) }),
    realm: realm.settings.realm,
    replayCache,
    store: cache,
    lockout: realm.store.lockout,
    clock: io.clock,
    random: io.random,
    events,
    policy,
    keys: realm.keys,
  });
  let server: KdcServer;
  try {
    server = await serveKdc(kdc, { listen: options.listen, clock: io.clock, ...transportOptions(realm.settings.transport) });
  } catch (err) {
    cache.stop();
    replayCache.close();
    await closeEventLog();
    throw listenError(err, options.listen);
  }
  let ntlmServer: KdcServer | undefined;
  if (ntlmListen.length > 0) {
    // The KDC's replay cache (persistent) also remembers pass-through nonces, under their own client name.
    const passThrough = ntlmPassThroughServer({
      realm: realm.settings.realm, principals: cache, keys: realm.keys, clock: io.clock, random: io.random, events,
      replayCache, clockSkewMs: resolved.clockSkew * 1000,
      lockout: { store: realm.store.lockout, policy: resolved.lockout },
    });
    try {
      ntlmServer = await serveNtlmPassThrough(passThrough, { listen: ntlmListen, clock: io.clock, ...transportOptions(realm.settings.transport) });
    } catch (err) {
      await server.close();
      cache.stop();
      replayCache.close();
      await closeEventLog();
      throw listenError(err, ntlmListen);
    }
    log.emit('kdc.config', `NTLM pass-through validation on ${describeAddresses(ntlmServer.addresses)} (docs/ntlm.md "Validation")`,
      { realm: realm.settings.realm, ntlm: true }, 'info');
  }
  let stopped: Promise<void> | undefined;
  return {
    kdc,
    server,
    addresses: server.addresses,
    ntlmAddresses: ntlmServer?.addresses ?? [],
    stop() {
      stopped ??= (async () => {
        await ntlmServer?.close();
        await server.close();
        await kdc.settled();
        events.flush();
        await closeEventLog();
        cache.stop();
        replayCache.close();
        await realm.close();
      })();
      return stopped;
    },
  };
}

/** Turns a socket error from binding into a KdcListenError that names the address and the likely fix. */
function listenError(err: unknown, listen: readonly ListenAddress[]): unknown {
  const e = err as { code?: unknown; address?: unknown; port?: unknown };
  if (typeof e.code !== 'string' || !/^E[A-Z]+$/.test(e.code)) return err;
  const where = typeof e.address === 'string' && typeof e.port === 'number'
    ? formatListenAddress({ host: e.address, port: e.port })
    : listen.map(formatListenAddress).join(' ');
  const hint = e.code === 'EADDRINUSE' ? 'another program (another KDC?) uses that port; stop it or choose another port with --listen'
    : e.code === 'EACCES' ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE; or listen on a high port, e.g. --listen 127.0.0.1:8888'
      : e.code === 'EADDRNOTAVAIL' ? 'that address is not configured on this host' : undefined;
  return new KdcListenError(`the KDC cannot listen on ${where} (${e.code})`, {
    detail: { errno: e.code }, cause: err, ...(hint === undefined ? {} : { hint }),
  });
}

/** 'udp 127.0.0.1:88, tcp 127.0.0.1:88' */
export function describeAddresses(addresses: readonly BoundAddress[]): string {
  return addresses.map((a) => `${a.transport} ${formatListenAddress(a)}`).join(', ');
}

/** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
export function stopRequested(io: CliIO): Promise<void> {
  if (io.stopSignal.aborted) return Promise.resolve();
  return new Promise((resolve) => { io.stopSignal.addEventListener('abort', () => resolve(), { once: true }); });
}
