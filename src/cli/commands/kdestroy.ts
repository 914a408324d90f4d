/**
 * `kerbside kdestroy [-A] [-q] [-c cache] [-p principal]`: removes a credential
 * cache, every cache of its collection (-A), or the collection's cache of one
 * principal (-p), as MIT kdestroy(1). A missing cache is reported but is not a
 * failure, as in MIT.
 */

import { destroyCcache, findCcacheFor, listCcacheCollection, parseCcacheName, parsePrincipal } from '../../files/index.js';
import { comErr, defaultCcacheName, loadClientConfig, readCcacheIfExists } from '../../client/index.js';
import { parseCommandLine, positionals } from '../args.js';
import { type CliIO, type Command } from '../io.js';
import { formatUsage, usageTable } from '../usage.js';

/** MIT kdestroy's usage (kdestroy.c usage()). */
export const HELP = usageTable({
  synopsis: ['Usage: kdestroy [-A] [-q] [-c cache_name] [-p princ_name]'],
  options: [
    ['-A', 'destroy all credential caches in collection'], ['-q', 'quiet mode'], ['-c', 'specify name of credentials cache'],
    ['-p', 'specify principal name within collection'],
  ],
  usageExit: 2,
});

export const command: Command = {
  name: 'kdestroy',
  summary: 'destroy a Kerberos credential cache (MIT kdestroy)',
  usage: formatUsage(HELP),
  help: HELP,
  async run(io: CliIO): Promise<number> {
    const parsed = parseCommandLine(io.argv, { c: { type: 'string' }, q: { type: 'boolean' }, A: { type: 'boolean' }, p: { type: 'string' } });
    positionals(parsed.positionals, []);
    const quiet = parsed.values.q === true;
    const config = await loadClientConfig(undefined, { env: io.env }).catch(() => undefined);
    const name = parsed.values.c ?? defaultCcacheName(config, io.env);
    if (parsed.values.A === true) {
      try {
        for (const member of await listCcacheCollection(name)) await destroyCcache(member);
      } catch (err) {
        io.err(comErr('kdestroy', err, 'destroying cache'));
        return 1;
      }
      return 0;
    }
    let target = name;
    if (parsed.values.p !== undefined) {
      const who = parsed.values.p;
      try {
        const found = await findCcacheFor(name, parsePrincipal(who, config?.defaultRealm === undefined ? {} : { defaultRealm: config.defaultRealm }));
        if (found === undefined) {
          io.err(`kdestroy: Matching credential not found while finding cache for ${who}`);
          return 1;
        }
        target = found;
      } catch (err) {
        io.err(comErr('kdestroy', err, `finding cache for ${who}`));
        return 1;
      }
    }
    try {
      parseCcacheName(target);
      // A damaged cache is still destroyed; only a missing one is reported.
      const exists = await readCcacheIfExists(target).then((c) => c !== undefined, () => true);
      if (!exists) {
        if (!quiet) io.err('kdestroy: No credentials cache found while destroying cache');
        return 0;
      }
      await destroyCcache(target);
      // As MIT: a reminder that the collection still holds other caches.
      if (!quiet && parsed.values.p === undefined && (await listCcacheCollection(name)).length > 0) {
        io.err('Other credential caches present, use -A to destroy all');
      }
    } catch (err) {
      io.err(comErr('kdestroy', err, 'destroying cache'));
      return 1;
    }
    return 0;
  },
};
