/**
 * The HTTP Negotiate server (RFC 4559 §4–§5), framework-free: a request's
 * method, headers and connection identity in; either the authenticated
 * identity (plus headers for the 2xx: the final mutual-authentication token
 * and an optional session cookie) or the 401 to send, out.
 *
 * Every refusal is logged with its cause through the events module
 * (`http.auth_refused`, field `cause`); the response body says what the
 * user can do without naming keytab contents or principals.
 *
 * With `ntlm` set, the 401 offers `Negotiate` and `NTLM` as IIS's provider
 * list (MS-NLMP over HTTP: `Authorization: NTLM <b64>`, three legs on one
 * connection), and NTLM is taken inside SPNEGO and as raw NTLMSSP under
 * `Negotiate` too; see docs/ntlm.md "HTTP" for the downgrade rule.
 */

import { systemClock, type Clock } from '../core/clock.js';
import { systemRandom, type RandomSource } from '../core/random.js';
import { createEmitter, stderrSink, type EventSink, type EventSeverity } from '../events/index.js';
import {
  AcceptorKeyError, AuthenticatorReplayError, ReplayCacheFullGssError, BadBindingsError, BadMechError, BadMicError, ClockSkewError,
  ContextExpiredError, CredentialsExpiredError, DefectiveTokenError, GssError, keytabKeys, NtlmAccountRestrictionError, NtlmAcceptor,
  NtlmChannelBindingsError, NtlmFormatError, NtlmIntegrityError, NtlmLogonFailureError, NtlmNegotiationError, NtlmNotEnabledError,
  NtlmReflectionError, NtlmReplayError, NtlmTargetNameError, NtlmTimestampError, NtlmV1RefusedError,
  TicketIntegrityError, type AcceptorKeySource, type AcceptorReplayCache, type ChannelBindingPolicy, type ChannelBindings, type NtlmChallengeRegistry, type NtlmValidator,
} from '../gss/index.js';
import { KerbsideError } from '../core/errors.js';
import { NtlmDowngradeError } from './errors.js';
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
  | 'handshake-incomplete' | 'kerberos-failure' | 'internal-error'
  // NTLM refusals (the event's `mechanism` field is 'ntlm'; 'replay' and 'channel-bindings' are shared with Kerberos).
  | 'bad-password' | 'unknown-user' | 'account-restricted' | 'mic' | 'target-name' | 'timestamp' | 'reflection' | 'ntlm-v1'
  | 'malformed' | 'ntlm-failure'
  // The downgrade rule: NTLM after a failed Kerberos attempt on the same connection.
  | 'downgrade';

/** NTLM beside Kerberos (docs/ntlm.md "HTTP"). */
export interface NtlmServerOptions {
  /** Checks NTLMv2 responses: localNtlmValidator(table), or the pass-through validator that asks the KDC host. */
  readonly validator: NtlmValidator;
  /**
   * The service principal NTLM logons are for ('HTTP/web.example.test@EXAMPLE.TEST'): its host and realm
   * fill the CHALLENGE's target information, and MsvAvTargetName must name it. Default: the first `principal`.
   */
  readonly service?: string;
  /** Extended Protection for NTLM (MsvAvChannelBindings); default: the server's `channelBindingPolicy`. */
  readonly channelBindingPolicy?: ChannelBindingPolicy;
  /** NTLMv2 response replay cache; default in memory. */
  readonly replayCache?: AcceptorReplayCache;
  /**
   * Server challenges issued, for reflection protection (default: the process-wide registry, shared with this
   * process's NTLM initiators). Tests that run a kerbside client against this server in one process pass their own.
   */
  readonly issuedChallenges?: NtlmChallengeRegistry;
  /** Refuse NTLM clients that send no MIC (curl, pre-Vista); default false: a MIC is checked whenever the client announces one. */
  readonly requireMic?: boolean;
}

export interface NegotiateServerOptions {
  /** The service keytab ('FILE:/etc/http.keytab' or a path), watched and re-read on change; or any key source. */
  readonly keytab?: string | AcceptorKeySource;
  /** A ready acceptor instead of `keytab` (tests, other mechanisms). */
  readonly acceptor?: NegotiateAcceptor;
  /** Service principal(s) to answer for ('HTTP/web.example.test@EXAMPLE.TEST'); default any in the keytab. */
  readonly principal?: string | readonly string[];
  readonly clock?: Clock;
  readonly random?: RandomSource;
  /** Where events go; default: warnings and errors on stderr, one JSON line each (stderrSink). This sink replaces that default. */
  readonly events?: EventSink;
  readonly clockSkewMs?: number;
  readonly channelBindingPolicy?: ChannelBindingPolicy;
  /**
   * The 401's challenges, one `WWW-Authenticate` header each, in this order (IIS's provider list). Default
   * ['Negotiate'], or ['Negotiate', 'NTLM'] with `ntlm`. 'NTLM' needs `ntlm`. Without 'Negotiate' in the list,
   * the entries are extra challenges after `Negotiate` (e.g. 'Basic realm="x"' handled elsewhere).
   */
  readonly providers?: readonly string[];
  /** Accept NTLM (off when absent). */
  readonly ntlm?: NtlmServerOptions;
  /**
   * Accept NTLM on a connection whose Kerberos attempt just failed (default false: refused as a downgrade,
   * event `spnego.downgrade_refused`). When set, each such logon emits `spnego.downgrade_allowed` (warning).
   */
  readonly allowNtlmAfterKerberosFailure?: boolean;
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
  /**
   * Settles once the start-up check has run: the keytab is read once when the server is created, and a
   * missing or unreadable one is reported then (`http.keytab_unavailable`), not only as 503s later. Never rejects.
   */
  ready(): Promise<void>;
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
  'bad-password': 'NTLM authentication failed: unknown user name or bad password.',
  'unknown-user': 'NTLM authentication failed: unknown user name or bad password.',
  'account-restricted': 'NTLM authentication failed: the account may not log on with NTLM (disabled, locked out, or NTLM not enabled for it). Tell the administrator.',
  mic: 'NTLM authentication failed: the message integrity check did not verify. Retry; a proxy may be altering the authentication.',
  'target-name': 'NTLM authentication failed: your client authenticated to another service name than this server. Check the address you used.',
  timestamp: 'NTLM authentication failed: the response is stale, or your computer\'s clock differs too much from the server\'s. Correct the time (NTP) and retry.',
  reflection: 'NTLM authentication failed: the challenge was reflected.',
  'ntlm-v1': 'NTLM authentication failed: your client uses NTLMv1 or LM, which this server refuses. Configure it for NTLMv2.',
  malformed: 'The NTLM message sent by the client is malformed or asks for options this server refuses (NTLMv2 with extended session security is required).',
  'ntlm-failure': 'NTLM authentication failed.',
  downgrade: 'Your client\'s Kerberos attempt failed on this connection and it then tried NTLM, which is refused as a downgrade. Fix Kerberos (kinit, the server name) and retry.',
});

/** Creates the core handler. */
export function negotiateServer(options: NegotiateServerOptions): NegotiateServer {
  const clock = options.clock ?? systemClock();
  const random = options.random ?? systemRandom();
  const sink = options.events ?? stderrSink();
  const emit = createEmitter(sink, clock);
  const keys = options.acceptor === undefined ? keySource(options, clock, sink) : undefined;
  const acceptor = options.acceptor ?? makeAcceptor(options, keys!, clock, random, sink);
  const startup = keys === undefined ? Promise.resolve() : startupCheck(keys, emit);
  const cookies = options.sessionCookie === undefined || options.sessionCookie === false
    ? undefined
    : new SessionCookies(options.sessionCookie === true ? {} : options.sessionCookie, clock, random);
  const challenges = providerList(options);

  function refuse(req: NegotiateRequest, cause: RefusalCause, message: string, fields: Record<string, string | number | null | readonly string[]> = {}, severity: EventSeverity = 'warning', status = 401, token?: Uint8Array): NegotiateOutcome {
    emit.emit('http.auth_refused', message, {
      cause, method: req.method, path: pathOf(req.url), remoteAddress: req.remoteAddress, ...fields,
    }, severity);
    // A failed Negotiate handshake answers with the mechanism's reject token (it names only the error code), then the other providers.
    const headers: [string, string][] = status !== 401 ? []
      : token === undefined ? challenges.map((c) => ['WWW-Authenticate', c])
        : [['WWW-Authenticate', `Negotiate ${Buffer.from(token).toString('base64')}`],
          ...challenges.filter((c) => !/^negotiate$/i.test(c)).map((c): [string, string] => ['WWW-Authenticate', c])];
    return { authenticated: false, status, headers, body: `${USER_TEXT[cause]}\n`, cause };
  }

  return {
    async authenticate(req) {
      const authz = single(req.headers['authorization']);
      const parsed = authz === undefined ? undefined : authToken(authz, options.ntlm !== undefined);
      const token = parsed?.token;
      const scheme = parsed?.scheme ?? 'negotiate';
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
        return refuse(req, 'bad-token', `the ${scheme === 'ntlm' ? 'NTLM' : 'Negotiate'} token is not valid base64`, {}, 'warning', 400);
      }
      let step;
      try {
        step = await acceptor.accept(bytes, {
          connectionId: req.connection, scheme,
          ...(req.channelBindings === undefined ? {} : { channelBindings: req.channelBindings }),
        });
      } catch (err) {
        const c = classify(err);
        return refuse(req, c.cause, c.message, c.fields, c.severity, c.status, err instanceof GssError && scheme === 'negotiate' ? err.output : undefined);
      }
      const tokenHeader: [string, string][] = step.outputToken === undefined
        ? [] : [['WWW-Authenticate', `${scheme === 'ntlm' ? 'NTLM' : 'Negotiate'} ${Buffer.from(step.outputToken).toString('base64')}`]];
      if (!step.complete || step.identity === undefined) {
        // Another leg: 401 with the continuation token, on this same connection (RFC 4559 §5).
        return { authenticated: false, status: 401, headers: tokenHeader, body: `${USER_TEXT['handshake-incomplete']}\n`, cause: 'handshake-incomplete' };
      }
      const identity = step.identity;
      emit.emit('http.auth_succeeded', `${identity.principal} authenticated to ${identity.service} with ${identity.mechanism}`, {
        client: identity.principal, service: identity.service, mechanism: identity.mechanism, package: identity.package,
        ...(identity.ntlm === undefined ? {} : { ntlmUser: identity.ntlm.user, ntlmDomain: identity.ntlm.domain, workstation: identity.ntlm.workstation }),
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
    ready() {
      return startup;
    },
  };
}

function keySource(o: NegotiateServerOptions, clock: Clock, events: EventSink): AcceptorKeySource {
  if (o.keytab === undefined) throw new TypeError('negotiateServer needs a keytab (or an acceptor)');
  return typeof o.keytab === 'string'
    ? keytabKeys(o.keytab.includes(':') ? o.keytab : `FILE:${o.keytab}`, {
      clock, events, ...(o.keytabCheckIntervalMs === undefined ? {} : { checkIntervalMs: o.keytabCheckIntervalMs }),
    })
    : o.keytab;
}

/** Reads the keys once at start-up, so a missing or unreadable keytab is reported before the first request's 503. */
async function startupCheck(keys: AcceptorKeySource, emit: ReturnType<typeof createEmitter>): Promise<void> {
  try {
    const entries = await keys.keys();
    if (entries.length > 0) return;
    emit.emit('http.keytab_unavailable', `the ${keys.description} holds no keys: Negotiate requests will be answered 503`, {
      keytab: keys.description, error: 'no keys', hint: 'export the service principal\'s keys into the keytab (kadmin ktadd)',
    }, 'warning');
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const hint = err instanceof KerbsideError && err.hint !== undefined ? err.hint : 'check that the keytab exists and is readable by this process';
    emit.emit('http.keytab_unavailable', `${why}: Negotiate requests will be answered 503 until the keytab can be read`, {
      keytab: keys.description, error: why, hint,
    }, 'warning');
  }
}

function makeAcceptor(o: NegotiateServerOptions, keys: AcceptorKeySource, clock: Clock, random: RandomSource, events: EventSink): NegotiateAcceptor {
  let ntlm: NtlmAcceptor | undefined;
  if (o.ntlm !== undefined) {
    const service = o.ntlm.service ?? (typeof o.principal === 'string' ? o.principal : o.principal?.[0]);
    if (service === undefined) throw new TypeError('negotiateServer with ntlm needs ntlm.service (or principal): the service principal NTLM logons are for');
    const policy = o.ntlm.channelBindingPolicy ?? o.channelBindingPolicy;
    ntlm = new NtlmAcceptor({
      validator: o.ntlm.validator, service, clock, random, events,
      ...(o.clockSkewMs === undefined ? {} : { clockSkewMs: o.clockSkewMs }),
      ...(policy === undefined ? {} : { channelBindingPolicy: policy }),
      ...(o.ntlm.replayCache === undefined ? {} : { replayCache: o.ntlm.replayCache }),
      ...(o.ntlm.issuedChallenges === undefined ? {} : { issuedChallenges: o.ntlm.issuedChallenges }),
      ...(o.ntlm.requireMic === undefined ? {} : { requireMic: o.ntlm.requireMic }),
    });
  }
  return kerberosAcceptor({
    keys, clock, random, events,
    ...(ntlm === undefined ? {} : { ntlm }),
    ...(o.allowNtlmAfterKerberosFailure === undefined ? {} : { allowNtlmAfterKerberosFailure: o.allowNtlmAfterKerberosFailure }),
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

/** The 401's challenges, in order (see NegotiateServerOptions.providers). */
function providerList(o: NegotiateServerOptions): readonly string[] {
  const given = o.providers ?? (o.ntlm === undefined ? ['Negotiate'] : ['Negotiate', 'NTLM']);
  const list = given.some((p) => /^negotiate$/i.test(p)) ? [...given] : ['Negotiate', ...given];
  if (o.ntlm === undefined && o.acceptor === undefined && list.some((p) => /^ntlm$/i.test(p))) {
    throw new TypeError('negotiateServer: providers lists NTLM, but the ntlm option (its validator) is not set');
  }
  return list;
}

/** The NTLM refusal causes, by error class (subclasses before their bases). */
function classifyNtlm(err: GssError): RefusalCause | undefined {
  if (err instanceof NtlmLogonFailureError) return err.detail['cause'] === 'unknown_user' ? 'unknown-user' : 'bad-password';
  if (err instanceof NtlmAccountRestrictionError) return 'account-restricted';
  if (err instanceof NtlmIntegrityError) return 'mic';
  if (err instanceof NtlmChannelBindingsError) return 'channel-bindings';
  if (err instanceof NtlmTargetNameError) return 'target-name';
  if (err instanceof NtlmTimestampError) return 'timestamp';
  if (err instanceof NtlmReplayError) return 'replay';
  if (err instanceof NtlmReflectionError) return 'reflection';
  if (err instanceof NtlmV1RefusedError) return 'ntlm-v1';
  if (err instanceof NtlmFormatError || err instanceof NtlmNegotiationError) return 'malformed';
  return err.code.startsWith('ERR_NTLM') ? 'ntlm-failure' : undefined;
}

/** Maps an acceptor failure to its cause; the message and fields go to the log only. */
function classify(err: unknown): Classified {
  if (err instanceof NtlmDowngradeError) {
    return {
      cause: 'downgrade', message: err.message, severity: 'warning', status: 401,
      fields: { mechanism: 'ntlm', krbCode: err.krbCode ?? null, kerberosFailure: String(err.detail['kerberosFailure'] ?? '') },
    };
  }
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
  const ntlmCause = classifyNtlm(err);
  if (ntlmCause !== undefined) {
    const ntlmFields = {
      ...fields, mechanism: 'ntlm',
      ...(typeof d['user'] === 'string' ? { user: d['user'] } : {}),
      ...(typeof d['domain'] === 'string' ? { domain: d['domain'] } : {}),
    };
    return { ...base, cause: ntlmCause, fields: ntlmFields };
  }
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

/** The base64 token of `Negotiate <token>` (or `NTLM <token>` when NTLM is on), or undefined for another scheme or a bare scheme name. */
function authToken(header: string, ntlm: boolean): { scheme: 'negotiate' | 'ntlm'; token: string } | undefined {
  const m = /^(negotiate|ntlm)\s+(\S+)\s*$/i.exec(header);
  if (m === null) return undefined;
  const scheme = m[1]!.toLowerCase() as 'negotiate' | 'ntlm';
  if (scheme === 'ntlm' && !ntlm) return undefined;
  return { scheme, token: m[2]! };
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
