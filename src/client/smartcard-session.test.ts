/**
 * A smart-card logon session (issue 10; docs/pkinit.md): the PIN is asked
 * for once, at logon, against a real SoftHSM2 token and a kerbside KDC with
 * PKINIT. Afterwards the TGT is renewed without the card (the token is even
 * removed) until renew-till; re-acquisition would need the PIN, so
 * credential.cannot_refresh_unattended ("needs a smart-card PIN") comes
 * before the TGT expires and tgt() then fails with CannotRefreshUnattendedError.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, systemClock } from '../core/clock.js';
import { systemKeyPairs } from '../core/index.js';
import { seededRandom, systemRandom } from '../core/random.js';
import { memorySink } from '../events/index.js';
import { readCcache } from '../files/index.js';
import { DEFAULT_PREAUTH, pkinitMechanism, preauthRegistry, startTestRealm } from '../kdc/index.js';
import { CannotRefreshUnattendedError } from '../lifecycle/index.js';
import { createRealmCa, issueKdcCertificate, softwareSigner } from '../pki/index.js';
import { enrolledSoftHsmCard } from '../testing/softhsm.js';
import { inProcessTransport } from '../testing/in-process-kdc.js';
import { KerberosClient, LogonSession, cachedPaType, clientConfig } from './index.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PIN = '864213';

test('smart-card session: one PIN at logon, renewals without the card, cannot_refresh_unattended before the TGT ends', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kerbside-smartcard-session-'));
  const clock = new ManualClock(systemClock().now());
  const ca = await createRealmCa({ realm: 'EXAMPLE.TEST', clock, random: systemRandom(), keys: systemKeyPairs() });
  const kdcCert = await issueKdcCertificate(ca);
  const realm = await startTestRealm({
    clock, random: seededRandom(5),
    policy: { maxLife: 10 * 3600, maxRenewableLife: 7 * 24 * 3600 },
    principals: [{ name: 'alice', password: 'alice-pw-1' }],
    preauth: preauthRegistry([...DEFAULT_PREAUTH.mechanisms, pkinitMechanism({
      signer: softwareSigner(kdcCert.certificate, kdcCert.privateKey!), anchors: [ca.certificate], random: systemRandom(),
    })]),
  });
  try {
    const { identity } = await enrolledSoftHsmCard({ dir: join(dir, 'hsm'), ca, principal: 'alice@EXAMPLE.TEST', pin: PIN });

    const client = new KerberosClient({
      config: clientConfig({ defaultRealm: realm.realm, realms: { [realm.realm]: { kdc: [realm.kdcAddress] } }, renewLifetime: 7 * DAY }),
      clock, random: seededRandom(6), transport: inProcessTransport(realm),
    });
    const sink = memorySink();
    let pins = 0;
    const ccache = `FILE:${join(dir, 'alice.cc')}`;
    const session = await LogonSession.open({
      client, principal: 'alice', ccache, sink,
      source: {
        kind: 'smartcard', identity, anchors: [ca.certificate],
        readPin: async (prompt) => { pins++; assert.match(prompt, /alice-card/); return PIN; },
      },
    });
    assert.equal(pins, 1);
    assert.equal(cachedPaType(await readCcache(ccache)), 16, 'the cache says the TGT came from PKINIT');
    const first = await session.tgt();
    const renewTill = first.renewTill!.getTime();
    // The card is removed: its token files are gone.
    await rm(join(dir, 'hsm', 'tokens'), { recursive: true, force: true });

    let failedAt: number | undefined;
    let lastEnd = first.endtime.getTime();
    for (let hour = 1; hour <= 8 * 24 && failedAt === undefined; hour++) {
      await clock.advance(HOUR);
      try {
        lastEnd = (await session.tgt()).endtime.getTime();
      } catch (err) {
        assert.ok(err instanceof CannotRefreshUnattendedError, String(err));
        assert.match(err.message, /smart-card PIN/);
        failedAt = clock.now();
      }
    }
    assert.equal(pins, 1, 'no further PIN was asked for');
    assert.ok(sink.ofType('credential.refreshed').length >= 10, 'renewed without the card');
    assert.ok(failedAt !== undefined && failedAt >= lastEnd - HOUR, 'usable until its last renewal ran out');
    assert.ok(lastEnd <= renewTill);
    const cannot = sink.ofType('credential.cannot_refresh_unattended');
    assert.equal(cannot.length, 1);
    assert.match(cannot[0]!.message + JSON.stringify(cannot[0]!.fields), /smart-card PIN/);
    assert.ok(cannot[0]!.time < lastEnd, 'announced before the TGT expired');
    await session.close();
  } finally {
    await realm.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
