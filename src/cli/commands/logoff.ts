/** `kerbside logoff SESSION`: removes an interactive logon session from the scheduler's registry (docs/scheduler.md). */

import { parseCommandLine, positionals } from '../args.js';
import type { CliIO, Command } from '../io.js';
import { openAdmin } from '../scheduler-cli.js';

export const command: Command = {
  name: 'logoff',
  summary: 'remove an interactive logon session from the scheduler (see kerbside logon --list)',
  usage: 'logoff SESSION-ID [--dir DIR]',
  async run(io: CliIO): Promise<number> {
    const parsed = parseCommandLine(io.argv, { dir: { type: 'string' } });
    const [id] = positionals(parsed.positionals, ['the session id']);
    const a = await openAdmin(io, parsed.values.dir);
    try {
      await a.admin.logoff(id!);
      io.out(`Logon session ${id!} removed`);
      return 0;
    } finally {
      await a.close();
    }
  },
};
