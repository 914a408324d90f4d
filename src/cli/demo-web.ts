/**
 * The protected web page of `kerbside start`: node:http behind
 * negotiateListener (docs/http.md), on 127.0.0.1, answering for
 * HTTP/localhost from the demo keytab. A logged-on client is greeted with its
 * principal and the ticket's details; a client without a ticket gets a 401
 * page that says how to log on (the commands `start` prints).
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gssFlagNames } from '../gss/index.js';
import { negotiateListener, negotiateServer, type AuthenticatedRequest, type NegotiateRefusal } from '../http/index.js';
import { KdcListenError } from './errors.js';
import type { CliIO } from './io.js';

/** The first port tried; when it is busy, the next ones up to DEMO_WEB_PORT + 19, then any free port. */
export const DEMO_WEB_PORT = 8080;
const PORT_TRIES = 20;

export interface DemoWebOptions {
  readonly keytab: string;
  /** 'HTTP/localhost@DEMO.TEST'. */
  readonly principal: string;
  /** The port to insist on (0: any free port); absent: DEMO_WEB_PORT or the next free one. */
  readonly port?: number;
  /** The log-on commands for the page at `url`, shown on the 401 page (plain text lines). */
  readonly instructions: (url: string) => readonly string[];
}

export interface RunningDemoWeb {
  readonly port: number;
  /** 'http://localhost:8080/'. */
  readonly url: string;
  stop(): Promise<void>;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Browsers get HTML; curl and other clients (Accept: *\/*) get plain text they can read in a terminal. */
function wantsHtml(req: IncomingMessage): boolean {
  return /\btext\/html\b/.test(req.headers.accept ?? '');
}

function details(req: AuthenticatedRequest, now: number): [string, string][] {
  const a = req.auth;
  const left = Math.max(0, Math.round((a.ticketEndTime.getTime() - now) / 60_000));
  return [
    ['principal', a.principal],
    ['realm', a.realm],
    ['mechanism', a.mechanism],
    ['flags', `${gssFlagNames(a.flags).join(' ') || '(none)'} (0x${a.flags.toString(16)})`],
    ['ticketEndTime', `${a.ticketEndTime.toISOString()} (in ${left} min)`],
    ['service', a.service],
    ['via', a.via],
  ];
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
th{text-align:left;padding-right:1.5rem}td,th{padding:.2rem 0}code,pre{background:#f3f3f3;padding:.1rem .3rem}
pre{padding:.6rem;overflow-x:auto}</style></head>
<body>${body}</body></html>
`;
}

function greet(req: AuthenticatedRequest, res: ServerResponse, now: number): void {
  const rows = details(req, now);
  const greeting = `Hello, ${req.auth.principal}!`;
  res.setHeader('Cache-Control', 'no-store');
  if (!wantsHtml(req)) {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(`${greeting}\nYou are logged on with Kerberos; this page is protected by kerbside.\n\n${rows.map(([k, v]) => `  ${k.padEnd(14)} ${v}`).join('\n')}\n`);
    return;
  }
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(page(greeting, `<h1>${escapeHtml(greeting)}</h1>
<p>You are logged on with Kerberos; this page is protected by kerbside (<code>negotiateListener</code>).</p>
<table>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`));
}

function refusedPage(instructions: () => readonly string[]): (req: IncomingMessage, res: ServerResponse, refusal: NegotiateRefusal) => void {
  return (req, res, refusal) => {
    res.setHeader('Cache-Control', 'no-store');
    const title = 'Log on with Kerberos to see this page';
    const lines = instructions();
    if (!wantsHtml(req)) {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(`${title}.\n${refusal.body.trim()}\n\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
      return;
    }
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(page(title, `<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(refusal.body)}</p>
<pre>${lines.map(escapeHtml).join('\n')}</pre>`));
  };
}

function listenOn(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => { server.off('listening', onListening); reject(err); };
    const onListening = (): void => { server.off('error', onError); resolve((server.address() as AddressInfo).port); };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, '127.0.0.1');
  });
}

function listenError(port: number, err: unknown): KdcListenError {
  const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
  return new KdcListenError(`the demo web page cannot listen on 127.0.0.1:${port} (${code})`, {
    detail: { errno: code }, cause: err,
    ...(code === 'EADDRINUSE' ? { hint: `another program holds port ${port}; pick another with --web-port N (0: any free port)` } : {}),
  });
}

/** Serves the demo page on 127.0.0.1 until `stop()`. */
export async function startDemoWeb(io: CliIO, options: DemoWebOptions): Promise<RunningDemoWeb> {
  const negotiate = negotiateServer({ keytab: options.keytab, principal: options.principal, clock: io.clock, random: io.random });
  await negotiate.ready();
  const server = createServer(negotiateListener(negotiate, (req, res) => greet(req, res, io.clock.now()), {
    refused: refusedPage(() => options.instructions(url)),
  }));
  let url = '';
  let port: number | undefined;
  const candidates = options.port !== undefined ? [options.port] : [...Array.from({ length: PORT_TRIES }, (_, i) => DEMO_WEB_PORT + i), 0];
  for (const candidate of candidates) {
    try {
      port = await listenOn(server, candidate);
      break;
    } catch (err) {
      const last = candidate === candidates[candidates.length - 1];
      if (last || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw listenError(candidate, err);
    }
  }
  const bound = port!;
  url = `http://localhost:${bound}/`;
  return {
    port: bound,
    url,
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
