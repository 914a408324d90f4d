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
 */

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { systemClock, type Clock } from '../core/clock.js';
import { systemRandom, type RandomSource } from '../core/random.js';
import { utf8 } from '../core/bytes.js';
import { clientFromEnvironment, LogonSession } from '../client/index.js';
import type { Credential } from '../files/index.js';
import { decodeSpnegoToken, GssError, SpnegoInitiator, type ChannelBindings } from '../gss/index.js';
import { negStateName } from '../gss/index.js';
import { NegotiateCredentialsError, NegotiateError, NegotiateMutualAuthError, NegotiateRefusedError } from './errors.js';
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
}

export interface NegotiateFetchInit {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>> | readonly (readonly [string, string])[];
  /** The body is buffered: an authenticated retry sends it again. */
  readonly body?: string | Uint8Array;
  readonly negotiate?: NegotiateOptions;
}

interface RawResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: IncomingMessage['headers'];
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

/** fetch with HTTP Negotiate (Kerberos through SPNEGO). Resolves to a standard Response. */
export async function negotiateFetch(input: string | URL, init: NegotiateFetchInit = {}): Promise<Response> {
  const url = new URL(input);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new NegotiateError(`negotiateFetch handles http and https URLs, not ${url.protocol}`);
  const o = init.negotiate ?? {};
  const secure = url.protocol === 'https:';
  // One socket for the whole handshake.
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ...(o.ca === undefined ? {} : { ca: o.ca as string[] }) })
    : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  const body = init.body === undefined ? undefined : typeof init.body === 'string' ? utf8(init.body) : init.body;
  const baseHeaders = headerList(init.headers).filter(([n]) => n.toLowerCase() !== 'authorization');
  const send = (authorize?: Authorize): Promise<RawResponse> => exchange(url, agent, secure, init.method ?? 'GET', baseHeaders, body, authorize);
  try {
    if (o.preemptive !== true) {
      const first = await send();
      if (first.status !== 401 || offeredToken(first.headers['www-authenticate']) === undefined) return toResponse(first);
    }
    const spn = o.spn ?? `HTTP/${url.hostname}`;
    const credential = await serviceTicket(o, spn);
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
    const serverToken = offeredToken(reply.headers['www-authenticate']);
    if (reply.status === 401) {
      throw new NegotiateRefusedError(`${url.origin} refused the Kerberos ticket for ${spn} (401 after our Negotiate token)${describeRejection(serverToken)}`, {
        hint: 'the server may lack the current key of its service principal (keytab), the clocks may differ, or the name (SPN) may not be the one the server has keys for; the server\'s log says which',
        detail: { url: url.origin, spn, status: 401, serverMessage: reply.body.toString('utf8').slice(0, 300) },
      });
    }
    verifyMutualAuth(initiator, serverToken, o.requireMutualAuth ?? true, url.origin, spn);
    return toResponse(reply);
  } finally {
    agent.destroy();
  }
}

async function serviceTicket(o: NegotiateOptions, spn: string): Promise<Credential> {
  let session = o.session;
  try {
    if (session === undefined) {
      const env = o.env ?? process.env;
      const program = await clientFromEnvironment({ env, clock: o.clock ?? systemClock(), random: o.random ?? systemRandom() });
      session = await LogonSession.open({ client: program.client, source: { kind: 'ccache', ccache: program.defaultCcache } });
    }
    return await session.serviceTicket(spn);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new NegotiateCredentialsError(`no Kerberos ticket for ${spn}: ${why}`, {
      hint: 'the request was not sent without authentication; get a TGT (kinit) or pass a logon session, and check the service name',
      detail: { spn },
      cause: err,
    });
  }
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

/** The token of a `Negotiate` challenge: a Uint8Array (possibly empty for a bare challenge), or undefined without one. */
function offeredToken(header: string | string[] | undefined): Uint8Array | undefined {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  for (const v of values) {
    for (const part of v.split(',')) {
      const m = /^\s*negotiate(?:\s+([A-Za-z0-9+/=]+))?\s*$/i.exec(part);
      if (m !== null) {
        const b64 = m[1];
        if (b64 === undefined) continue;
        return new Uint8Array(Buffer.from(b64, 'base64'));
      }
    }
  }
  // A bare challenge: distinguish "offered, no token" from "not offered".
  return values.some((v) => /(^|,)\s*negotiate\s*(,|$)/i.test(v)) ? new Uint8Array(0) : undefined;
}

function headerList(h: NegotiateFetchInit['headers']): [string, string][] {
  if (h === undefined) return [];
  return Array.isArray(h) ? h.map(([n, v]) => [n, v] as [string, string]) : Object.entries(h as Record<string, string>);
}

/** Builds the Authorization header for the connection the request goes out on (its TLS bindings, if any). */
type Authorize = (bindings: ChannelBindings | undefined) => string;

function exchange(url: URL, agent: HttpAgent, secure: boolean, method: string, headers: readonly (readonly [string, string])[], body: Uint8Array | undefined, authorize?: Authorize): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
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

function toResponse(r: RawResponse): Response {
  const headers = new Headers();
  for (let i = 0; i + 1 < r.rawHeaders.length; i += 2) headers.append(r.rawHeaders[i]!, r.rawHeaders[i + 1]!);
  const nullBody = r.status === 204 || r.status === 304 || (r.status >= 100 && r.status < 200);
  return new Response(nullBody ? null : r.body, { status: r.status, statusText: r.statusText, headers });
}
