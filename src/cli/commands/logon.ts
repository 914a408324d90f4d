/**
 * `kerbside logon PRINCIPAL`: registers an interactive logon session of this
 * host with the scheduler (docs/scheduler.md "Interactive sessions"). The
 * session's cache (--ccache, else KRB5CCNAME / the default) is registered as
 * it is when it holds the principal's TGT — as a smart-card session when its
 * X-CACHECONF pa_type is PKINIT (16) or --smartcard is given; otherwise the
 * password is asked for and a TGT obtained into that cache. `--list` shows
 * the sessions. A smart-card TGT comes from `kerbside kinit -X
 * X509_user_identity=PKCS11:…` (or MIT's kinit -X) into the cache first.
 */

import { clientFromEnvironment, buildCache, cachedPaType, readCcacheIfExists, tgsPrincipal } from '../../client/index.js';
import { principalEquals, ticketsOf, writeCcache } from '../../files/index.js';
import { PaType } from '../../messages/index.js';
import { parseCommandLine } from '../args.js';
import { UsageError, type CliIO, type Command } from '../io.js';
import { iso, openAdmin } from '../scheduler-cli.js';

export const command: Command = {
  name: 'logon',
  summary: 'register an interactive logon session with the scheduler (kerbside logon PRINCIPAL | --list)',
  usage: 'logon PRINCIPAL [--dir DIR] [--ccache CCACHE] [--smartcard]\n       logon --list [--dir DIR] [--json]',
  async run(io: CliIO): Promise<number> {
    const parsed = parseCommandLine(io.argv, {
      dir: { type: 'string' }, ccache: { type: 'string', short: 'c' }, smartcard: { type: 'boolean' }, list: { type: 'boolean' }, json: { type: 'boolean' },
    });
    const v = parsed.values;
    if (v.list === true) {
      const a = await openAdmin(io, v.dir);
      try {
        const sessions = await a.dir.store.listSessions();
        if (v.json === true) io.out(JSON.stringify(sessions.map((s) => ({ ...s, loggedOnAt: iso(s.loggedOnAt) })), null, 2));
        else if (sessions.length === 0) io.out('No logon sessions registered');
        else {
          io.out(`${'Session'.padEnd(14)} ${'Principal'.padEnd(28)} ${'Kind'.padEnd(10)} ${'Logged on'.padEnd(21)} Cache`);
          for (const s of sessions) io.out(`${s.id.padEnd(14)} ${s.principal.padEnd(28)} ${s.kind.padEnd(10)} ${iso(s.loggedOnAt).padEnd(21)} ${s.ccache}`);
        }
        return 0;
      } finally {
        await a.close();
      }
    }
    const [name, ...extra] = parsed.positionals;
    if (name === undefined) throw new UsageError('name the principal that logs on');
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]!}"`);
    const env = await clientFromEnvironment(io);
    const ccache = v.ccache ?? env.defaultCcache;
    const principal = env.client.principal(name);
    const cache = await readCcacheIfExists(ccache);
    const hasTgt = cache !== undefined && principalEquals(cache.defaultPrincipal, principal)
      && ticketsOf(cache).some((c) => principalEquals(c.server, tgsPrincipal(principal.realm)));
    let kind: 'password' | 'smartcard';
    if (hasTgt) {
      kind = v.smartcard === true || cachedPaType(cache!) === PaType.PA_PK_AS_REQ ? 'smartcard' : 'password';
    } else {
      if (v.smartcard === true) {
        io.err(`logon: ${ccache} holds no TGT for ${name}; log on with the card first (kerbside kinit -X X509_user_identity=PKCS11:module_name=…:slotid=… ${name}, with KRB5CCNAME=${ccache}), then run kerbside logon again`);
        return 1;
      }
      const password = await io.readSecret(`Password for ${name}: `);
      const { credential, paType } = await env.client.getInitialCredentials({ client: principal, password });
      await writeCcache(ccache, buildCache({ principal, credentials: [credential], paType, offset: env.client.timeOffset }));
      kind = 'password';
    }
    const a = await openAdmin(io, v.dir);
    try {
      const rec = await a.admin.logon({ principal: name, kind, ccache });
      io.out(`Logon session ${rec.id} registered: ${rec.principal} (${kind === 'smartcard' ? 'smart card' : 'password'}), cache ${ccache}`);
      return 0;
    } finally {
      await a.close();
    }
  },
};
