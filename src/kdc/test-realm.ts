/**
 * A throwaway realm for tests (what MIT's k5test.py and Hadoop's MiniKdc give
 * people): an in-memory store, the krbtgt and any principals asked for, and a
 * KDC answering UDP and TCP on one free port of 127.0.0.1. Every time the KDC
 * uses — ticket times, skew checks, lookaside expiry, TCP idle timeouts —
 * comes from the given Clock, so a ManualClock drives the whole realm.
 *
 *   const realm = await startTestRealm({ principals: [{ name: 'alice', password: 'pw' }] });
 *   await realm.writeKrb5Conf(join(dir, 'krb5.conf'));   // for MIT tools: KRB5_CONFIG=…
 *   …
 *   await realm.stop();
 */

import { systemClock, type Clock } from '../core/clock.js';
import { utf8 } from '../core/bytes.js';
import { systemRandom, type RandomSource } from '../core/random.js';
import { generateKey } from '../crypto/index.js';
import type { EventSink } from '../events/index.js';
import { clientKrb5Conf, writeFileAtomic, type KeytabEntry, type ProfileInput } from '../files/index.js';
import { MemoryStore } from '../store/index.js';
import type { LockoutStore, PrincipalRecord, PrincipalStore } from '../store/index.js';
import {
  realmAdmin, type AddPrincipalOptions, type KeytabOptions, type RealmAdmin, type RekeyOptions,
} from './admin.js';
import type { RealmPolicyInput } from './config.js';
import { masterKeyProtector, plainKeysForTests, type KeyProtector } from './keys.js';
import type { PreauthRegistry } from './preauth.js';
import { createKdc, type Kdc } from './processor.js';
import { serveKdc, type KdcServer } from './serve.js';

export interface TestRealmPrincipal extends AddPrincipalOptions {
  /** 'alice', 'HTTP/localhost' (the realm is added) or a full name in this realm. */
  readonly name: string;
  /** Random keys instead of a password (the default when no password is given). */
  readonly randomKey?: boolean;
}

export interface TestRealmOptions {
  /** Default 'EXAMPLE.TEST'. */
  readonly realm?: string;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly principals?: readonly TestRealmPrincipal[];
  readonly policy?: RealmPolicyInput;
  /** Default: a fresh in-memory store (closed by stop()). */
  readonly store?: PrincipalStore;
  /**
   * Default: plainKeysForTests() for the own in-memory store; a throwaway
   * master key (masterKeyProtector) for a store passed in.
   */
  readonly keys?: KeyProtector;
  /** Default: the in-memory store's own lockout store; `false` turns lockout off. */
  readonly lockout?: LockoutStore | false;
  readonly events?: EventSink;
  /** Pre-authentication mechanisms (default DEFAULT_PREAUTH; PKINIT: pkinitPreauth()). */
  readonly preauth?: PreauthRegistry;
  /** Address to listen on (default '127.0.0.1'; '::1' for IPv6). */
  readonly host?: string;
}

export interface TestRealm {
  readonly realm: string;
  /** 'host:port' as krb5.conf's `kdc =` takes it ('[::1]:port' for IPv6). */
  readonly kdcAddress: string;
  readonly host: string;
  /** UDP and TCP listen on this same port. */
  readonly port: number;
  /** A krb5.conf for clients of this realm (no DNS, no reverse lookups). */
  readonly krb5Conf: string;
  /** Writes krb5Conf, with extra [libdefaults] relations (e.g. { udp_preference_limit: 1 }). */
  writeKrb5Conf(path: string, libdefaults?: ProfileInput): Promise<void>;
  /** krb5.conf text with extra [libdefaults] relations. */
  krb5ConfWith(libdefaults: ProfileInput): string;
  addPrincipal(name: string, options?: AddPrincipalOptions): Promise<PrincipalRecord>;
  setPassword(name: string, password: string, options?: RekeyOptions): Promise<PrincipalRecord>;
  randkey(name: string, options?: RekeyOptions): Promise<PrincipalRecord>;
  /** Writes the current keys of the principal(s) to a keytab file. */
  exportKeytab(principal: string | readonly string[], path: string, options?: KeytabOptions): Promise<KeytabEntry[]>;
  readonly store: PrincipalStore;
  readonly admin: RealmAdmin;
  readonly kdc: Kdc;
  readonly server: KdcServer;
  readonly clock: Clock;
  stop(): Promise<void>;
}

export async function startTestRealm(options: TestRealmOptions = {}): Promise<TestRealm> {
  const realm = options.realm ?? 'EXAMPLE.TEST';
  const clock = options.clock ?? systemClock();
  const random = options.random ?? systemRandom();
  const ownStore = options.store === undefined ? new MemoryStore({ clock }) : undefined;
  const store: PrincipalStore = options.store ?? ownStore!;
  const lockout = options.lockout === false ? undefined : options.lockout ?? ownStore?.lockout;
  const policy = options.policy ?? {};
  const keys = options.keys ?? (ownStore === undefined ? masterKeyProtector(generateKey(18, random), random) : plainKeysForTests());
  const admin = realmAdmin({ realm, store, policy, clock, random, keys });
  let server: KdcServer | undefined;
  try {
    await admin.createRealm();
    for (const { name, randomKey, ...rest } of options.principals ?? []) {
      const { password, ...settings } = rest;
      await admin.addPrincipal(name, randomKey === true || password === undefined ? settings : { ...settings, password });
    }
    const kdc = createKdc({
      realm, store, clock, random, policy, keys,
      ...(lockout === undefined ? {} : { lockout }),
      ...(options.events === undefined ? {} : { events: options.events }),
      ...(options.preauth === undefined ? {} : { preauth: options.preauth }),
    });
    const host = options.host ?? '127.0.0.1';
    server = await serveKdc(kdc, { listen: [{ host, port: 0 }], clock });
    const port = server.addresses[0]!.port;
    const kdcAddress = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const confWith = (libdefaults: ProfileInput): string =>
      clientKrb5Conf({ realm, kdc: kdcAddress, libdefaults: { forwardable: true, ...libdefaults } });
    const krb5Conf = confWith({});
    const running = server;
    let stopped: Promise<void> | undefined;
    return {
      realm, kdcAddress, host, port, krb5Conf, store, admin, kdc, server: running, clock,
      krb5ConfWith: confWith,
      writeKrb5Conf: (path, libdefaults = {}) => writeFileAtomic(path, utf8(confWith(libdefaults)), 'krb5.conf', 0o644),
      addPrincipal: (name, opts) => admin.addPrincipal(name, opts),
      setPassword: (name, password, opts) => admin.setPassword(name, password, opts),
      randkey: (name, opts) => admin.randkey(name, opts),
      exportKeytab: (principal, path, opts) => admin.exportKeytab(principal, path, opts),
      stop() {
        stopped ??= (async () => {
          await running.close();
          await kdc.settled();
          await ownStore?.close();
        })();
        return stopped;
      },
    };
  } catch (err) {
    await server?.close();
    await ownStore?.close();
    throw err;
  }
}
