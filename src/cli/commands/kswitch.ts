/**
 * `kerbside kswitch {-c cache_name | -p principal}`: makes a cache the primary
 * of its collection (MIT kswitch(1)); for a DIR collection that rewrites its
 * `primary` file, so MIT's tools switch too.
 */

import { findCcacheFor, parsePrincipal, switchCcache } from '../../files/index.js';
import { comErr, defaultCcacheName, loadClientConfig } from '../../client/index.js';
import { parseCommandLine, positionals } from '../args.js';
import { UsageError, type CliIO, type Command } from '../io.js';
import { formatUsage, usageTable } from '../usage.js';

/** MIT kswitch's usage (kswitch.c usage()). */
export const HELP = usageTable({
  synopsis: ['Usage: kswitch {-c cache_name | -p principal}'],
  options: [['-c', 'specify name of credentials cache'], ['-p', 'specify name of principal']],
  usageExit: 2,
});

export const command: Command = {
  name: 'kswitch',
  summary: 'switch the primary credential cache of a collection (MIT kswitch)',
  usage: formatUsage(HELP),
  help: HELP,
  async run(io: CliIO): Promise<number> {
    const parsed = parseCommandLine(io.argv, { c: { type: 'string' }, p: { type: 'string' } });
    positionals(parsed.positionals, []);
    const { c, p } = parsed.values;
    if (c === undefined && p === undefined) throw new UsageError('One of -c or -p must be specified');
    if (c !== undefined && p !== undefined) throw new UsageError('Only one of -c or -p may be specified');
    const config = await loadClientConfig(undefined, { env: io.env }).catch(() => undefined);
    let target: string;
    if (c !== undefined) {
      // As MIT, the cache need not exist yet: the collection's primary then names it.
      target = c;
    } else {
      try {
        const found = await findCcacheFor(defaultCcacheName(config, io.env), parsePrincipal(p!, config?.defaultRealm === undefined ? {} : { defaultRealm: config.defaultRealm }));
        if (found === undefined) {
          io.err(`kswitch: Matching credential not found while searching for ccache for ${p!}`);
          return 1;
        }
        target = found;
      } catch (err) {
        io.err(comErr('kswitch', err, `searching for ccache for ${p!}`));
        return 1;
      }
    }
    try {
      await switchCcache(target);
    } catch (err) {
      io.err(comErr('kswitch', err, 'switching to ccache'));
      return 1;
    }
    return 0;
  },
};
