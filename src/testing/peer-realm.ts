/**
 * One shape for "a realm that command-line tools can log on to", whichever KDC
 * serves it: MIT's krb5kdc (startMitRealm) or kerbside's own (startTestRealm).
 * Client tests run the same cases against both, as the client issue asks.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestRealm } from '../kdc/index.js';
import { startMitRealm } from './mit-realm.js';
import { baseEnvironment, runProgram, type RunResult } from './mit-tools.js';

export interface PeerPrincipal {
  readonly name: string;
  /** A random key when absent. */
  readonly password?: string;
  /** Default true, as in both KDCs' secure defaults for users. */
  readonly requiresPreauth?: boolean;
}

export interface PeerRealmOptions {
  readonly principals: readonly PeerPrincipal[];
  /** Seconds. */
  readonly maxLife?: number;
  /** Seconds. */
  readonly maxRenewableLife?: number;
}

export interface PeerRealm {
  /** Which KDC serves the realm, for test names. */
  readonly kdc: 'MIT krb5kdc' | 'kerbside KDC';
  readonly realm: string;
  readonly dir: string;
  /** The private environment programs of this realm run with (KRB5_CONFIG, KRB5CCNAME …). */
  readonly env: Readonly<Record<string, string>>;
  exportKeytab(principal: string, path: string): Promise<void>;
  run(cmd: string, args: readonly string[], options?: { input?: string; env?: Readonly<Record<string, string>> }): Promise<RunResult>;
  stop(): Promise<void>;
}

export type PeerRealmFactory = (options: PeerRealmOptions) => Promise<PeerRealm>;

export const startMitPeerRealm: PeerRealmFactory = async (options) => {
  const realm = await startMitRealm({
    maxLife: `${options.maxLife ?? 36_000}s`,
    maxRenewableLife: `${options.maxRenewableLife ?? 604_800}s`,
    principals: options.principals.map((p) => ({
      name: p.name,
      ...(p.password === undefined ? { randkey: true } : { password: p.password }),
      ...(p.requiresPreauth === false ? {} : { attrs: ['+requires_preauth'] }),
    })),
  });
  return {
    kdc: 'MIT krb5kdc',
    realm: realm.realm,
    dir: realm.dir,
    env: realm.env,
    exportKeytab: (principal, path) => realm.exportKeytab(principal, path),
    run: (cmd, args, o) => realm.run(cmd, args, o),
    stop: () => realm.stop(),
  };
};

export const startKerbsidePeerRealm: PeerRealmFactory = async (options) => {
  const dir = await mkdtemp(join(tmpdir(), 'kerbside-realm-'));
  const realm = await startTestRealm({
    policy: { maxLife: options.maxLife ?? 36_000, maxRenewableLife: options.maxRenewableLife ?? 604_800 },
    principals: options.principals.map((p) => ({
      name: p.name,
      ...(p.password === undefined ? { randomKey: true } : { password: p.password }),
      requiresPreauth: p.requiresPreauth ?? true,
    })),
  });
  const krb5ConfPath = join(dir, 'krb5.conf');
  await realm.writeKrb5Conf(krb5ConfPath);
  const env: Record<string, string> = {
    ...baseEnvironment(),
    HOME: dir,
    KRB5_CONFIG: krb5ConfPath,
    KRB5CCNAME: `FILE:${join(dir, 'ccache')}`,
    KRB5_KTNAME: `FILE:${join(dir, 'keytab')}`,
  };
  return {
    kdc: 'kerbside KDC',
    realm: realm.realm,
    dir,
    env,
    exportKeytab: async (principal, path) => { await realm.exportKeytab(principal, path); },
    run: (cmd, args, o = {}) => runProgram(cmd, args, {
      env: { ...env, ...(o.env ?? {}) }, cwd: dir, ...(o.input === undefined ? {} : { input: o.input }),
    }),
    async stop() {
      await realm.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
};

/** Both KDCs, for `for (const start of PEER_REALMS) describe(…)`. */
export const PEER_REALMS: ReadonlyArray<readonly [name: PeerRealm['kdc'], start: PeerRealmFactory]> = Object.freeze([
  ['MIT krb5kdc', startMitPeerRealm],
  ['kerbside KDC', startKerbsidePeerRealm],
] as const);
