/**
 * The comparison Node server on MIT GSS-API through the npm `kerberos`
 * native binding (mongodb-js/kerberos), loaded from a private install
 * prefix: a new acceptor context per request, as that package's server API
 * is used (initializeServer(service) → step(token) → username/response).
 * The keytab comes from KRB5_KTNAME and MIT's replay cache is on
 * (KRB5RCACHEDIR), as for Apache.
 *
 *   node native-server.js <install-prefix> <service, e.g. HTTP@native.bench>   → prints "ready <port>"
 */

import { createRequire } from 'node:module';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

interface KerberosServer {
  step(challenge: string): Promise<void>;
  readonly contextComplete: boolean;
  readonly response: string | null;
  readonly username: string | null;
}
interface KerberosModule {
  initializeServer(service: string): Promise<KerberosServer>;
}

const [prefix, service] = process.argv.slice(2);
if (prefix === undefined || service === undefined) {
  console.error('usage: native-server <install-prefix> <service>');
  process.exit(2);
}
const kerberos = createRequire(join(prefix, 'package.json'))('kerberos') as KerberosModule;

function refuse(res: ServerResponse, why: string): void {
  res.statusCode = 401;
  res.setHeader('WWW-Authenticate', 'Negotiate');
  res.end(`${why}\n`);
}

const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const m = /^Negotiate\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (m === null) return refuse(res, 'Negotiate required');
  const token = m[1]!;
  kerberos.initializeServer(service).then(async (ctx) => {
    await ctx.step(token);
    if (!ctx.contextComplete || ctx.username === null) return refuse(res, 'handshake incomplete');
    if (ctx.response !== null && ctx.response !== '') res.setHeader('WWW-Authenticate', `Negotiate ${ctx.response}`);
    res.setHeader('Content-Type', 'text/plain');
    res.end('ok\n');
  }).catch((err: unknown) => refuse(res, err instanceof Error ? err.message : String(err)));
});
server.listen(0, '127.0.0.1', () => {
  console.log(`ready ${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
