import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../core/clock.js';
import { systemRandom } from '../../core/random.js';
import { TicketFlags } from '../../messages/index.js';
import { flagLetters, keytabListing, timeFormatter } from './klist.js';
import { main } from '../main.js';
import type { CliIO } from '../io.js';

test('flag letters in MIT klist order (klist.c flags_string)', () => {
  const f = TicketFlags.forwardable | TicketFlags.renewable | TicketFlags.initial | TicketFlags.preAuthent;
  assert.equal(flagLetters(f >>> 0), 'FRIA');
  assert.equal(flagLetters((TicketFlags.renewable | TicketFlags.preAuthent | TicketFlags.transitedPolicyChecked | TicketFlags.okAsDelegate) >>> 0), 'RATO');
  assert.equal(flagLetters(0), '');
});

test('times print as strftime "%x %X" in the C locale, in the time zone of TZ', () => {
  const t = Date.UTC(2026, 10, 22, 4, 32, 50);
  assert.equal(timeFormatter('UTC')(t), '11/22/26 04:32:50');
  assert.equal(timeFormatter('Europe/Berlin')(t), '11/22/26 05:32:50');
  assert.equal(timeFormatter('UTC')(Date.UTC(2027, 0, 5, 0, 0, 1)), '01/05/27 00:00:01');
});

test('keytab listing columns (MIT klist -k [-t] [-e] [-K])', () => {
  const entry = {
    principal: { realm: 'EXAMPLE.TEST', nameType: 1, components: ['HTTP', 'localhost'] },
    timestamp: new Date(Date.UTC(2026, 10, 22, 4, 32, 49)), kvno: 2, enctype: 17, key: new Uint8Array([0x8d, 0xc3]),
  };
  const fmt = timeFormatter('UTC');
  assert.deepEqual(keytabListing([entry], { timestamps: false, enctypes: false, keys: false, fmt }), [
    'KVNO Principal',
    '---- --------------------------------------------------------------------------',
    '   2 HTTP/localhost@EXAMPLE.TEST',
  ]);
  assert.deepEqual(keytabListing([entry], { timestamps: true, enctypes: true, keys: true, fmt }), [
    'KVNO Timestamp         Principal',
    '---- ----------------- --------------------------------------------------------',
    '   2 11/22/26 04:32:49 HTTP/localhost@EXAMPLE.TEST (aes128-cts-hmac-sha1-96)  (0x8dc3)',
  ]);
});

test('usage errors print the usage and exit with MIT\'s status (klist, kvno 1; kinit 2; see src/cli/usage.ts)', async () => {
  let err = '';
  const io: CliIO = {
    argv: [], env: { KRB5_CONFIG: '/nonexistent/krb5.conf' }, cwd: '/', clock: new ManualClock(), random: systemRandom(),
    out: () => {}, err: (t) => { err += t; }, readSecret: async () => '', stopSignal: new AbortController().signal,
  };
  assert.equal(await main(['klist', '-c', '-k'], io), 1);
  assert.match(err, /Usage: klist/);
  err = '';
  assert.equal(await main(['kinit', '-f', '-F', 'alice'], io), 2);
  assert.match(err, /only one of -f and -F/);
  assert.equal(await main(['kinit', '-l', '10x', 'alice'], io), 2);
  assert.equal(await main(['kvno'], io), 1);
  assert.equal(await main(['ktutil', 'frobnicate'], io), 2);
});
