/**
 * A KerberosClient transport that calls a test realm's KDC processor
 * directly: no sockets, so a ManualClock drives client and KDC alike without
 * network timing racing it. (No tests of its own.)
 */

import type { KdcTransport } from '../client/index.js';
import type { TestRealm } from '../kdc/index.js';

export function inProcessTransport(realm: Pick<TestRealm, 'kdc'>): KdcTransport {
  return {
    async exchange(_address, protocol, request) {
      const reply = await realm.kdc.process(request, { transport: protocol, address: '127.0.0.1', port: 40000 });
      if (reply === undefined) throw new Error('the KDC sent no reply');
      return reply;
    },
  };
}
