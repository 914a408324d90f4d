/**
 * The kerbside server under test (a child process of the bench, so its CPU
 * time can be read from /proc/<pid>/stat): node:http + negotiateListener,
 * default policy (replay cache on, channel bindings 'allow'), no session
 * cookie — every request carries a fresh AP-REQ.
 *
 *   node kerbside-server.js <keytab> <principal>   → prints "ready <port>"
 */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { negotiateListener, negotiateServer } from '../../src/http/index.js';

const [keytab, principal] = process.argv.slice(2);
if (keytab === undefined || principal === undefined) {
  console.error('usage: kerbside-server <keytab> <principal>');
  process.exit(2);
}
const negotiate = negotiateServer({ keytab, principal });
const server = createServer({ keepAliveTimeout: 60_000 }, negotiateListener(negotiate, (_req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('ok\n');
}));
server.listen(0, '127.0.0.1', () => {
  console.log(`ready ${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
