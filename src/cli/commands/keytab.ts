/**
 * `kerbside keytab export`: writes a principal's keys from a realm directory
 * to a keytab (MIT kadmin.local `ktadd -norandkey`): the current kvno by
 * default, one kvno with --kvno, or every stored kvno with --all-kvnos. An
 * existing keytab keeps its other entries.
 */

import { resolve } from 'node:path';
import { enctypeName } from '../../crypto/index.js';
import { parseCommandLine, positionals, realmDirOption } from '../args.js';
import { UsageError, type Command } from '../io.js';
import { exportKeytab } from '../realm-admin.js';
import { openRealm } from '../realm-dir.js';

const USAGE = `kerbside keytab export [--dir DIR] --principal NAME --out FILE [--kvno N | --all-kvnos]
  Adds NAME's keys to FILE (created with mode 0600; other entries are kept).
  NAME becomes a service (may be the server of tickets) if it was not one.`;

export const command: Command = {
  name: 'keytab',
  summary: "export a principal's keys from a realm directory to a keytab file",
  usage: USAGE,
  async run(io) {
    const [sub, ...argv] = io.argv;
    if (sub !== 'export') throw new UsageError(sub === undefined ? 'missing subcommand (export)' : `unknown subcommand "${sub}" (export)`);
    const { values, positionals: rest } = parseCommandLine(argv, {
      dir: { type: 'string' },
      principal: { type: 'string', short: 'p' },
      out: { type: 'string', short: 'k' },
      kvno: { type: 'string' },
      'all-kvnos': { type: 'boolean' },
    });
    positionals(rest, []);
    if (values.principal === undefined) throw new UsageError('--principal is required');
    if (values.out === undefined) throw new UsageError('--out is required');
    if (values.kvno !== undefined && values['all-kvnos'] === true) throw new UsageError('give either --kvno or --all-kvnos');
    const kvno = values.kvno === undefined ? undefined : Number(values.kvno);
    if (kvno !== undefined && !(Number.isInteger(kvno) && kvno > 0)) throw new UsageError(`--kvno "${values.kvno!}" is not a key version number`);
    const out = resolve(io.cwd, values.out);

    const realm = await openRealm(realmDirOption(io, values.dir), io);
    try {
      const { entries, madeService } = await exportKeytab(realm, values.principal, out, {
        ...(kvno === undefined ? {} : { kvno }), allKvnos: values['all-kvnos'] === true,
      });
      for (const e of entries) {
        io.out(`Entry for principal ${realm.admin.principalName(values.principal)} with kvno ${e.kvno}, encryption type ${enctypeName(e.enctype)} added to keytab FILE:${out}.`);
      }
      if (madeService) {
        const full = realm.admin.principalName(values.principal);
        io.out(`Principal ${full} may now be the server of service tickets (it has a keytab); undo with: kerbside principal modify ${full} --no-allow-svr`);
      }
    } finally {
      await realm.close();
    }
    return 0;
  },
};
