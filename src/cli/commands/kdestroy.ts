/**
 * `kerbside kdestroy [-q] [-c cache]`: removes a credential cache (MIT
 * kdestroy(1)). A missing cache is reported but is not a failure, as in MIT.
 */

import { destroyCcache, parseCcacheName } from '../../files/index.js';
import { comErr, defaultCcacheName, loadClientConfig, readCcacheIfExists } from '../../client/index.js';
import { parseCommandLine, positionals } from '../args.js';
import { type CliIO, type Command } from '../io.js';
import { formatUsage, usageTable } from '../usage.js';

/** MIT kdestroy's usage (kdestroy.c usage()), with the flags kerbside implements. */
export const HELP = usageTable({
  synopsis: ['Usage: kdestroy [-q] [-c cache_name]'],
  options: [['-q', 'quiet mode'], ['-c', 'specify name of credentials cache']],
  extras: [['-h, --help', 'print this usage']],
  usageExit: 2,
});

export const command: Command = {
  name: 'kdestroy',
  summary: 'destroy a Kerberos credential cache (MIT kdestroy)',
  usage: formatUsage(HELP),
  help: HELP,
  async run(io: CliIO): Promise<number> {
    const parsed = parseCommandLine(io.argv, { c: { type: 'string' }, q: { type: 'boolean' } });
    positionals(parsed.positionals, []);
    const quiet = parsed.values.q === true;
    const config = await loadClientConfig(undefined, { env: io.env }).catch(() => undefined);
    const name = parsed.values.c ?? defaultCcacheName(config, io.env);
    try {
      parseCcacheName(name);
      // A damaged cache is still destroyed; only a missing one is reported.
      const exists = await readCcacheIfExists(name).then((c) => c !== undefined, () => true);
      if (!exists) {
        if (!quiet) io.err('kdestroy: No credentials cache found while destroying cache');
        return 0;
      }
      await destroyCcache(name);
    } catch (err) {
      io.err(comErr('kdestroy', err, 'destroying cache'));
      return 1;
    }
    return 0;
  },
};
