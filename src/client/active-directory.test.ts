/**
 * kerbside's client against a real Active Directory KDC: a Samba 4.17 AD DC
 * in a network namespace (src/testing/samba-ad.ts, docs/active-directory.md).
 * - DNS SRV lookup of the KDC (dns_lookup_kdc) from the DC's own DNS server,
 *   which publishes _kerberos._udp/_tcp.AD.TEST for its domain;
 * - an enterprise name (alice@ad.test, the account's implicit UPN) answered
 *   with the canonical alice@AD.TEST (RFC 6806, MS-KILE §3.3.5.1.1);
 * - an account whose only key is RC4 (its AES keys removed, as an account
 *   whose password predates AES has) with weak crypto off at the client.
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runCliInProcess } from '../testing/kerbside-cli.js';
import { startSambaAd, type SambaAd } from '../testing/samba-ad.js';
import {
  KerberosClient, NoCommonEnctypeError, clientConfig, loadClientConfig, lookupKdcsInDns, socketTransport, type KdcTransport,
} from './index.js';
import { systemRandom } from '../core/random.js';
import { AsReq } from '../messages/index.js';

describe('client against a Samba AD DC: DNS SRV, enterprise names, RC4-only accounts', { timeout: 300_000 }, () => {
  let ad: SambaAd;
  let dns: Resolver;

  before(async () => {
    ad = await startSambaAd({
      users: [{ name: 'alice', password: 'Alice-Pass.2026!', aes: true }, { name: 'legacy', password: 'Legacy-Pass.2026!' }],
    });
    dns = new Resolver({ timeout: 3_000, tries: 2 });
    dns.setServers([ad.kdcAddress]);
  });
  after(async () => { await ad?.stop(); });

  test('dns_lookup_kdc: the DC\'s DNS gives its KDC in _kerberos._udp/_tcp.AD.TEST, and the client logs on through it', async () => {
    const kdcs = await lookupKdcsInDns(ad.realm, dns, systemRandom());
    assert.deepEqual(kdcs, [{ host: ad.dcHostname, port: 88 }]);
    // dc1.ad.test resolves only in the DC's DNS: the transport asks it for the address.
    const inner = socketTransport();
    const transport: KdcTransport = {
      exchange: async (a, p, r, s) => inner.exchange({ ...a, host: (await dns.resolve4(a.host))[0]! }, p, r, s),
    };
    const client = new KerberosClient({ config: clientConfig({ defaultRealm: ad.realm, dnsLookupKdc: true }), transport, dns });
    const { credential } = await client.getInitialCredentials({ client: 'alice', password: ad.users.get('alice')! });
    assert.deepEqual(credential.server.components, ['krbtgt', ad.realm]);
  });

  test('enterprise name alice@ad.test (the UPN): the DC answers with the canonical alice@AD.TEST', async () => {
    const client = new KerberosClient({ config: await loadClientConfig(ad.krb5ConfPath) });
    const { credential } = await client.getInitialCredentials({ client: 'alice@ad.test', enterprise: true, password: ad.users.get('alice')! });
    assert.equal(credential.client.realm, ad.realm);
    assert.deepEqual(credential.client.components, ['alice']);
  });

  test('kerbside kinit -E alice@ad.test takes the same path: the cache is alice@AD.TEST\'s', async () => {
    const cache = `FILE:${join(ad.dir, 'cc.kinit-e')}`;
    const env = { ...ad.env, KRB5CCNAME: cache };
    const k = await runCliInProcess(['kinit', '-E', 'alice@ad.test'], { env, secrets: [ad.users.get('alice')!] });
    assert.equal(k.code, 0, k.stderr);
    const l = await runCliInProcess(['klist'], { env });
    assert.match(l.stdout, /Default principal: alice@AD\.TEST/);
  });

  test('an account with only an RC4 key, weak crypto off: the error names msDS-SupportedEncryptionTypes = 0x18 and allow_weak_crypto', async (t) => {
    // Remove the account's AES keys (supplementalCredentials), leaving the NT hash (the RC4 key), as an old AD account has.
    // Samba's password_hash module refuses that through sam.ldb, so the domain partition's own file is edited.
    const dir = join(ad.dir, 'dc', 'private', 'sam.ldb.d');
    const partition = (await readdir(dir)).find((f) => /^DC=AD,DC=TEST\.ldb$/i.test(f));
    assert.ok(partition !== undefined, `no domain partition in ${dir}`);
    const ldif = `dn: CN=legacy,CN=Users,DC=ad,DC=test\nchangetype: modify\ndelete: supplementalCredentials\n`;
    const r = await ad.netnsExec('ldbmodify', ['-H', join(dir, partition)], { input: ldif });
    assert.equal(r.code, 0, `ldbmodify: ${r.stderr}${r.stdout}`);
    const inner = socketTransport();
    const sent: { padata: number; etypes: number[] }[] = [];
    const counting: KdcTransport = {
      exchange: (a, p, req, sig) => {
        const r = AsReq.decode(req);
        sent.push({ padata: r.padata?.length ?? 0, etypes: [...r.reqBody.etype] });
        return inner.exchange(a, p, req, sig);
      },
    };
    const client = new KerberosClient({ config: await loadClientConfig(ad.krb5ConfPath), transport: counting });
    assert.equal(client.config.allowWeakCrypto, false);
    await assert.rejects(client.getInitialCredentials({ client: 'legacy', password: ad.users.get('legacy')! }), (err: unknown) => {
      assert.ok(err instanceof NoCommonEnctypeError, String(err));
      assert.match(err.message, /only RC4/);
      assert.match(err.hint ?? '', /msDS-SupportedEncryptionTypes = 0x18/);
      assert.match(err.hint ?? '', /allow_weak_crypto = true/);
      return true;
    });
    // Samba's PREAUTH_REQUIRED has no PA-ETYPE-INFO2 for the AES enctypes asked, so an AES timestamp is tried and
    // refused with ETYPE_NOSUPP; the last request is the diagnostic one: rc4-hmac added, no pre-authentication.
    t.diagnostic(`requests: ${JSON.stringify(sent)}`);
    assert.deepEqual(sent.at(-1), { padata: 0, etypes: [...sent[0]!.etypes, 23] });
    assert.ok(sent.slice(0, -1).every((x) => !x.etypes.includes(23)));
    const weak = new KerberosClient({ config: clientConfig({ defaultRealm: ad.realm, realms: { [ad.realm]: { kdc: [ad.kdcAddress] } }, allowWeakCrypto: true, permittedEnctypes: [18, 17, 23] }) });
    const { credential } = await weak.getInitialCredentials({ client: 'legacy', password: ad.users.get('legacy')! });
    assert.equal(credential.client.components[0], 'legacy');
  });
});
