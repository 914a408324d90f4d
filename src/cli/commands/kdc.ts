/**
 * `kerbside kdc --dir DIR`: serves a realm directory over UDP and TCP (the
 * addresses of kdc.conf, or --listen), one log line per request on stderr
 * and a record per audit in DIR/events.sqlite (docs/events.md), until
 * SIGINT/SIGTERM; then stops cleanly with exit code 0.
 */

import { join } from 'node:path';
import { loadClientConfig } from '../../client/index.js';
import type { BoundAddress } from '../../kdc/index.js';
import { listenOption, parseCommandLine, positionals, realmDirOption } from '../args.js';
import { REALM_FILES, formatListenAddress } from '../kdc-conf.js';
import { UsageError, type Command } from '../io.js';
import { describeAddresses, startRealmKdc, stopRequested, type LogFormat } from '../kdc-runner.js';
import { openRealm } from '../realm-dir.js';

const USAGE = `kerbside kdc [--dir DIR] [--listen ADDR:PORT]... [--ntlm-listen ADDR:PORT]... [--log-format text|json] [--verbose] [--poll-interval-ms 1000]
  Serves the realm in DIR ($KERBSIDE_REALM_DIR or ./realm) on UDP and TCP.
  --ntlm-listen replaces kdc.conf's ntlm_listen: where web nodes send NTLM logons to be validated (TCP; needs
  ntlm = true in kdc.conf; docs/ntlm.md "Validation"). Off unless one of them names an address.
  --listen replaces kdc.conf's kdc_listen: 127.0.0.1:88, [::1]:88, 0.0.0.0:88, or a bare port for every address;
  port 0 picks a free port (the same for UDP and TCP).
  Events also go to DIR/events.sqlite (see kerbside events; kdc.conf eventlog = false turns it off).`;

export const command: Command = {
  name: 'kdc',
  summary: 'serve a realm (UDP and TCP, IPv4 and IPv6) until stopped',
  usage: USAGE,
  async run(io) {
    const { values, positionals: rest } = parseCommandLine(io.argv, {
      dir: { type: 'string' },
      listen: { type: 'string', multiple: true },
      'ntlm-listen': { type: 'string', multiple: true },
      'log-format': { type: 'string' },
      verbose: { type: 'boolean', short: 'v' },
      'poll-interval-ms': { type: 'string' },
    });
    positionals(rest, []);
    const format = values['log-format'] ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError(`--log-format must be text or json, not "${format}"`);
    const poll = values['poll-interval-ms'] === undefined ? undefined : Number(values['poll-interval-ms']);
    if (poll !== undefined && !(Number.isInteger(poll) && poll > 0)) throw new UsageError('--poll-interval-ms must be a positive whole number');
    const listen = listenOption(values.listen);
    const ntlmListen = listenOption(values['ntlm-listen']);

    const realm = await openRealm(realmDirOption(io, values.dir), io);
    let running;
    try {
      running = await startRealmKdc(realm, io, {
        listen: listen ?? realm.settings.listen,
        logFormat: format as LogFormat,
        verbose: values.verbose === true,
        ...(poll === undefined ? {} : { pollIntervalMs: poll }),
        ...(ntlmListen === undefined ? {} : { ntlmListen }),
      });
    } catch (err) {
      await realm.close();
      throw err;
    }
    if (running.ntlmAddresses.length > 0) io.out(`kerbside kdc: NTLM pass-through on ${describeAddresses(running.ntlmAddresses)}`);
    const mismatch = await krb5ConfMismatch(realm.settings.dir, realm.settings.realm, running.addresses);
    if (mismatch !== undefined) io.err(`kerbside kdc: warning: ${mismatch}`);
    io.out(`kerbside kdc: realm ${realm.settings.realm} ready on ${describeAddresses(running.addresses)}`);
    await stopRequested(io);
    await running.stop();
    io.out('kerbside kdc: stopped');
    return 0;
  },
};

/**
 * When the realm directory's krb5.conf (written by realm init) names no address this KDC listens on, what to
 * tell the operator: clients using that file would not reach it. undefined when it matches or there is no file.
 */
async function krb5ConfMismatch(dir: string, realm: string, bound: readonly BoundAddress[]): Promise<string | undefined> {
  const path = join(dir, REALM_FILES.krb5Conf);
  let kdcs;
  try {
    kdcs = (await loadClientConfig(path)).realms[realm]?.kdcs ?? [];
  } catch {
    return undefined; // An unreadable or hand-broken file is the client's business; the KDC still serves.
  }
  if (kdcs.length === 0) return undefined;
  const wildcard = (h: string): boolean => h === '0.0.0.0' || h === '::';
  const reached = kdcs.some((k) => bound.some((b) => b.port === k.port && (b.host === k.host || wildcard(b.host))));
  if (reached) return undefined;
  const named = kdcs.map((k) => formatListenAddress(k)).join(', ');
  const listening = [...new Set(bound.map((b) => formatListenAddress(b)))].join(', ');
  return `${path} names kdc = ${named}, but this KDC listens on ${listening}: clients using that krb5.conf will not reach it `
    + '(start the KDC on that address, or run realm init --listen with the address you serve on, or edit the file)';
}
