/**
 * Issue 8 item 8 against a real `kerbside kdc`: 2,000 malformed AS-REQ
 * datagrams from one address give at most the burst (10) warning lines and
 * one summary line with the exact count, while every request is still logged
 * and answered (docs/events.md "Rate limiting"). Before the fix: 2,000 lines.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../core/clock.js';
import { ErrorCode } from '../messages/index.js';
import { asReq, expectError } from '../testing/kdc-client.js';
import { UdpClient } from '../testing/kdc-sockets.js';
import { runCliInProcess, spawnCli } from '../testing/kerbside-cli.js';

const REALM = 'EXAMPLE.TEST';

test('kerbside kdc: 2,000 malformed datagrams from one address log 10 lines and one summary with the count', { timeout: 60_000 }, async () => {
  const work = await mkdtemp(join(tmpdir(), 'kerbside-lograte-'));
  const dir = join(work, 'realm');
  const init = await runCliInProcess(['realm', 'init', '--realm', REALM, '--dir', dir, '--admin-password', 'admin-pw']);
  assert.equal(init.code, 0, init.stderr);
  const kdc = spawnCli(['kdc', '--dir', dir, '--listen', '127.0.0.1:0']);
  try {
    const port = Number((await kdc.waitFor(/ready on udp 127\.0\.0\.1:(\d+)/))[1]);
    const udp = new UdpClient('127.0.0.1', port, '127.0.0.1');
    // AS-REQ tag, then a body that does not decode: a malformed request, which gets no reply.
    const malformed = new Uint8Array([0x6a, 0x03, 0x02, 0x01, 0x05]);
    let nonce = 1;
    for (let batch = 0; batch < 20; batch++) {
      for (let i = 0; i < 100; i++) await udp.send(malformed);
      // Replies come in order and garbage gets none: this reply proves the batch was read.
      const reply = expectError(await udp.exchange(asReq({ client: `admin`, nonce: nonce++, till: systemClock().now() + 3_600_000 })));
      assert.equal(reply.errorCode, ErrorCode.KDC_ERR_PREAUTH_REQUIRED);
    }
    udp.close();
    const stopped = await kdc.stop('SIGTERM');
    assert.equal(stopped.code, 0, kdc.stderr());
    const lines = kdc.stderr().split('\n');
    const warnings = lines.filter((l) => /kdc\.request: request dropped: malformed AS-REQ/.test(l));
    assert.equal(warnings.length, 10, `the burst, then silence:\n${warnings.join('\n')}`);
    const summaries = lines.filter((l) => /events\.suppressed/.test(l));
    assert.equal(summaries.length, 1, kdc.stderr().slice(-2000));
    assert.match(summaries[0]!, /warning events\.suppressed: 1,990 more malformed requests from 127\.0\.0\.1 in the last \d+ s$/);
    // Routine lines are not limited: all 20 PREAUTH_REQUIRED rounds are in the log.
    assert.equal(lines.filter((l) => /^\S+ AS client=admin@EXAMPLE\.TEST .*result=KDC_ERR_PREAUTH_REQUIRED/.test(l)).length, 20);
    assert.ok(lines.length < 100, `bounded log: ${lines.length} lines`);
  } finally {
    await kdc.stop('SIGKILL');
    await rm(work, { recursive: true, force: true });
  }
});
