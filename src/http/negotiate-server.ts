/**
 * The HTTP Negotiate server (RFC 4559 §4–§5), framework-free: a request's
 * method, headers and connection identity in; either the authenticated
 * identity (plus headers for the 2xx: the final mutual-authentication token
 * and an optional session cookie) or the 401 to send, out.
 *
 * Every refusal is logged with its cause through the events module
 * (`http.auth_refused`, field `cause`); the response body says what the
 * user can do without naming keytab contents or principals.
 */

import { systemClock, type Clock } from '../core/clock.js';
import { systemRandom, type RandomSource } from '../core/random.js';
import { createEmitter, nullSink, type EventSink, type EventSeverity } from '../events/index.js';
import {
  AcceptorKeyError, AuthenticatorReplayError, ReplayCacheFullGssError, BadBindingsError, BadMechError, BadMicError, ClockSkewError,
  ContextExpiredError, CredentialsExpiredError, DefectiveTokenError, GssError, keytabKeys, NtlmNotEnabledError,
  TicketIntegrityError, type AcceptorKeySource, type AcceptorReplayCache, type ChannelBindingPolicy, type ChannelBindings,
} from '../gss/index.js';
import { kerberosAcceptor, type AcceptorStats, type NegotiateAcceptor, type NegotiateIdentity } from './acceptor.js';
import { SessionCookies, type SessionCookieOptions } from './session-cookie.js';

/** `req.auth`: who the request is from. */
export interface NegotiateAuth extends NegotiateIdentity {
  /** 'negotiate' for a handshake on this request, 'cookie' for a session cookie. */
  readonly via: 'negotiate' | 'cookie';
}

export type HeaderValue = string | readonly string[] | undefined;

export interface NegotiateRequest {
  readonly method: string;
  /** Lower-case header names (node:http's IncomingMessage.headers). */
  readonly headers: Readonly<Record<string, HeaderValue>>;
  /** Identity of the connection (the socket): handshake state is bound to it, never shared. */
  readonly connection: object;
  /** Request path, for logs (query strings are not logged). */
  readonly url?: string;
  /** The connection is TLS (the session cookie gets Secure). */
  readonly secure?: boolean;
  /** Channel bindings of this connection (tlsServerEndPoint(cert) on TLS). */
  readonly channelBindings?: ChannelBindings;
  /** Peer address, for logs. */
  readonly remoteAddress?: string;
}

export type NegotiateOutcome =
  | {
    readonly authenticated: true;
    readonly auth: NegotiateAuth;
    /** Headers to add to the application's response (WWW-Authenticate with the final token, Set-Cookie). */
    readonly headers: readonly (readonly [string, string])[];
  }
  | {
    readonly authenticated: false;
    readonly status: number;
    readonly headers: readonly (readonly [string, string])[];
    /** Plain text for the user. */
    readonly body: string;
    readonly cause: RefusalCause;
  };

/** Why a request was not authenticated (the `cause` field of `http.auth_refused`). */
export type RefusalCause =
  | 'no-header' | 'bad-token' | 'replay' | 'replay-cache-full' | 'skew' | 'kvno-miss' | 'wrong-principal' | 'enctype' | 'ticket-integrity'
  | 'ticket-expired' | 'channel-bindings' | 'ntlm-not-enabled' | 'unsupported-mechanism' | 'keytab-unavailable'
  | 'handshake-incomplete' | 'kerberos-failure' | 'internal-error';

export interface NegotiateServerOptions {
  /** The service keytab ('FILE:/etc/http.keytab' or a path), watched and re-read on change; or any key source. */
  readonly keytab?: string | AcceptorKeySource;
  /** A ready acceptor instead of `keytab` (tests, other mechanisms). */
  readonly acceptor?: NegotiateAcceptor;
  /** Service principal(s) to answer for ('HTTP/web.example.test@EXAMPLE.TEST'); default any in the keytab. */
  readonly principal?: string | readonly string[];
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly events?: EventSink;
  readonly clockSkewMs?: number;
  readonly channelBindingPolicy?: ChannelBindingPolicy;
  /** Extra challenges after `Negotiate` in the 401 (e.g. 'Basic realm="x"' handled elsewhere). */
  readonly providers?: readonly string[];
  /** Issue and accept a session cookie (default off). */
  readonly sessionCookie?: SessionCookieOptions | boolean;
  /**
   * The authenticator replay cache. Default: in memory (lost on restart).
   * A server with a data directory should persist it, so a token accepted
   * before a restart is refused after it:
   * `replayCache: await openSqliteReplayCache({ path: '/var/lib/app/replay.sqlite', clockSkewSeconds: 300, maxEntries: 100_000 })`.
   */
  readonly replayCache?: AcceptorReplayCache;
  /** Replay cache bound (entries) of the in-memory default, per-connection handshake table bounds. */
  readonly maxReplayEntries?: number;
  readonly maxPendingContexts?: number;
  readonly pendingTtlMs?: number;
  /** Keytab stat interval (default 5 s of the clock). */
  readonly keytabCheckIntervalMs?: number;
}

export interface NegotiateServer {
  authenticate(request: NegotiateRequest): Promise<NegotiateOutcome>;
  /** Call when a connection closes: its handshake state is dropped. */
  connectionClosed(connection: object): void;
  stats(): AcceptorStats;
}

const USER_TEXT: Readonly<Record<RefusalCause, string>> = Object.freeze({
  'no-header': 'Kerberos (Negotiate) authentication is required. Sign in to the domain (kinit) and use a browser or client configured for Negotiate.',
  'bad-token': 'The Negotiate token sent by the client is malformed.',
  replay: 'The Kerberos authenticator was already used (replay). Retry the request; the client must create a new one.',
  'replay-cache-full': 'The server is too busy to check Kerberos authentication right now. Retry in a minute.',
  skew: 'Your computer\'s clock differs too much from the server\'s. Correct the time (NTP) and retry.',
  'kvno-miss': 'Your Kerberos ticket for this service was issued for a key the server no longer has (or does not have yet). Get a new ticket (kdestroy, then kinit) and retry; if it persists, tell the administrator.',
  'wrong-principal': 'Your Kerberos ticket is for a different service name than this server. Check the host name in the address you used.',
  enctype: 'Your Kerberos ticket uses an encryption type this server does not accept. Tell the administrator.',
  'ticket-integrity': 'The server could not decrypt your Kerberos ticket: its key does not match the KDC\'s. Tell the administrator.',
  'ticket-expired': 'Your Kerberos ticket has expired or is not valid yet. Get a new ticket (kinit) and retry.',
  'channel-bindings': 'Kerberos authentication is not bound to this TLS connection (Extended Protection). A proxy may be intercepting TLS.',
  'ntlm-not-enabled': 'Your client offered NTLM, which this server does not accept: it could not get a Kerberos ticket. Sign in to the domain (kinit) and use the server\'s host name.',
  'unsupported-mechanism': 'Your client offered no authentication mechanism this server accepts (Kerberos is required).',
  'keytab-unavailable': 'The server cannot use its Kerberos keys right now. Tell the administrator.',
  'handshake-incomplete': 'The Negotiate handshake could not be continued on this connection. Retry.',
  'kerberos-failure': 'Kerberos authentication failed.',
  'internal-error': 'The server failed while checking your Kerberos authentication.',
});

/** Creates the core handler. */
export function negotiateServer(options: NegotiateServerOptions): NegotiateServer {
  const clock = options.clock ?? systemClock();
  const random = options.random ?? systemRandom();
  const sink = options.events ?? nullSink();
  const emit = createEmitter(sink, clock);
  const acceptor = options.acceptor ?? makeAcceptor(options, clock, random, sink);
  const cookies = options.sessionCookie === undefined || options.sessionCookie === false
    ? undefined
    : new SessionCookies(options.sessionCookie === true ? {} : options.sessionCookie, clock, random);
  const challenge = ['Negotiate', ...(options.providers ?? [])].join(', ');

  function refuse(req: NegotiateRequest, cause: RefusalCause, message: string, fields: Record<string, string | number | null | readonly string[]> = {}, severity: EventSeverity = 'warning', status = 401, token?: Uint8Array): NegotiateOutcome {
    emit.emit('http.auth_refused', message, {
      cause, method: req.method, path: pathOf(req.url), remoteAddress: req.remoteAddress, ...fields,
    }, severity);
    // A failed handshake answers with the mechanism's reject token (it names only the error code).
    const headers: [string, string][] = status !== 401 ? []
      : [['WWW-Authenticate', token === undefined ? challenge : `Negotiate ${Buffer.from(token).toString('base64')}`]];
    return { authenticated: false, status, headers, body: `${USER_TEXT[cause]}\n`, cause };
  }

  return {
    async authenticate(req) {
      const authz = single(req.headers['authorization']);
      const token = authz === undefined ? undefined : negotiateToken(authz);
      if (token === undefined && cookies !== undefined) {
        const check = cookies.read(single(req.headers['cookie']));
        if (check?.ok === true) {
          const { expiresAt: _expires, ...identity } = check.identity;
          return { authenticated: true, auth: { ...identity, via: 'cookie' }, headers: [] };
        }
        if (check !== undefined) {
          emit.emit('http.session_cookie_rejected', `a session cookie was rejected (${check.reason}); asking for Negotiate`, {
            reason: check.reason, path: pathOf(req.url), remoteAddress: req.remoteAddress,
          }, check.reason === 'expired' ? 'info' : 'warning');
        }
      }
      if (token === undefined) {
        if (authz !== undefined && /^ntlm\s/i.test(authz)) {
          return refuse(req, 'ntlm-not-enabled', 'the client sent NTLM (Authorization: NTLM), which is not enabled', {}, 'warning');
        }
        return refuse(req, 'no-header', authz === undefined
          ? 'no Authorization header: sent the Negotiate challenge'
          : `the Authorization header uses another scheme (${authz.split(/\s/)[0] ?? ''}): sent the Negotiate challenge`, {}, 'debug');
      }
      let bytes: Uint8Array;
      try {
        bytes = decodeBase64Token(token);
      } catch {
        return refuse(req, 'bad-token', 'the Negotiate token is not valid base64', {}, 'warning', 400);
      }
      let step;
      try {
        step = await acceptor.accept(bytes, {
          connectionId: req.connection,
          ...(req.channelBindings === undefined ? {} : { channelBindings: req.channelBindings }),
        });
      } catch (err) {
        const c = classify(err);
        return refuse(req, c.cause, c.message, c.fields, c.severity, c.status, err instanceof GssError ? err.output : undefined);
      }
      const tokenHeader: [string, string][] = step.outputToken === undefined
        ? [] : [['WWW-Authenticate', `Negotiate ${Buffer.from(step.outputToken).toString('base64')}`]];
      if (!step.complete || step.identity === undefined) {
        // Another leg: 401 with the continuation token, on this same connection (RFC 4559 §5).
        return { authenticated: false, status: 401, headers: tokenHeader, body: `${USER_TEXT['handshake-incomplete']}\n`, cause: 'handshake-incomplete' };
      }
      const identity = step.identity;
      emit.emit('http.auth_succeeded', `${identity.principal} authenticated to ${identity.service} with ${identity.mechanism}`, {
        client: identity.principal, service: identity.service, mechanism: identity.mechanism,
        ticketEndTime: identity.ticketEndTime.toISOString(), delegated: identity.delegated !== undefined,
        path: pathOf(req.url), remoteAddress: req.remoteAddress,
      }, 'info');
      const headers = [...tokenHeader];
      const cookie = cookies?.issue(identity, req.secure === true);
      if (cookie !== undefined) headers.push(['Set-Cookie', cookie]);
      return { authenticated: true, auth: { ...identity, via: 'negotiate' }, headers };
    },
    connectionClosed(connection) {
      acceptor.connectionClosed(connection);
    },
    stats() {
      return acceptor.stats();
    },
  };
}

function makeAcceptor(o: NegotiateServerOptions, clock: Clock, random: RandomSource, events: EventSink): NegotiateAcceptor {
  if (o.keytab === undefined) throw new TypeError('negotiateServer needs a keytab (or an acceptor)');
  const keys = typeof o.keytab === 'string'
    ? keytabKeys(o.keytab.includes(':') ? o.keytab : `FILE:${o.keytab}`, {
      clock, events, ...(o.keytabCheckIntervalMs === undefined ? {} : { checkIntervalMs: o.keytabCheckIntervalMs }),
    })
    : o.keytab;
  return kerberosAcceptor({
    keys, clock, random, events,
    ...(o.principal === undefined ? {} : { principal: o.principal }),
    ...(o.clockSkewMs === undefined ? {} : { clockSkewMs: o.clockSkewMs }),
    ...(o.channelBindingPolicy === undefined ? {} : { channelBindingPolicy: o.channelBindingPolicy }),
    ...(o.maxReplayEntries === undefined ? {} : { maxReplayEntries: o.maxReplayEntries }),
    ...(o.replayCache === undefined ? {} : { replayCache: o.replayCache }),
    ...(o.maxPendingContexts === undefined ? {} : { maxPendingContexts: o.maxPendingContexts }),
    ...(o.pendingTtlMs === undefined ? {} : { pendingTtlMs: o.pendingTtlMs }),
  });
}

interface Classified {
  readonly cause: RefusalCause;
  readonly message: string;
  readonly fields: Record<string, string | number | null | readonly string[]>;
  readonly severity: EventSeverity;
  readonly status: number;
}

/** Maps an acceptor failure to its cause; the message and fields go to the log only. */
function classify(err: unknown): Classified {
  if (!(err instanceof GssError)) {
    return { cause: 'internal-error', message: `the Negotiate acceptor failed: ${err instanceof Error ? err.message : String(err)}`, fields: {}, severity: 'error', status: 500 };
  }
  const d = err.detail;
  const fields: Record<string, string | number | null | readonly string[]> = {
    gssMajor: err.major, krbCode: err.krbCode ?? null,
    ...(typeof d['client'] === 'string' ? { client: d['client'] } : {}),
    ...(typeof d['server'] === 'string' ? { server: d['server'] } : {}),
  };
  const base = { message: err.message, severity: 'warning' as EventSeverity, status: 401 };
  if (err instanceof NtlmNotEnabledError) return { ...base, cause: 'ntlm-not-enabled', fields };
  if (err instanceof AuthenticatorReplayError) return { ...base, cause: 'replay', fields };
  if (err instanceof ReplayCacheFullGssError) return { ...base, cause: 'replay-cache-full', fields, severity: 'error', status: 503 };
  if (err instanceof ClockSkewError) {
    return { ...base, cause: 'skew', fields: { ...fields, ...(typeof d['skewMs'] === 'number' ? { skewSeconds: Math.round(d['skewMs'] / 1000) } : {}) } };
  }
  if (err instanceof AcceptorKeyError) {
    const keyFields = {
      ...fields, problem: err.problem,
      ...(typeof d['ticketKvno'] === 'number' ? { ticketKvno: d['ticketKvno'] } : {}),
      ...(Array.isArray(d['keytabKvnos']) ? { keytabKvnos: (d['keytabKvnos'] as unknown[]).map(String) } : {}),
      ...(typeof d['outOfDate'] === 'string' ? { outOfDate: d['outOfDate'] } : {}),
    };
    switch (err.problem) {
      case 'ticket-out-of-date':
      case 'keytab-out-of-date':
        return { ...base, cause: 'kvno-miss', fields: keyFields };
      case 'wrong-principal':
        return { ...base, cause: 'wrong-principal', fields: keyFields };
      case 'enctype-missing':
      case 'weak-enctype':
        return { ...base, cause: 'enctype', fields: keyFields };
      case 'keytab-unavailable':
        return { ...base, cause: 'keytab-unavailable', fields: keyFields, severity: 'error', status: 503 };
    }
  }
  if (err instanceof TicketIntegrityError) return { ...base, cause: 'ticket-integrity', fields, severity: 'error' };
  if (err instanceof ContextExpiredError) return { ...base, cause: 'handshake-incomplete', fields, severity: 'info' };
  if (err instanceof CredentialsExpiredError) return { ...base, cause: 'ticket-expired', fields, severity: 'info' };
  if (err instanceof BadBindingsError) return { ...base, cause: 'channel-bindings', fields };
  if (err instanceof BadMechError) return { ...base, cause: 'unsupported-mechanism', fields };
  if (err instanceof DefectiveTokenError || err instanceof BadMicError) return { ...base, cause: 'bad-token', fields };
  return { ...base, cause: 'kerberos-failure', fields };
}

function single(v: HeaderValue): string | undefined {
  return typeof v === 'string' ? v : v?.[0];
}

/** The base64 token of `Negotiate <token>`, or undefined for another scheme or a bare `Negotiate`. */
function negotiateToken(header: string): string | undefined {
  const m = /^negotiate\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

function decodeBase64Token(token: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token) || token.length % 4 !== 0) throw new Error('not base64');
  return new Uint8Array(Buffer.from(token, 'base64'));
}

function pathOf(url: string | undefined): string | null {
  if (url === undefined) return null;
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
