/**
 * tshark captures of loopback for the Wireshark tests: start one on a port,
 * stop it once every packet is on disk. (No tests of its own.)
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { systemClock } from '../core/clock.js';

/** Starts a capture of the KDC's port on loopback; resolves once tshark captures. */
export async function startCapture(tshark: string, port: number, file: string): Promise<ChildProcess> {
  const child = spawn(tshark, ['-i', 'lo', '-f', `port ${port}`, '-w', file, '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.includes('Capture started')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`tshark exited (${code}) before capturing: ${stderr}\n` +
      'Capturing on loopback needs root or the wireshark group (dumpcap capabilities).')));
  });
  return child;
}

export async function stopCapture(child: ChildProcess): Promise<void> {
  // dumpcap hands packets to the file asynchronously; a stop right after the
  // last exchange can lose them.
  await systemClock().sleep(1000);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
}

