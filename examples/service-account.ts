/**
 * A service account calling a Kerberos-protected API: its own logon from a
 * keytab (a LogonSession keeps the TGT and service tickets fresh), and
 * negotiateFetch to send the request.
 *
 *   KRB5_CONFIG=/etc/krb5.conf CLIENT_KEYTAB=/etc/svc-report.keytab PRINCIPAL=svc-report \
 *     node service-account.js http://web.example.test:8080/
 */

import { KerberosClient, LogonSession, loadClientConfig } from 'kerbside/client';
import { negotiateFetch } from 'kerbside/http';

const url = process.argv[2] ?? 'http://web.example.test:8080/';
// krb5.conf from KRB5_CONFIG (else /etc/krb5.conf): the default realm and the KDCs.
const client = new KerberosClient({ config: await loadClientConfig() });
const session = await LogonSession.open({
  client,
  principal: process.env['PRINCIPAL'] ?? 'svc-report',
  source: { kind: 'keytab', keytab: process.env['CLIENT_KEYTAB'] ?? '/etc/svc-report.keytab' },
});
try {
  // The service ticket is for HTTP/<host of the URL>; the server's reply is checked (mutual authentication).
  const res = await negotiateFetch(url, { negotiate: { session } });
  console.log(`${res.status} ${await res.text()}`);
} finally {
  await session.close();
}
