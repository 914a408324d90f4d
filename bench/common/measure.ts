/**
 * Measurement helpers shared by the benchmarks: CPU time of a server process
 * tree from /proc, latency percentiles, number formatting. Benchmarks read
 * wall-clock time directly (they live outside src/ and its injected clock).
 */

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (getconf CLK_TCK; 100 when unknown). */
export function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** user + system clock ticks of `root` and all its descendants (0 when /proc is unreadable). */
export function treeCpuTicks(root: number): number {
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // Fields after the command name (which may contain spaces): state ppid … utime(14) stime(15).
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(e), Number(f[1]));
      cpu.set(Number(e), Number(f[11]) + Number(f[12]));
    } catch {
      // The process ended meanwhile.
    }
  }
  let total = 0;
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    total += cpu.get(pid) ?? 0;
    for (const [child, p] of parent) if (p === pid) todo.push(child);
  }
  return total;
}

/** The `fraction` quantile (0.5 = median) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

export function fmt(n: number | undefined, digits: number): string {
  return n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits);
}
