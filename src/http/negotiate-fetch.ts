/**
 * The HTTP Negotiate client (RFC 4559 §4–§5): `negotiateFetch(input, init)`
 * behaves like fetch and answers a `401` with `WWW-Authenticate: Negotiate`
 * by sending a SPNEGO token with a Kerberos AP-REQ for HTTP/<host>.
 *
 * - One handshake runs on one socket: each call uses its own keep-alive
 *   agent limited to one connection, over HTTP/1.1 (docs/lessons.md
 *   "Connections"; node-http-ntlm#5).
 * - At most one authenticated retry per challenge: a second 401 is a
 *   NegotiateRefusedError, never a loop (requests-kerberos#42).
 * - The server's final token must verify (mutual authentication) before the
 *   response is returned; otherwise NegotiateMutualAuthError.
 * - When Kerberos fails on our side the request is not sent again without
 *   authentication: a typed error says why (curl#21076).
 * - Over https the AP-REQ carries the RFC 5929 `tls-server-end-point`
 *   channel bindings of the certificate the server presented on the socket
 *   the token is sent on (docs/lessons.md "EPA"), so a server enforcing Extended
 *   Protection can tell a TLS-intercepting proxy from its own TLS.
 * - NTLM (MS-NLMP) with an `ntlm` credential: inside SPNEGO when the server
 *   offers Negotiate, raw under `Authorization: NTLM` when it offers only
 *   NTLM. The downgrade rule (docs/ntlm.md "HTTP"): NTLM only when Kerberos
 *   does not apply to the target (no realm or KDC for the host, or the service
 *   principal is unknown to the KDC). After any other Kerberos failure it
 *   emits `spnego.downgrade_refused` with the Kerberos failure code and throws
 *   NegotiateDowngradeRefusedError; no NTLM message is sent.
 */

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { systemClock, type Clock } from '../core/clock.js';
import { systemRandom, type RandomSource } from '../core/random.js';
import {
  ClockSkewError as KdcClockSkewError, clientFromEnvironment, LogonSession, missingConfigNote, NoKdcConfiguredError, PasswordIncorrectError, PrincipalUnknownError,
  TicketExpiredError, type ClientConfig,
} from '../client/index.js';
import { KerbsideError } from '../core/errors.js';
import { CannotRefreshUnattendedError } from '../lifecycle/index.js';
import { createEmitter, diagnosticsChannelSink, nullSink, type Emitter, type EventSink } from '../events/index.js';
import { searchHostRealm, type Credential } from '../files/index.js';
import { decodeSpnegoToken, GssError, MechOid, NtlmInitiator, ntlmAccountName, SpnegoInitiator, type ChannelBindings, type NtlmCredential } from '../gss/index.js';
import { negStateName } from '../gss/index.js';
import { errorCodeName, ErrorCode } from '../messages/index.js';
import {
  NegotiateCredentialsError, NegotiateDowngradeRefusedError, NegotiateError, NegotiateMutualAuthError, NegotiateRefusedError,
} from './errors.js';
import { certificateBindings } from './tls-bindings.js';

export interface NegotiateOptions {
  /** The logon session whose tickets to use; default: the default credential cache (KRB5CCNAME, krb5.conf). */
  readonly session?: LogonSession;
  /** Environment for the default cache lookup (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Service principal (default 'HTTP/<host name of the URL>'). */
  readonly spn?: string;
  /** Require the server's mutual-authentication token (default true). */
  readonly requireMutualAuth?: boolean;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  /** Send the token with the first request instead of waiting for the 401. */
  readonly preemptive?: boolean;
  /** TLS: extra CA certificates (PEM) for https URLs. */
  readonly ca?: string | readonly string[];
  /** https: send the server certificate's tls-server-end-point channel bindings (default true). */
  readonly channelBindings?: boolean;
  /**
   * An NTLM credential, used only when Kerberos does not apply to the target (see the downgrade rule above)
   * or the server offers only NTLM. The secret is a password or the NT hash (16 octets); never logged.
   */
  readonly ntlm?: NegotiateNtlmCredential;
  /**
   * The scheme NTLM goes under when the server offers both: 'Negotiate' (NTLM inside SPNEGO, the default) or
   * 'NTLM' (raw NTLMSSP, `Authorization: NTLM`). A server offering only one gets that one.
   */
  readonly ntlmScheme?: 'Negotiate' | 'NTLM';
  /** Fall back to NTLM after a Kerberos failure too (legacy sites). Each fallback emits `spnego.downgrade_allowed` (warning). */
  readonly allowNtlmAfterKerberosFailure?: boolean;
  /**
   * Host → realm, as krb5.conf [domain_realm] ('web.example.test' or '.example.test' → 'EXAMPLE.TEST'); without a
   * match the client's default realm. A host that maps to no realm, or to a realm without a KDC, is not a Kerberos target.
   */
  readonly domainRealm?: Readonly<Record<string, string>>;
  /**
   * Where `http.fetch_authenticated`, `spnego.downgrade_refused` / `spnego.downgrade_allowed` go, and the
   * Kerberos client's events when negotiateFetch makes the client (no `session`). Default: node:diagnostics_channel
   * ('kerbside:<type>' and 'kerbside:events'), nothing past a check while nobody subscribes.
   */
  readonly events?: EventSink;
}

export interface NegotiateNtlmCredential {
  readonly user: string;
  /** The account's domain ('EXAMPLE', or '' for a local account). */
  readonly domain: string;
  readonly password?: string;
  /** The NT hash (MD4 of the UTF-16LE password), instead of the password. */
  readonly ntHash?: Uint8Array;
  /** The NetBIOS name of this machine, sent in AUTHENTICATE (default ''). */
  readonly workstation?: string;
}

/**
 * fetch's RequestInit (method, headers as a Headers object, a record or pairs, body, signal, redirect) plus
 * the Negotiate options. The body is buffered: an authenticated retry sends it again.
 */
export type NegotiateFetchInit = Omit<RequestInit, 'headers'> & {
  readonly headers?: HeadersInit | readonly (readonly [string, string])[];
  readonly negotiate?: NegotiateOptions;
};

/** What `new Headers(…)` takes (undici's HeadersInit, which @types/node does not name globally). */
type HeadersInit = ConstructorParameters<typeof Headers>[0];

/** fetch's limit (WHATWG Fetch, "HTTP-redirect fetch" step 5). */
const MAX_REDIRECTS = 20;

interface RawResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: IncomingMessage['headers'];
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

/**
 * fetch with HTTP Negotiate (Kerberos through SPNEGO): the same arguments as fetch (a URL, a string or a
 * Request; RequestInit), resolving to a standard Response. `signal` aborts at any step (rejecting with its
 * reason, as fetch does); redirects are followed as fetch follows them (`redirect: 'follow' | 'manual' |
 * 'error'`), each hop authenticating to its own host (SPN HTTP/<new host>).
 */
export async function negotiateFetch(input: string | URL | Request, init: NegotiateFetchInit = {}): Promise<Response> {
  const { negotiate, headers: initHeaders, ...rest } = init;
  const events = negotiate?.events ?? DEFAULT_EVENTS;
  const request = new Request(input, { ...rest, ...(initHeaders === undefined ? {} : { headers: initHeaders as HeadersInit }) } as RequestInit);
  const signal = rest.signal ?? (input instanceof Request ? input.signal : undefined) ?? undefined;
  signal?.throwIfAborted();
  let o: NegotiateOptions = { ...negotiate, events };
  let url = new URL(request.url);
  let method = request.method;
  let headers: [string, string][] = [...request.headers].filter(([n]) => n !== 'authorization');
  let body = request.body === null ? undefined : new Uint8Array(await request.arrayBuffer());
  for (let hops = 0; ; hops++) {
    const raw = await negotiateOnce(url, method, headers, body, o, signal);
    const location = REDIRECT_STATUSES.has(raw.status) ? single(raw.headers['location']) : undefined;
    if (location === undefined || request.redirect === 'manual') return toResponse(raw, url, hops > 0);
    if (request.redirect === 'error') throw new TypeError(`fetch failed: ${url.href} redirected (${raw.status}) and redirect is 'error'`);
    if (hops >= MAX_REDIRECTS) throw new TypeError(`fetch failed: more than ${MAX_REDIRECTS} redirects from ${request.url}`);
    const next = new URL(location, url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new TypeError(`fetch failed: ${url.href} redirected to a ${next.protocol} URL`);
    // WHATWG Fetch "HTTP-redirect fetch" step 12: 303 (and 301/302 after POST) become a GET without a body.
    if ((raw.status === 303 && method !== 'GET' && method !== 'HEAD') || ((raw.status === 301 || raw.status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
      headers = headers.filter(([n]) => !REQUEST_BODY_HEADERS.has(n));
    }
    // A fixed SPN names the first host: another host gets its own (HTTP/<host>).
    if (o.spn !== undefined && next.hostname !== url.hostname) {
      const { spn: _spn, ...others } = o;
      o = others;
    }
    url = next;
  }
}

/** One diagnostics_channel sink for every call without an `events` option. */
const DEFAULT_EVENTS: EventSink = diagnosticsChannelSink();

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** The request-body-header names of WHATWG Fetch, dropped when a redirect turns the request into a GET. */
const REQUEST_BODY_HEADERS: ReadonlySet<string> = new Set(['content-encoding', 'content-language', 'content-location', 'content-type', 'content-length']);

function single(v: string | string[] | undefined): string | undefined {
  return typeof v === 'string' ? v : v?.[0];
}

/** One URL, no redirects: the request, the Negotiate (or NTLM) handshake on one socket, the final response. */
async function negotiateOnce(
  url: URL, method: string, baseHeaders: readonly (readonly [string, string])[], body: Uint8Array | undefined, o: NegotiateOptions, signal: AbortSignal | undefined,
): Promise<RawResponse> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new NegotiateError(`negotiateFetch handles http and https URLs, not ${url.protocol}`);
  const secure = url.protocol === 'https:';
  // One socket for the whole handshake.
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ...(o.ca === undefined ? {} : { ca: o.ca as string[] }) })
    : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  const send = (authorize?: Authorize): Promise<RawResponse> => exchange(url, agent, secure, method, baseHeaders, body, signal, authorize);
  try {
    let offersNegotiate = true;
    let offersNtlm = false;
    if (o.preemptive !== true) {
      const first = await send();
      if (first.status !== 401) return first;
      offersNegotiate = challengeToken(first.headers['www-authenticate'], 'Negotiate') !== undefined;
      offersNtlm = challengeToken(first.headers['www-authenticate'], 'NTLM') !== undefined;
      if (!offersNegotiate && !(offersNtlm && o.ntlm !== undefined)) return first;
    }
    // Kerberos is not tried when the server offers only NTLM: that is no downgrade (nothing Kerberos was offered).
    signal?.throwIfAborted();
    const attempt: KerberosAttempt = offersNegotiate
      ? await kerberosTicket(o, url.hostname)
      : { ok: false, applicable: false, reason: 'the server offers only NTLM', error: undefined, spn: o.spn ?? `HTTP/${url.hostname}` };
    if (!attempt.ok) {
      const scheme = !offersNegotiate || (offersNtlm && o.ntlmScheme === 'NTLM') ? 'NTLM' : 'Negotiate';
      signal?.throwIfAborted();
      return await ntlmFallback(o, url, attempt, scheme, send);
    }
    signal?.throwIfAborted();
    const spn = attempt.spn;
    const credential = attempt.credential;
    const sendBindings = o.channelBindings ?? true;
    let initiator = undefined as SpnegoInitiator | undefined; // set by the callback below
    // The token is built once the socket is known: its bindings are that connection's certificate.
    const reply = await send((bindings) => {
      initiator = new SpnegoInitiator({
        krb5: {
          credential,
          ...(o.clock === undefined ? {} : { clock: o.clock }),
          ...(o.random === undefined ? {} : { random: o.random }),
          ...(bindings === undefined || !sendBindings ? {} : { channelBindings: bindings }),
        },
        target: spn,
      });
      const token = initiator.initSecContext().output;
      if (token === undefined) throw new NegotiateError('the SPNEGO initiator produced no token');
      return `Negotiate ${Buffer.from(token).toString('base64')}`;
    });
    if (initiator === undefined) throw new NegotiateError('internal: the Negotiate token was not built');
    const serverToken = challengeToken(reply.headers['www-authenticate'], 'Negotiate');
    try {
      if (reply.status === 401) {
        throw new NegotiateRefusedError(`${url.origin} refused the Kerberos ticket for ${spn} (401 after our Negotiate token)${describeRejection(serverToken)}`, {
          hint: 'the server may lack the current key of its service principal (keytab), the clocks may differ, or the name (SPN) may not be the one the server has keys for; the server\'s log says which',
          detail: { url: url.origin, spn, status: 401, serverMessage: reply.body.toString('utf8').slice(0, 300) },
        });
      }
      // A non-2xx without a final token (a 503 from a server without its keys, a 404) is the server's answer,
      // not a mutual-authentication failure: it claims no success to verify. A token, when sent, must verify.
      if ((serverToken === undefined || serverToken.length === 0) && (reply.status < 200 || reply.status > 299)) return reply;
      verifyMutualAuth(initiator, serverToken, o.requireMutualAuth ?? true, url.origin, spn);
      fetchAuthenticated(o, url, spn, 'kerberos', reply.status, serverToken !== undefined && serverToken.length > 0);
    } catch (err) {
      // A Kerberos failure with an NTLM credential at hand: the fallback is refused, and said so (the downgrade rule).
      if (o.ntlm !== undefined) downgradeRefused(o, url, spn, kerberosCode(err), err instanceof Error ? err.message : String(err));
      throw err;
    }
    return reply;
  } finally {
    agent.destroy();
  }
}

type KerberosAttempt =
  | { readonly ok: true; readonly credential: Credential; readonly spn: string }
  | {
    readonly ok: false;
    /** Kerberos applies to the target and failed (a downgrade to NTLM is refused), or it does not apply. */
    readonly applicable: boolean;
    readonly reason: string;
    readonly error: unknown;
    readonly spn: string;
  };

/** The realm the [domain_realm]-style `table` maps `host` to (files' searchHostRealm: the host, then each parent domain). */
function realmOfHost(table: Readonly<Record<string, string>> | undefined, host: string): string | undefined {
  return table === undefined ? undefined : searchHostRealm(host, (key) => (Object.hasOwn(table, key) ? table[key] : undefined));
}

/** Each error of a cause chain, outermost first (lifecycle wraps the client's errors). */
function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = err; e !== undefined && e !== null && out.length < 8; e = (e as { cause?: unknown }).cause) out.push(e);
  return out;
}

/** The hint of the innermost error of the chain that has one: the most precise cause's. */
function causeHint(err: unknown): string | undefined {
  let hint: string | undefined;
  for (const e of causes(err)) if (e instanceof KerbsideError && e.hint !== undefined) hint = e.hint;
  return hint;
}

/** The Kerberos error code of a failure: the first krbCode in its chain, else the code its class stands for. */
function kerberosCode(err: unknown): number | undefined {
  const chain = causes(err);
  for (const e of chain) if (e instanceof KerbsideError && e.krbCode !== undefined) return e.krbCode;
  for (const e of chain) {
    // A TGT that expired and cannot be refreshed unattended: what the KDC answers to it (KRB_AP_ERR_TKT_EXPIRED).
    if (e instanceof TicketExpiredError || e instanceof CannotRefreshUnattendedError) return ErrorCode.KRB_AP_ERR_TKT_EXPIRED;
    if (e instanceof KdcClockSkewError) return ErrorCode.KRB_AP_ERR_SKEW;
    if (e instanceof PasswordIncorrectError) return ErrorCode.KDC_ERR_PREAUTH_FAILED;
  }
  return undefined;
}

/** A service ticket for the target, or why there is none and whether Kerberos applies to it (the downgrade rule). */
async function kerberosTicket(o: NegotiateOptions, host: string): Promise<KerberosAttempt> {
  let spn = o.spn ?? `HTTP/${host}`;
  let session = o.session;
  let config: ClientConfig | undefined = session?.clientConfig;
  try {
    if (session === undefined) {
      const env = o.env ?? process.env;
      const program = await clientFromEnvironment({
        env, clock: o.clock ?? systemClock(), random: o.random ?? systemRandom(), ...(o.events === undefined ? {} : { events: o.events }),
      });
      config = program.config;
      const notApplicable = realmCheck(o, config, host, spn);
      if (notApplicable !== undefined) return notApplicable;
      spn = qualified(o, config, host, spn);
      session = await LogonSession.open({ client: program.client, source: { kind: 'ccache', ccache: program.defaultCcache } });
    } else if (config !== undefined) {
      // (A session-like object without a client configuration skips the check: its errors still classify below.)
      const notApplicable = realmCheck(o, config, host, spn);
      if (notApplicable !== undefined) return notApplicable;
      spn = qualified(o, config, host, spn);
    }
    return { ok: true, credential: await session.serviceTicket(spn), spn };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const chain = causes(err);
    // Not applicable: the realm has no KDC, or the KDC does not know the service (KDC_ERR_S_PRINCIPAL_UNKNOWN).
    const notKerberos = chain.some((e) => e instanceof NoKdcConfiguredError)
      || chain.some((e) => e instanceof PrincipalUnknownError && e.krbCode === ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN);
    return { ok: false, applicable: !notKerberos, reason: why, error: err, spn };
  }
}

/** Kerberos does not apply when the host maps to no realm, or to one without a KDC address. */
function realmCheck(o: NegotiateOptions, config: ClientConfig, host: string, spn: string): KerberosAttempt | undefined {
  const at = spn.lastIndexOf('@');
  const realm = at >= 0 ? spn.slice(at + 1) : realmOfHost(o.domainRealm, host) ?? config.defaultRealm;
  const note = missingConfigNote(config);
  if (realm === undefined) return { ok: false, applicable: false, reason: `no Kerberos realm for ${host} (no domain_realm match and no default realm)${note}`, error: undefined, spn };
  // With dns_lookup_kdc the KDCs may come from SRV records: the attempt itself says (NoKdcConfiguredError) whether there are any.
  if ((config.realms[realm]?.kdcs.length ?? 0) === 0 && !config.dnsLookupKdc) {
    return { ok: false, applicable: false, reason: `no KDC address for realm ${realm} (the realm of ${host})${note}`, error: undefined, spn };
  }
  return undefined;
}

/** The SPN with the realm domainRealm gives the host (the client otherwise uses its default realm). */
function qualified(o: NegotiateOptions, config: ClientConfig, host: string, spn: string): string {
  if (spn.includes('@')) return spn;
  const realm = realmOfHost(o.domainRealm, host);
  return realm === undefined || realm === config.defaultRealm ? spn : `${spn}@${realm}`;
}

/** The emitter for this call's events (its `events` sink, its clock). */
function emitterFor(o: NegotiateOptions): Emitter {
  return createEmitter(o.events ?? nullSink(), o.clock ?? systemClock());
}

/** `http.fetch_authenticated`: our token was taken and the server answered (mutual authentication verified, when `mutual`). */
function fetchAuthenticated(o: NegotiateOptions, url: URL, spn: string, mechanism: 'kerberos' | 'ntlm', status: number, mutual: boolean): void {
  emitterFor(o).emit('http.fetch_authenticated',
    `authenticated to ${url.origin} as ${spn} with ${mechanism === 'kerberos' ? 'Kerberos' : 'NTLM'} (${status})`,
    { side: 'initiator', peer: url.origin, spn, mechanism, status, mutualAuthentication: mutual }, 'info');
}

function downgradeFields(url: URL, spn: string, code: number | undefined, reason: string) {
  return {
    side: 'initiator', peer: url.origin, spn, failureCode: code ?? null,
    failureName: code === undefined ? null : errorCodeName(code), failure: reason, offeredMechs: [MechOid.NTLMSSP],
  };
}

/** The LsaSrv-40960-style event on the client: Kerberos failed where it applies, so NTLM is not tried. */
function downgradeRefused(o: NegotiateOptions, url: URL, spn: string, code: number | undefined, reason: string): void {
  const codeText = code === undefined ? reason : `${errorCodeName(code)} (${code})`;
  emitterFor(o).emit('spnego.downgrade_refused',
    `Kerberos authentication with ${url.origin} failed and SPNEGO did not fall back to NTLM; failure code: ${codeText}`,
    downgradeFields(url, spn, code, reason));
}

/**
 * Kerberos gave no ticket: NTLM when the rule allows it (Kerberos does not apply, or the policy allows a
 * downgrade), else the typed error. The NTLM handshake runs on the same socket: NEGOTIATE, CHALLENGE, AUTHENTICATE.
 */
async function ntlmFallback(
  o: NegotiateOptions, url: URL, attempt: Extract<KerberosAttempt, { ok: false }>, scheme: 'Negotiate' | 'NTLM',
  send: (authorize?: Authorize) => Promise<RawResponse>,
): Promise<RawResponse> {
  const code = attempt.error === undefined ? undefined : kerberosCode(attempt.error);
  if (o.ntlm === undefined) {
    // The hint is the precise cause's (a KDC that cannot be reached is not fixed by kinit).
    throw new NegotiateCredentialsError(`no Kerberos ticket for ${attempt.spn}: ${attempt.reason} (the request was not sent without authentication)`, {
      hint: causeHint(attempt.error) ?? 'get a TGT (kinit) or pass a logon session, and check the service name',
      detail: { spn: attempt.spn },
      ...(code === undefined ? {} : { krbCode: code }),
      cause: attempt.error,
    });
  }
  if (attempt.applicable) {
    if (o.allowNtlmAfterKerberosFailure !== true) {
      downgradeRefused(o, url, attempt.spn, code, attempt.reason);
      throw new NegotiateDowngradeRefusedError(`Kerberos failed for ${attempt.spn} (${attempt.reason}); NTLM was not tried, as that would be a downgrade`, {
        hint: 'fix the Kerberos failure (renew or get a new TGT, correct the clock, reach the KDC); set allowNtlmAfterKerberosFailure only for legacy sites',
        detail: { url: url.origin, spn: attempt.spn, kerberosFailure: attempt.reason },
        ...(code === undefined ? {} : { krbCode: code }),
        cause: attempt.error,
      });
    }
    emitterFor(o).emit('spnego.downgrade_allowed',
      `Kerberos authentication with ${url.origin} failed; falling back to NTLM because allowNtlmAfterKerberosFailure is set`,
      downgradeFields(url, attempt.spn, code, attempt.reason), 'warning');
  }
  const n = o.ntlm;
  if ((n.password === undefined) === (n.ntHash === undefined)) throw new NegotiateError('the ntlm credential needs exactly one of password and ntHash');
  const credential: NtlmCredential = {
    user: n.user, domain: n.domain, secret: n.password !== undefined ? { password: n.password } : { ntHash: n.ntHash! },
  };
  const targetName = (attempt.spn.includes('@') ? attempt.spn.slice(0, attempt.spn.lastIndexOf('@')) : attempt.spn);
  const sendBindings = o.channelBindings ?? true;
  let step: ((input?: Uint8Array) => Uint8Array | undefined) | undefined;
  const start = (bindings: ChannelBindings | undefined): string => {
    const ntlmOptions = {
      credential, targetName,
      ...(o.clock === undefined ? {} : { clock: o.clock }),
      ...(o.random === undefined ? {} : { random: o.random }),
      ...(n.workstation === undefined ? {} : { workstation: n.workstation }),
      ...(bindings === undefined || !sendBindings ? {} : { channelBindings: bindings }),
    };
    if (scheme === 'NTLM') {
      const initiator = new NtlmInitiator(ntlmOptions);
      step = (input) => initiator.initSecContext(input).output;
    } else {
      const initiator = new SpnegoInitiator({ ntlm: ntlmOptions, mechTypes: [MechOid.NTLMSSP], target: attempt.spn, ...(o.events === undefined ? {} : { events: o.events }) });
      step = (input) => initiator.initSecContext(input).output;
    }
    const token = step();
    if (token === undefined) throw new NegotiateError('the NTLM initiator produced no NEGOTIATE message');
    return `${scheme} ${Buffer.from(token).toString('base64')}`;
  };
  const challenged = await send(start);
  const challenge = challengeToken(challenged.headers['www-authenticate'], scheme);
  if (challenged.status !== 401 || challenge === undefined || challenge.length === 0) {
    if (challenged.status === 401) {
      throw new NegotiateRefusedError(`${url.origin} refused NTLM for ${ntlmAccountName(n.user, n.domain)} (401 without a CHALLENGE)`, {
        hint: 'the server does not accept NTLM here, or the NEGOTIATE message; its log says why',
        detail: { url: url.origin, status: 401, serverMessage: challenged.body.toString('utf8').slice(0, 300) },
      });
    }
    return challenged;
  }
  const authenticate = step!(challenge);
  if (authenticate === undefined) throw new NegotiateError('the NTLM initiator produced no AUTHENTICATE message');
  const reply = await send(() => `${scheme} ${Buffer.from(authenticate).toString('base64')}`);
  if (reply.status === 401) {
    throw new NegotiateRefusedError(`${url.origin} refused the NTLM logon of ${ntlmAccountName(n.user, n.domain)} (401 after our AUTHENTICATE)`, {
      hint: 'wrong password or NT hash, an unknown or restricted account, or the server refused the logon for another cause (its log names it)',
      detail: { url: url.origin, status: 401, serverMessage: reply.body.toString('utf8').slice(0, 300) },
    });
  }
  // SPNEGO's final token (accept-completed, perhaps with the acceptor's mechListMIC) must verify when there is one.
  const final = scheme === 'Negotiate' ? challengeToken(reply.headers['www-authenticate'], 'Negotiate') : undefined;
  if (final !== undefined && final.length > 0) {
    try {
      step!(final);
    } catch (err) {
      throw new NegotiateMutualAuthError(`${url.origin}: the final SPNEGO token of the NTLM logon does not verify: ${err instanceof Error ? err.message : String(err)}`, {
        hint: 'the response was discarded: the mechanism list or the mechListMIC was altered in transit', detail: { url: url.origin }, cause: err,
      });
    }
  }
  fetchAuthenticated(o, url, attempt.spn, 'ntlm', reply.status, final !== undefined && final.length > 0);
  return reply;
}

function verifyMutualAuth(initiator: SpnegoInitiator, serverToken: Uint8Array | undefined, required: boolean, origin: string, spn: string): void {
  if (serverToken === undefined || serverToken.length === 0) {
    if (!required) return;
    throw new NegotiateMutualAuthError(`${origin} accepted the request but sent no final Negotiate token, so it did not prove it is ${spn}`, {
      hint: 'the response was discarded; the server must return WWW-Authenticate: Negotiate <token> on success (or set requireMutualAuth: false)',
      detail: { url: origin, spn },
    });
  }
  try {
    const step = initiator.initSecContext(serverToken);
    if (!step.complete) throw new NegotiateMutualAuthError('the server\'s final token did not complete the SPNEGO negotiation');
  } catch (err) {
    if (err instanceof NegotiateMutualAuthError) throw withContext(err, origin, spn);
    const why = err instanceof Error ? err.message : String(err);
    throw new NegotiateMutualAuthError(`${origin} did not prove it is ${spn}: ${why}`, {
      hint: 'the response was discarded: the server\'s mutual-authentication token does not match our request',
      detail: { url: origin, spn, ...(err instanceof GssError ? { krbCode: err.krbCode } : {}) },
      cause: err,
    });
  }
}

function withContext(err: NegotiateMutualAuthError, origin: string, spn: string): NegotiateMutualAuthError {
  return new NegotiateMutualAuthError(`${origin} (${spn}): ${err.message}`, { hint: 'the response was discarded', detail: { url: origin, spn } });
}

function describeRejection(token: Uint8Array | undefined): string {
  if (token === undefined) return '';
  try {
    const t = decodeSpnegoToken(token);
    if (t.type === 'resp' && t.value.negState !== undefined) return `; SPNEGO state ${negStateName(t.value.negState)}`;
  } catch {
    // Not SPNEGO (a bare KRB-ERROR token, say): nothing more to say.
  }
  return '';
}

/**
 * The token of a `<scheme> <b64>` challenge in WWW-Authenticate (the first one that carries a token), an empty
 * array when the scheme is offered bare, undefined when it is not offered at all.
 */
function challengeToken(header: string | string[] | undefined, scheme: 'Negotiate' | 'NTLM'): Uint8Array | undefined {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const re = new RegExp(`^\\s*${scheme}(?:\\s+([A-Za-z0-9+/=]+))?\\s*$`, 'i');
  let bare = false;
  for (const v of values) {
    for (const part of v.split(',')) {
      const m = re.exec(part);
      if (m === null) continue;
      if (m[1] !== undefined) return new Uint8Array(Buffer.from(m[1], 'base64'));
      bare = true;
    }
  }
  return bare ? new Uint8Array(0) : undefined;
}

/** Builds the Authorization header for the connection the request goes out on (its TLS bindings, if any). */
type Authorize = (bindings: ChannelBindings | undefined) => string;

function exchange(
  url: URL, agent: HttpAgent, secure: boolean, method: string, headers: readonly (readonly [string, string])[], body: Uint8Array | undefined,
  signal: AbortSignal | undefined, authorize?: Authorize,
): Promise<RawResponse> {
  return new Promise((resolve0, reject0) => {
    if (signal?.aborted === true) {
      reject0(signal.reason);
      return;
    }
    // An abort destroys the request (and its socket) and rejects with the signal's reason, as fetch does.
    const onAbort = (): void => {
      req.destroy();
      reject0(signal!.reason);
    };
    const done = (): void => signal?.removeEventListener('abort', onAbort);
    const resolve = (r: RawResponse): void => { done(); resolve0(r); };
    const reject = (e: unknown): void => { done(); reject0(e); };
    const outgoing: Record<string, string> = {};
    for (const [n, v] of headers) outgoing[n] = v;
    if (body !== undefined) outgoing['Content-Length'] = String(body.length);
    const req = (secure ? httpsRequest : httpRequest)(url, { method, headers: outgoing, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, rawHeaders: res.rawHeaders,
        body: Buffer.concat(chunks),
      }));
      res.on('error', reject);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', reject);
    const payload = body === undefined ? undefined : Buffer.from(body);
    if (authorize === undefined) {
      req.end(payload);
      return;
    }
    // Headers go out on end(): until then the Authorization header can still be set.
    req.once('socket', (socket: Socket) => {
      const go = (): void => {
        try {
          req.setHeader('Authorization', authorize(secure ? certificateBindings((socket as TLSSocket).getPeerCertificate()) : undefined));
        } catch (err) {
          req.destroy();
          reject(err);
          return;
        }
        req.end(payload);
      };
      // A reused keep-alive socket has finished its handshake; a new one has not.
      if (secure && (socket as TLSSocket).getPeerCertificate().raw === undefined) socket.once('secureConnect', go);
      else go();
    });
  });
}

function toResponse(r: RawResponse, url: URL, redirected: boolean): Response {
  const headers = new Headers();
  for (let i = 0; i + 1 < r.rawHeaders.length; i += 2) headers.append(r.rawHeaders[i]!, r.rawHeaders[i + 1]!);
  const nullBody = r.status === 204 || r.status === 304 || (r.status >= 100 && r.status < 200);
  const res = new Response(nullBody ? null : r.body, { status: r.status, statusText: r.statusText, headers });
  // As fetch's Response: the final URL, and whether a redirect led there.
  Object.defineProperty(res, 'url', { value: url.href, enumerable: true });
  Object.defineProperty(res, 'redirected', { value: redirected, enumerable: true });
  return res;
}
