/**
 * Finding a realm's KDCs in DNS (MIT krb5.conf(5) `dns_lookup_kdc`; RFC 4120
 * §7.2.3.2): SRV records `_kerberos._udp.REALM.` and `_kerberos._tcp.REALM.`
 * (which Active Directory publishes for every domain), ordered as RFC 2782
 * says: lowest priority first, and within one priority a weighted random
 * order. The resolver is injected (tests pass a fake); `dnsSrvResolver()`
 * is the node:dns one.
 */

import { Resolver } from 'node:dns/promises';
import type { RandomSource } from '../core/random.js';
import type { KdcAddress } from './kdc-address.js';

/** One SRV record, as node:dns `resolveSrv` returns it. */
export interface SrvRecord {
  readonly name: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

/** What the KDC lookup needs from a DNS resolver (node:dns/promises `Resolver` has it). */
export interface SrvResolver {
  resolveSrv(name: string): Promise<SrvRecord[]>;
}

/** node:dns with a short timeout: a realm without records must not hold a kinit for long. */
export function dnsSrvResolver(options: { readonly timeoutMs?: number; readonly tries?: number } = {}): SrvResolver {
  return new Resolver({ timeout: options.timeoutMs ?? 2_000, tries: options.tries ?? 2 });
}

/**
 * RFC 2782 "Usage rules": sort by priority; within a priority, repeatedly
 * pick a record with probability proportional to its weight. The RFC's
 * literal recipe (a number in [0, sum] inclusive, weight-0 records first)
 * favours the first record; a number in [0, sum) and "first running sum
 * above it" is exactly proportional, and weight-0 records come after the
 * weighted ones, in DNS order. A lone target "." means the service is
 * decidedly not available.
 */
export function orderSrvRecords(records: readonly SrvRecord[], random: RandomSource): SrvRecord[] {
  const usable = records.filter((r) => r.name !== '' && r.name !== '.');
  const priorities = [...new Set(usable.map((r) => r.priority))].sort((a, b) => a - b);
  const out: SrvRecord[] = [];
  for (const p of priorities) {
    const group = usable.filter((r) => r.priority === p);
    for (;;) {
      const total = group.reduce((s, r) => s + r.weight, 0);
      if (total === 0) break;
      const pick = random.int(total);
      let sum = 0;
      const index = group.findIndex((r) => (sum += r.weight) > pick);
      out.push(group.splice(index, 1)[0]!);
    }
    out.push(...group);
  }
  return out;
}

function hostOf(record: SrvRecord): string {
  return record.name.endsWith('.') ? record.name.slice(0, -1) : record.name;
}

/**
 * The KDCs of `realm` from its SRV records: the UDP records in RFC 2782 order,
 * then the TCP-only ones. A target listed for both is tried with either
 * transport (udp_preference_limit decides); one listed only for UDP or only
 * for TCP is pinned to it. A failed query (NXDOMAIN, no answer, timeout) is
 * an empty list, as MIT treats it.
 */
export async function lookupKdcsInDns(realm: string, resolver: SrvResolver, random: RandomSource): Promise<KdcAddress[]> {
  const query = async (proto: 'udp' | 'tcp'): Promise<SrvRecord[]> => {
    try {
      return orderSrvRecords(await resolver.resolveSrv(`_kerberos._${proto}.${realm}.`), random);
    } catch {
      return [];
    }
  };
  const [udp, tcp] = await Promise.all([query('udp'), query('tcp')]);
  const key = (r: SrvRecord): string => `${hostOf(r).toLowerCase()}:${r.port}`;
  const tcpKeys = new Set(tcp.map(key));
  const udpKeys = new Set(udp.map(key));
  const seen = new Set<string>();
  const out: KdcAddress[] = [];
  for (const r of udp) {
    if (seen.has(key(r))) continue;
    seen.add(key(r));
    out.push(tcpKeys.has(key(r)) ? { host: hostOf(r), port: r.port } : { host: hostOf(r), port: r.port, protocol: 'udp' });
  }
  for (const r of tcp) {
    if (udpKeys.has(key(r)) || seen.has(key(r))) continue;
    seen.add(key(r));
    out.push({ host: hostOf(r), port: r.port, protocol: 'tcp' });
  }
  return out;
}
