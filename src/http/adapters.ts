/**
 * Thin adapters from node:http, Express and Fastify onto the core Negotiate
 * handler. Each binds handshake state to the request's socket and tells the
 * handler when the socket closes. On a TLS socket they pass the RFC 5929
 * `tls-server-end-point` channel bindings of the certificate this server
 * presented on that connection (docs/lessons.md "EPA"). The frameworks are not
 * imported: the adapters use the small structural types below.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ChannelBindings } from '../gss/index.js';
import type { NegotiateAuth, NegotiateOutcome, NegotiateServer } from './negotiate-server.js';
import { certificateBindings } from './tls-bindings.js';

/** A request after authentication: `auth` says who it is. */
export type AuthenticatedRequest = IncomingMessage & { auth: NegotiateAuth };

const watched = new WeakMap<NegotiateServer, WeakSet<Socket>>();

/** Registers the close hook once per (handler, socket). */
function bindSocket(server: NegotiateServer, socket: Socket): void {
  let set = watched.get(server);
  if (set === undefined) watched.set(server, set = new WeakSet());
  if (set.has(socket)) return;
  set.add(socket);
  socket.once('close', () => server.connectionClosed(socket));
}

// Per connection: SNI may select a different certificate for each one. null = TLS without usable bindings.
const socketBindings = new WeakMap<Socket, ChannelBindings | null>();

/** The connection's `tls-server-end-point` bindings: of the certificate this server sent on it. */
function tlsBindings(socket: TLSSocket): ChannelBindings | undefined {
  let b = socketBindings.get(socket);
  if (b === undefined) socketBindings.set(socket, b = certificateBindings(socket.getCertificate() as { raw?: Buffer } | null) ?? null);
  return b ?? undefined;
}

async function run(server: NegotiateServer, req: IncomingMessage): Promise<NegotiateOutcome> {
  const socket = req.socket;
  bindSocket(server, socket);
  const secure = (socket as Partial<TLSSocket>).encrypted === true;
  const channelBindings = secure ? tlsBindings(socket as TLSSocket) : undefined;
  return server.authenticate({
    method: req.method ?? 'GET',
    headers: req.headers,
    connection: socket,
    ...(req.url === undefined ? {} : { url: req.url }),
    secure,
    ...(channelBindings === undefined ? {} : { channelBindings }),
    ...(socket.remoteAddress === undefined ? {} : { remoteAddress: socket.remoteAddress }),
  });
}

function sendRefusal(res: ServerResponse, outcome: Extract<NegotiateOutcome, { authenticated: false }>): void {
  for (const [name, value] of outcome.headers) res.appendHeader(name, value);
  res.statusCode = outcome.status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(outcome.body);
}

function applyHeaders(res: ServerResponse, outcome: Extract<NegotiateOutcome, { authenticated: true }>): void {
  for (const [name, value] of outcome.headers) res.appendHeader(name, value);
}

/** A refused request as `negotiateListener`'s `refused` option sees it. */
export type NegotiateRefusal = Extract<NegotiateOutcome, { authenticated: false }>;

export interface NegotiateListenerOptions {
  /**
   * Writes the body of a refused request (e.g. an HTML page saying how to log on). The status and the
   * `WWW-Authenticate` headers are already set; it sets Content-Type and ends the response. Default: the
   * refusal's plain text.
   */
  readonly refused?: (req: IncomingMessage, res: ServerResponse, refusal: NegotiateRefusal) => void | Promise<void>;
}

/** node:http: wraps a request listener; it runs only for authenticated requests, with `req.auth` set. */
export function negotiateListener(
  server: NegotiateServer,
  listener: (req: AuthenticatedRequest, res: ServerResponse) => void | Promise<void>,
  options: NegotiateListenerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const refused = options.refused;
  return (req, res) => {
    run(server, req).then(async (outcome) => {
      if (!outcome.authenticated) {
        if (refused === undefined) return sendRefusal(res, outcome);
        for (const [name, value] of outcome.headers) res.appendHeader(name, value);
        res.statusCode = outcome.status;
        return refused(req, res, outcome);
      }
      applyHeaders(res, outcome);
      (req as AuthenticatedRequest).auth = outcome.auth;
      await listener(req as AuthenticatedRequest, res);
    }).catch((err: unknown) => {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      } else {
        res.destroy(err instanceof Error ? err : undefined);
      }
    });
  };
}

/** Express (4 or 5) middleware: refuses with 401, or sets `req.auth` and calls next(). */
export function negotiateExpress(server: NegotiateServer): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
  return (req, res, next) => {
    run(server, req).then((outcome) => {
      if (!outcome.authenticated) return sendRefusal(res, outcome);
      applyHeaders(res, outcome);
      (req as AuthenticatedRequest).auth = outcome.auth;
      next();
    }, next);
  };
}

/** What the Fastify plugin uses of Fastify (v4/v5). */
interface FastifyLike {
  decorateRequest(name: string, value: unknown): unknown;
  addHook(name: 'onRequest', hook: (request: { raw: IncomingMessage; auth?: NegotiateAuth }, reply: FastifyReplyLike) => Promise<unknown>): unknown;
}
interface FastifyReplyLike {
  readonly raw: ServerResponse;
  code(status: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(body: string): FastifyReplyLike;
}

export interface NegotiateFastifyOptions {
  readonly server: NegotiateServer;
}

/**
 * Fastify plugin: `app.register(negotiateFastify, { server })`. Registered
 * without encapsulation (as fastify-plugin would), so it protects the routes
 * of the instance it is registered on; `request.auth` is set.
 */
export const negotiateFastify = Object.assign(
  async function negotiateFastify(app: FastifyLike, opts: NegotiateFastifyOptions): Promise<void> {
    app.decorateRequest('auth', null);
    app.addHook('onRequest', async (request, reply) => {
      const outcome = await run(opts.server, request.raw);
      if (!outcome.authenticated) {
        reply.code(outcome.status);
        for (const [name, value] of outcome.headers) reply.header(name, value);
        reply.header('Content-Type', 'text/plain; charset=utf-8');
        return reply.send(outcome.body);
      }
      for (const [name, value] of outcome.headers) reply.header(name, value);
      request.auth = outcome.auth;
      return undefined;
    });
  },
  { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'kerbside-negotiate' },
);
