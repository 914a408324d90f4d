/**
 * `kerbside start` (what `npm start` runs): a demo realm that works out of the
 * box. The first run creates DEMO.TEST in a data folder (default
 * ./.kerbside/demo) with a user `alice` (random password, kept in the folder so
 * every run can show it) and a service `HTTP/localhost` with its keytab; later
 * runs reuse it. Starts the KDC on 127.0.0.1 (port 60088, or a free port when
 * that one is busy), writes a krb5.conf for clients, serves a protected web
 * page on http://localhost:8080/ (or the next free port; cli/demo-web.ts)
 * that greets the logged-on principal, prints how to log on with MIT kinit,
 * kerbside, curl and Chromium, and serves until Ctrl-C.
 */

import { join, resolve } from 'node:path';
import { fromUtf8, utf8 } from '../../core/bytes.js';
import { clientKrb5Conf, readFileIfExists, writeFileAtomic } from '../../files/index.js';
import type { ListenAddress } from '../../kdc/index.js';
import { parseCommandLine, portOption, positionals } from '../args.js';
import { KdcListenError } from '../errors.js';
import type { CliIO, Command } from '../io.js';
import { describeAddresses, startRealmKdc, stopRequested, type RunningKdc } from '../kdc-runner.js';
import { addPrincipal, exportKeytab, generatePassword } from '../realm-admin.js';
import { formatListenAddress } from '../kdc-conf.js';
import { createRealmDirectory, openRealm, realmExists, writeClientKrb5Conf, type OpenRealm } from '../realm-dir.js';
import { DEMO_WEB_PORT, startDemoWeb, type RunningDemoWeb } from '../demo-web.js';

export const DEMO_REALM = 'DEMO.TEST';
export const DEMO_PORT = 60088;
const DEMO_USER = 'alice';
const DEMO_SERVICE = 'HTTP/localhost';
const DEMO_FILES = Object.freeze({ password: 'alice.password', keytab: 'http.keytab', ccache: 'ccache' });

const USAGE = `kerbside start [--dir DIR] [--port N] [--web-port N]
  Runs a demo realm ${DEMO_REALM} from DIR (default ./.kerbside/demo), creating it on the first run.
  The KDC listens on 127.0.0.1:${DEMO_PORT} (or a free port if that one is busy); --port N insists on N (0: any free port).
  A page protected by Kerberos (HTTP/localhost) is served on http://localhost:${DEMO_WEB_PORT}/ (or the next free port);
  --web-port N insists on N (0: any free port).`;

/** Quotes a path for a POSIX shell when it needs quoting. */
function sh(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

async function createDemo(io: CliIO, dir: string): Promise<OpenRealm> {
  const realm = await createRealmDirectory({
    dir, realm: DEMO_REALM, listen: [{ host: '127.0.0.1', port: DEMO_PORT }], clock: io.clock, random: io.random,
  });
  try {
    const password = generatePassword(io.random);
    // A demo convenience: the password stays in the (private, git-ignored) data folder so each run can print it.
    await writeFileAtomic(join(dir, DEMO_FILES.password), utf8(`${password}\n`), 'demo password file', 0o600);
    await addPrincipal(realm, DEMO_USER, { password }, {}, { clock: io.clock });
    await addPrincipal(realm, DEMO_SERVICE, { randkey: true }, {}, { clock: io.clock });
    await exportKeytab(realm, DEMO_SERVICE, join(dir, DEMO_FILES.keytab), {});
  } catch (err) {
    await realm.close();
    throw err;
  }
  io.out(`Created the demo realm ${DEMO_REALM} in ${dir}`);
  return realm;
}

/** Starts the KDC on `port`; when the default port is busy, on a free one instead. */
async function serve(io: CliIO, realm: OpenRealm, port: number, insist: boolean): Promise<RunningKdc> {
  const listen = (p: number): ListenAddress[] => [{ host: '127.0.0.1', port: p }];
  try {
    return await startRealmKdc(realm, io, { listen: listen(port) });
  } catch (err) {
    if (insist || !(err instanceof KdcListenError) || err.detail['errno'] !== 'EADDRINUSE') throw err;
    io.out(`Port ${port} is busy; using a free port instead.`);
    return startRealmKdc(realm, io, { listen: listen(0) });
  }
}

export const command: Command = {
  name: 'start',
  summary: 'run a demo realm (DEMO.TEST with alice and HTTP/localhost) on this machine until Ctrl-C',
  usage: USAGE,
  async run(io) {
    const { values, positionals: rest } = parseCommandLine(io.argv, {
      dir: { type: 'string' },
      port: { type: 'string' },
      'web-port': { type: 'string' },
    });
    positionals(rest, []);
    const dir = resolve(io.cwd, values.dir ?? join('.kerbside', 'demo'));
    const port = values.port === undefined ? undefined : portOption('port', values.port);
    const webPort = values['web-port'] === undefined ? undefined : portOption('web-port', values['web-port']);

    const realm = (await realmExists(dir)) ? await openRealm(dir, io) : await createDemo(io, dir);
    let running: RunningKdc;
    try {
      running = await serve(io, realm, port ?? realm.settings.listen[0]?.port ?? DEMO_PORT, port !== undefined);
    } catch (err) {
      await realm.close();
      throw err;
    }
    let web: RunningDemoWeb | undefined;
    try {
      const name = realm.settings.realm;
      const kdc = formatListenAddress(running.addresses[0]!);
      const conf = await writeClientKrb5Conf(dir, clientKrb5Conf({ realm: name, kdc, libdefaults: { default_ccache_name: `FILE:${join(dir, DEMO_FILES.ccache)}` } }));
      const stored = await readFileIfExists(join(dir, DEMO_FILES.password), 'demo password file');
      const password = stored === undefined ? `(not stored; set one with: kerbside principal set-password ${DEMO_USER} --dir ${sh(dir)})` : fromUtf8(stored).trim();
      const env = `KRB5_CONFIG=${sh(conf)}`;
      const keytab = join(dir, DEMO_FILES.keytab);
      const webSteps = (url: string): string[] => [
        `${env} kinit ${DEMO_USER}@${name}`,
        `${env} curl --negotiate -u : ${url}`,
        `${env} chromium --auth-server-allowlist=localhost ${url}`,
      ];
      web = await startDemoWeb(io, {
        keytab, principal: `${DEMO_SERVICE}@${name}`, ...(webPort === undefined ? {} : { port: webPort }),
        // The 401 page names the password's file, not the password: a web page is no place for a secret.
        instructions: (url) => [`# ${DEMO_USER}'s password: printed by npm start, kept in ${join(dir, DEMO_FILES.password)}`, ...webSteps(url)],
      });
      if (webPort === undefined && web.port !== DEMO_WEB_PORT) io.out(`Port ${DEMO_WEB_PORT} is busy; the web page uses port ${web.port}.`);
      io.out(`
kerbside demo realm ${name}
  data folder  ${dir}
  KDC          ${kdc} (UDP and TCP)
  user         ${DEMO_USER}@${name}   password: ${password}
  service      ${DEMO_SERVICE}@${name}   keytab: ${keytab}
  krb5.conf    ${conf}
  web page     ${web.url} (protected by Kerberos: it greets the logged-on user)

Log on with MIT Kerberos:
  ${env} kinit ${DEMO_USER}@${name}
  ${env} klist
  ${env} kvno ${DEMO_SERVICE}@${name}

Log on with kerbside:
  ${env} npx kerbside kinit ${DEMO_USER}
  ${env} npx kerbside klist

Open the protected page (after kinit; without a ticket it answers 401 with these steps):
  ${webSteps(web.url).slice(1).join('\n  ')}
  (Chromium sends Kerberos only to hosts on --auth-server-allowlist; if it is already running, add --user-data-dir=$(mktemp -d).)

Manage the realm while it runs: npx kerbside principal list --dir ${sh(dir)}
`);
      io.out(`kerbside start: ready, serving ${name} on ${describeAddresses(running.addresses)} and ${web.url}; press Ctrl-C to stop`);
      await stopRequested(io);
    } finally {
      await web?.stop();
      await running.stop();
    }
    io.out('kerbside start: stopped');
    return 0;
  },
};
