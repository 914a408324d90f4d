/**
 * DNS SRV lookup of KDCs (dns_lookup_kdc; RFC 4120 §7.2.3.2, RFC 2782 usage
 * rules) with a fake resolver in-process; the lookup against a real DNS
 * server (the Samba AD DC's, which publishes these records) is in
 * src/client/active-directory.test.ts.
 */

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom, systemRandom, type RandomSource } from '../core/random.js';
import { Krb5Config } from '../files/index.js';
import { startTestRealm, type TestRealm } from '../kdc/index.js';
import {
  KerberosClient, clientConfig, clientConfigFromKrb5, lookupKdcsInDns, orderSrvRecords, NoKdcConfiguredError,
  type KdcAddress, type KdcProtocol, type KdcTransport, type SrvRecord, type SrvResolver,
} from './index.js';
import { inProcessTransport } from '../testing/in-process-kdc.js';

const realms: TestRealm[] = [];
after(async () => { for (const r of realms) await r.stop(); });

function fakeDns(zone: Record<string, SrvRecord[]>, asked: string[] = []): SrvResolver {
  return {
    resolveSrv: (name) => {
      asked.push(name);
      const r = zone[name];
      return r === undefined ? Promise.reject(Object.assign(new Error(`queryServ ENOTFOUND ${name}`), { code: 'ENOTFOUND' })) : Promise.resolve(r);
    },
  };
}

/** A RandomSource whose int() returns the given values in turn. */
function scripted(values: number[]): RandomSource {
  const base = seededRandom(1);
  return { bytes: (n) => base.bytes(n), int: () => values.shift() ?? 0 };
}

const srv = (name: string, priority: number, weight: number, port = 88): SrvRecord => ({ name, port, priority, weight });

test('RFC 2782: lower priority first; "." is dropped; within a priority the pick follows the running weight sums', () => {
  const records = [srv('c', 20, 0), srv('a', 10, 60), srv('b', 10, 40), srv('.', 0, 0)];
  // Weights a=60, b=40 (total 100): 0..59 picks a, 60..99 picks b.
  assert.deepEqual(orderSrvRecords(records, scripted([60, 0])).map((r) => r.name), ['b', 'a', 'c']);
  assert.deepEqual(orderSrvRecords(records, scripted([59, 0])).map((r) => r.name), ['a', 'b', 'c']);
  // Weight-0 records come after the weighted ones of their priority, in DNS order.
  const zero = [srv('zero1', 1, 0), srv('heavy', 1, 10), srv('zero2', 1, 0)];
  assert.deepEqual(orderSrvRecords(zero, scripted([0])).map((r) => r.name), ['heavy', 'zero1', 'zero2']);
});

test('RFC 2782: over many draws, a weight-3 target comes first about three times as often as a weight-1 one', () => {
  const random = seededRandom(42);
  let first = 0;
  for (let i = 0; i < 4000; i++) if (orderSrvRecords([srv('w1', 0, 1), srv('w3', 0, 3)], random)[0]!.name === 'w3') first++;
  assert.ok(first > 2800 && first < 3200, `w3 first ${first} of 4000`);
});

test('_kerberos._udp and _kerberos._tcp: a target in both takes either transport, the others are pinned; failures are empty', async () => {
  const asked: string[] = [];
  const dns = fakeDns({
    '_kerberos._udp.AD.TEST.': [srv('dc2.ad.test.', 10, 0), srv('dc1.ad.test.', 0, 100), srv('udponly.ad.test.', 10, 0, 8888)],
    '_kerberos._tcp.AD.TEST.': [srv('dc1.ad.test.', 0, 100), srv('dc2.ad.test.', 10, 0), srv('tcponly.ad.test.', 5, 0)],
  }, asked);
  const kdcs = await lookupKdcsInDns('AD.TEST', dns, seededRandom(3));
  assert.deepEqual(asked.sort(), ['_kerberos._tcp.AD.TEST.', '_kerberos._udp.AD.TEST.']);
  const want: KdcAddress[] = [
    { host: 'dc1.ad.test', port: 88 },
    { host: 'dc2.ad.test', port: 88 },
    { host: 'udponly.ad.test', port: 8888, protocol: 'udp' },
    { host: 'tcponly.ad.test', port: 88, protocol: 'tcp' },
  ];
  // dc2 and udponly share priority 10 with weight 0: their order is random; compare as sets after dc1.
  assert.deepEqual(kdcs[0], want[0]);
  assert.deepEqual(new Set(kdcs.slice(1, 3).map((k) => JSON.stringify(k))), new Set([want[1], want[2]].map((k) => JSON.stringify(k))));
  assert.deepEqual(kdcs[3], want[3]);
  assert.deepEqual(await lookupKdcsInDns('NONE.TEST', dns, seededRandom(3)), []);
});

test('the client asks DNS only when the realm lists no kdc and dns_lookup_kdc is on, and sends to what DNS gave', async () => {
  const realm = await startTestRealm({ principals: [{ name: 'alice', password: 'alice-pw' }] });
  realms.push(realm);
  const inner = inProcessTransport(realm);
  const sentTo: string[] = [];
  const transport: KdcTransport = {
    exchange: (a: KdcAddress, p: KdcProtocol, r, s) => { sentTo.push(`${p}/${a.host}:${a.port}`); return inner.exchange(a, p, r, s); },
  };
  const asked: string[] = [];
  const dns = fakeDns({ '_kerberos._udp.EXAMPLE.TEST.': [srv('kdc1.example.test.', 0, 0, 1088)], '_kerberos._tcp.EXAMPLE.TEST.': [srv('kdc1.example.test.', 0, 0, 1088)] }, asked);

  // krb5.conf without kdc and without dns_lookup_kdc: MIT's default (true) applies.
  const conf = await Krb5Config.parse('[libdefaults]\n default_realm = EXAMPLE.TEST\n');
  const config = clientConfigFromKrb5(conf);
  assert.equal(config.dnsLookupKdc, true);
  const client = new KerberosClient({ config, clock: realm.clock, random: systemRandom(), transport, dns });
  const { credential } = await client.getInitialCredentials({ client: 'alice', password: 'alice-pw' });
  assert.equal(credential.client.realm, 'EXAMPLE.TEST');
  assert.ok(sentTo.length > 0 && sentTo.every((t) => t === 'udp/kdc1.example.test:1088'), sentTo.join(', '));
  assert.ok(asked.length > 0);

  // A listed kdc wins: DNS is not asked.
  asked.length = 0;
  const listed = new KerberosClient({
    config: clientConfig({ defaultRealm: 'EXAMPLE.TEST', dnsLookupKdc: true, realms: { 'EXAMPLE.TEST': { kdc: [realm.kdcAddress] } } }),
    clock: realm.clock, random: systemRandom(), transport: inner, dns,
  });
  await listed.getInitialCredentials({ client: 'alice', password: 'alice-pw' });
  assert.deepEqual(asked, []);

  // dns_lookup_kdc = false: no query, the configuration error.
  const off = new KerberosClient({
    config: clientConfigFromKrb5(await Krb5Config.parse('[libdefaults]\n default_realm = EXAMPLE.TEST\n dns_lookup_kdc = false\n')),
    clock: realm.clock, random: systemRandom(), transport: inner, dns,
  });
  await assert.rejects(off.getInitialCredentials({ client: 'alice', password: 'alice-pw' }), NoKdcConfiguredError);
  assert.deepEqual(asked, []);

  // On, but DNS has nothing: the error names the records it looked for.
  const none = new KerberosClient({
    config: clientConfig({ defaultRealm: 'OTHER.TEST', dnsLookupKdc: true }), clock: realm.clock, random: systemRandom(), transport: inner, dns,
  });
  await assert.rejects(none.getInitialCredentials({ client: 'alice', password: 'alice-pw' }),
    (err: unknown) => err instanceof NoKdcConfiguredError && /_kerberos\._udp\.OTHER\.TEST/.test(err.message) && /SRV/.test(err.hint ?? ''));
});
