/**
 * `kerbside kvno service…`: gets a service ticket with the cached TGT (MIT
 * kvno(1)), stores it in the cache and prints the key version number the
 * ticket is encrypted with ("HTTP/host@REALM: kvno = 2"). -c cache, -e enctype
 * (session key enctype to ask for), -q quiet, -S sname (the arguments are
 * host names). A cached, unexpired ticket for the service is used as is.
 */

import { enctypeFromName } from '../../crypto/index.js';
import {
  principalEquals, principalToString, storeCredential, ticketsOf, writeCcache, type CredentialCache, type Principal,
} from '../../files/index.js';
import { Ticket } from '../../messages/index.js';
import {
  KerberosClient, NoCredentialsError, clientFromEnvironment, comErr, offsetFromHeader, offsetToHeader, readCcacheIfExists, tgsPrincipal,
} from '../../client/index.js';
import { parseCommandLine } from '../args.js';
import { UsageError, type CliIO, type Command } from '../io.js';
import { formatUsage, usageTable } from '../usage.js';

/** MIT kvno's usage (kvno.c xusage()), with the flags kerbside implements. */
export const HELP = usageTable({
  synopsis: ['usage: kvno [-c ccache] [-e etype] [-q] [-S sname] service1 service2 ...'],
  options: [],
  usageExit: 1,
});

export const command: Command = {
  name: 'kvno',
  summary: 'get service tickets and print their key version numbers (MIT kvno)',
  usage: formatUsage(HELP),
  help: HELP,
  async run(io: CliIO): Promise<number> {
    const parsed = parseCommandLine(io.argv, {
      c: { type: 'string' }, e: { type: 'string' }, q: { type: 'boolean' }, S: { type: 'string' },
    });
    const v = parsed.values;
    if (parsed.positionals.length === 0) throw new UsageError('name at least one service');
    const env = await clientFromEnvironment(io);
    let client = env.client;
    if (v.e !== undefined) {
      const etype = enctypeFromName(v.e);
      if (etype === undefined) {
        io.err(`kvno: Invalid encryption type ${v.e} while converting etype`);
        return 1;
      }
      client = new KerberosClient({ config: { ...env.config, tgsEnctypes: [etype] }, clock: io.clock, random: io.random });
    }
    const name = v.c ?? env.defaultCcache;
    let cache: CredentialCache;
    try {
      const read = await readCcacheIfExists(name);
      if (read === undefined) throw new NoCredentialsError(`No credentials cache found (filename: ${name.replace(/^FILE:/, '')})`, { hint: 'run kinit first' });
      cache = read;
    } catch (err) {
      io.err(comErr('kvno', err, 'getting client principal name'));
      return 1;
    }
    client.timeOffset = offsetFromHeader(cache);
    const me = cache.defaultPrincipal;
    let failed = false;
    let changed = false;
    for (const arg of parsed.positionals) {
      let server: Principal | undefined;
      try {
        server = client.principal(v.S !== undefined ? `${v.S}/${arg}` : arg);
        const now = io.clock.now() + client.timeOffset;
        let ticket = ticketsOf(cache).find((c) => principalEquals(c.client, me) && principalEquals(c.server, server!) && c.endtime.getTime() > now);
        if (ticket === undefined) {
          const want = tgsPrincipal(me.realm);
          const tgt = ticketsOf(cache).find((c) => principalEquals(c.client, me) && principalEquals(c.server, want));
          if (tgt === undefined) throw new NoCredentialsError(`No TGT for ${principalToString(me)} in ${name}`, { hint: 'run kinit first' });
          ticket = await client.getServiceTicket(tgt, server);
          cache = storeCredential(cache, ticket);
          changed = true;
        }
        const kvno = Ticket.decode(ticket.ticket).encPart.kvno;
        if (v.q !== true) io.out(`${principalToString(server)}: kvno = ${kvno ?? 0}`);
      } catch (err) {
        io.err(comErr('kvno', err, `getting credentials for ${server === undefined ? arg : principalToString(server)}`));
        failed = true;
      }
    }
    if (changed) {
      if (client.timeOffset !== 0) cache = { ...cache, kdcTimeOffset: offsetToHeader(client.timeOffset) };
      try {
        await writeCcache(name, cache);
      } catch (err) {
        io.err(comErr('kvno', err, 'storing credentials'));
        return 1;
      }
    }
    return failed ? 1 : 0;
  },
};
