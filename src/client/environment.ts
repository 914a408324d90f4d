/**
 * The client as a program sees it: configuration from KRB5_CONFIG (else
 * /etc/krb5.conf), the cache from KRB5CCNAME (else default_ccache_name,
 * else FILE:/tmp/krb5cc_<uid>), the keytab from KRB5_KTNAME (else
 * default_keytab_name, else FILE:/etc/krb5.keytab) — MIT's rules. Used by the
 * CLIs; the environment is passed in, never read from `process`.
 */

import type { Clock } from '../core/clock.js';
import type { RandomSource } from '../core/random.js';
import type { EventSink } from '../events/index.js';
import { resolveCcacheName, resolveKeytabName } from '../files/index.js';
import { loadClientConfig, type ClientConfig } from './config.js';
import { KerberosClient } from './kerberos-client.js';
import type { KdcTransport } from './send-to-kdc.js';

export interface ProgramEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly transport?: KdcTransport;
  /** The client's event sink (KerberosClientOptions.events). */
  readonly events?: EventSink;
}

export interface ProgramClient {
  readonly client: KerberosClient;
  readonly config: ClientConfig;
  /** The default cache name (KRB5CCNAME …). */
  readonly defaultCcache: string;
  /** The default keytab name (KRB5_KTNAME …). */
  readonly defaultKeytab: string;
}

export async function clientFromEnvironment(e: ProgramEnvironment): Promise<ProgramClient> {
  const config = await loadClientConfig(undefined, { env: e.env });
  return {
    client: new KerberosClient({
      config, clock: e.clock, random: e.random, ...(e.transport !== undefined ? { transport: e.transport } : {}),
      ...(e.events !== undefined ? { events: e.events } : {}),
    }),
    config,
    defaultCcache: defaultCcacheName(config, e.env),
    defaultKeytab: defaultKeytabName(config, e.env),
  };
}

export function defaultCcacheName(config: ClientConfig | undefined, env: Readonly<Record<string, string | undefined>>): string {
  return resolveCcacheName({ env, ...(config?.defaultCcacheName !== undefined ? { configured: config.defaultCcacheName } : {}) });
}

export function defaultKeytabName(config: ClientConfig | undefined, env: Readonly<Record<string, string | undefined>>): string {
  return resolveKeytabName({ env, ...(config?.defaultKeytabName !== undefined ? { configured: config.defaultKeytabName } : {}) });
}
