import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { freeLoopbackPort } from './mit-realm.js';
import { parseKlistCache, parseKlistKeytab, requireTool } from './mit-tools.js';

test('a missing peer program fails with the Debian package to install', () => {
  assert.throws(() => requireTool('kerbside-no-such-tool', 'krb5-user'),
    /^Error: kerbside-no-such-tool not found: install Debian package krb5-user — \.ci\/install-peers does this$/);
  assert.match(requireTool('klist', 'krb5-user'), /\/klist$/);
});

test('freeLoopbackPort returns a port that can be bound on 127.0.0.1', async () => {
  const port = await freeLoopbackPort();
  const server = createServer();
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
  await new Promise<void>((resolve) => { server.close(() => resolve()); });
});

test('klist output parsers (MIT 1.20, C locale)', () => {
  const kt = parseKlistKeytab([
    'Keytab name: FILE:t1.kt',
    'KVNO Timestamp         Principal',
    '---- ----------------- --------------------------------------------------------',
    '   1 11/22/26 04:23:08 HTTP/host@EXAMPLE.TEST (aes128-cts-hmac-sha1-96)  (0x8030db0b49dd3fb66d2af4f4fcb76708)',
    ' 300 11/22/26 04:23:08 HTTP/host@EXAMPLE.TEST (aes128-cts-hmac-sha1-96)  (0x8030db0b49dd3fb66d2af4f4fcb76708)',
  ].join('\n'));
  assert.deepEqual(kt.map((e) => e.kvno), [1, 300]);
  assert.equal(kt[0]!.keyHex, '8030db0b49dd3fb66d2af4f4fcb76708');

  const cc = parseKlistCache([
    'Ticket cache: FILE:/tmp/cc',
    'Default principal: user@EXAMPLE.TEST',
    '',
    'Valid starting     Expires            Service principal',
    'config: fast_avail(krbtgt/EXAMPLE.TEST@EXAMPLE.TEST) = yes',
    '11/22/26 04:25:45  11/22/26 14:25:45  krbtgt/EXAMPLE.TEST@EXAMPLE.TEST',
    '\trenew until 11/23/26 04:25:45, Flags: RI',
    '\tEtype (skey, tkt): aes256-cts-hmac-sha1-96, aes128-cts-hmac-sha1-96 ',
    '11/22/26 04:25:45  11/22/26 14:25:45  HTTP/x@EXAMPLE.TEST',
    '\tFlags: A, Etype (skey, tkt): aes256-cts-hmac-sha1-96, aes256-cts-hmac-sha1-96 ',
  ].join('\n'));
  assert.equal(cc.defaultPrincipal, 'user@EXAMPLE.TEST');
  assert.deepEqual(cc.config, ['config: fast_avail(krbtgt/EXAMPLE.TEST@EXAMPLE.TEST) = yes']);
  assert.deepEqual(cc.credentials, [
    { start: '11/22/26 04:25:45', expires: '11/22/26 14:25:45', service: 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST', renewUntil: '11/23/26 04:25:45', flags: 'RI', sessionEnctype: 'aes256-cts-hmac-sha1-96', ticketEnctype: 'aes128-cts-hmac-sha1-96' },
    { start: '11/22/26 04:25:45', expires: '11/22/26 14:25:45', service: 'HTTP/x@EXAMPLE.TEST', flags: 'A', sessionEnctype: 'aes256-cts-hmac-sha1-96', ticketEnctype: 'aes256-cts-hmac-sha1-96' },
  ]);
});
