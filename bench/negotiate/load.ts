/**
 * The Negotiate load generator: N workers, each with its own keep-alive
 * connection, send one `GET` at a time with `Authorization: Negotiate` and a
 * fresh SPNEGO token (kerbside's SpnegoInitiator over a service ticket got
 * once: a new authenticator, hence a new AP-REQ, per request) and expect 200.
 * The mutual-authentication reply is not verified (client cost only).
 *
 * Server CPU is read from /proc/<pid>/stat for the server's whole process
 * tree (Apache's workers are children of its main process).
 */

import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Credential } from '../../src/files/index.js';
import { SpnegoInitiator } from '../../src/gss/index.js';
import { percentile, treeCpuTicks } from '../common/measure.js';

export interface NegotiateTarget {
  readonly name: string;
  readonly port: number;
  readonly path: string;
  /** A service ticket for the target's HTTP/ principal. */
  readonly ticket: Credential;
  /** Root of the server's process tree, for CPU time per authentication. */
  readonly pid?: number;
}

export interface LoadOptions {
  readonly workers: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** getconf CLK_TCK. */
  readonly ticksPerSecond: number;
}

export interface LoadResult {
  readonly target: string;
  readonly workers: number;
  readonly auths: number;
  readonly errors: number;
  readonly errorKinds: Readonly<Record<string, number>>;
  readonly seconds: number;
  readonly p50ms: number;
  readonly p99ms: number;
  /** Server CPU (user + system, whole process tree) per successful authentication, µs. */
  readonly serverCpuUsPerAuth: number | undefined;
  /** The load generator's own CPU use (token making included), as a share of one core. */
  readonly clientCpuShare: number;
}

const TIMEOUT_MS = 5_000;

/** A fresh `Negotiate <base64>` header: new authenticator, new AP-REQ. */
export function negotiateHeader(ticket: Credential): string {
  const token = new SpnegoInitiator({ krb5: { credential: ticket } }).initSecContext().output;
  if (token === undefined) throw new Error('the SPNEGO initiator produced no token');
  return `Negotiate ${Buffer.from(token).toString('base64')}`;
}

function get(agent: Agent, port: number, path: string, authorization: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { authorization }, timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

interface Phase {
  auths: number;
  errors: number;
  readonly errorKinds: Record<string, number>;
  readonly latencies: number[];
}

async function phase(target: NegotiateTarget, workers: number, seconds: number): Promise<Phase> {
  const out: Phase = { auths: 0, errors: 0, errorKinds: {}, latencies: [] };
  const deadline = performance.now() + seconds * 1000;
  const worker = async (): Promise<void> => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      while (performance.now() < deadline) {
        const header = negotiateHeader(target.ticket);
        const t0 = performance.now();
        let kind: string | undefined;
        try {
          const status = await get(agent, target.port, target.path, header);
          if (status !== 200) kind = `HTTP ${status}`;
        } catch (err) {
          kind = err instanceof Error ? err.message : String(err);
        }
        out.latencies.push(performance.now() - t0);
        if (kind === undefined) {
          out.auths++;
        } else {
          out.errors++;
          out.errorKinds[kind] = (out.errorKinds[kind] ?? 0) + 1;
        }
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return out;
}

export async function runLoad(target: NegotiateTarget, o: LoadOptions): Promise<LoadResult> {
  if (o.warmupSeconds > 0) await phase(target, o.workers, o.warmupSeconds);
  const cpu0 = target.pid === undefined ? 0 : treeCpuTicks(target.pid);
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await phase(target, o.workers, o.seconds);
  const elapsed = (performance.now() - t0) / 1000;
  const own = process.cpuUsage(own0);
  const cpu1 = target.pid === undefined ? 0 : treeCpuTicks(target.pid);
  const sorted = r.latencies.sort((a, b) => a - b);
  return {
    target: target.name, workers: o.workers, auths: r.auths, errors: r.errors, errorKinds: r.errorKinds, seconds: elapsed,
    p50ms: percentile(sorted, 0.5), p99ms: percentile(sorted, 0.99),
    serverCpuUsPerAuth: target.pid === undefined || r.auths === 0 || cpu1 === 0
      ? undefined : ((cpu1 - cpu0) / o.ticksPerSecond) * 1e6 / r.auths,
    clientCpuShare: (own.user + own.system) / 1e6 / elapsed,
  };
}
