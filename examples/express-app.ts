/**
 * An Express app whose pages need a Kerberos logon (HTTP Negotiate, RFC 4559).
 *
 *   KRB5_CONFIG=/etc/krb5.conf KEYTAB=/etc/http.keytab SERVICE=HTTP/web.example.test PORT=8080 node express-app.js
 *   kinit alice && curl --negotiate -u : http://web.example.test:8080/
 *
 * SERVICE has no realm: it takes krb5.conf's default_realm (as MIT does).
 */

import type { AddressInfo } from 'node:net';
import express from 'express';
import { negotiateExpress, negotiateServer } from 'kerbside/http';

const auth = negotiateServer({
  keytab: process.env['KEYTAB'] ?? '/etc/http.keytab',
  principal: process.env['SERVICE'] ?? 'HTTP/web.example.test',
});

const app = express();
app.get('/', negotiateExpress(auth), (req, res) => {
  // req.auth is typed (kerbside/http augments Express's Request): no cast.
  res.type('text/plain').send(`hello ${req.auth.principal}, your ticket is valid until ${req.auth.ticketEndTime.toISOString()}\n`);
});

const server = app.listen(Number(process.env['PORT'] ?? 8080), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
});
process.once('SIGTERM', () => server.close());
