/**
 * A Fastify app whose routes need a Kerberos logon (HTTP Negotiate, RFC 4559).
 *
 *   KRB5_CONFIG=/etc/krb5.conf KEYTAB=/etc/http.keytab SERVICE=HTTP/web.example.test PORT=8080 node fastify-app.js
 *   kinit alice && curl --negotiate -u : http://web.example.test:8080/
 */

import Fastify from 'fastify';
import { negotiateFastify, negotiateServer } from 'kerbside/http';

const auth = negotiateServer({
  keytab: process.env['KEYTAB'] ?? '/etc/http.keytab',
  principal: process.env['SERVICE'] ?? 'HTTP/web.example.test',
});

const app = Fastify();
// Protects every route of this instance; register it inside a plugin to protect only some.
await app.register(negotiateFastify, { server: auth });
app.get('/', async (request) => `hello ${request.auth.principal} (${request.auth.mechanism})\n`);

const address = await app.listen({ port: Number(process.env['PORT'] ?? 8080), host: '127.0.0.1' });
console.log(`listening on ${address}/`);
process.once('SIGTERM', () => void app.close());
