/**
 * Usage tables for the commands that follow MIT's tools: one frozen table per
 * command, printed by `--help`/`-h` (stdout, exit 0) and after a usage error
 * (stderr, with the exit status MIT's tool uses: kinit, kdestroy and kswitch
 * exit 2, klist and kvno exit 1, as MIT krb5 1.20 does). The synopsis and
 * option lines follow MIT's layout, listing only the flags kerbside
 * implements; kerbside's own flags follow under "kerbside options".
 */

export interface UsageTable {
  /** `Usage: …` lines, as MIT prints them (continuation lines start with a tab). */
  readonly synopsis: readonly string[];
  /** MIT's option list: [flag, description]. */
  readonly options: readonly (readonly [string, string])[];
  /** Flags kerbside adds to MIT's. */
  readonly extras?: readonly (readonly [string, string])[];
  /** The exit status of a usage error (MIT's). */
  readonly usageExit: number;
  /** "options:" heading indentation as MIT's tool prints it ('' = none). */
  readonly heading?: string;
}

/** Every command's own row. */
const HELP_ROW = Object.freeze(['-h, --help', 'print this usage'] as const);

/** Deep-freezes a usage table (tables are constants shared by every call). */
export function usageTable(t: UsageTable): UsageTable {
  for (const list of [t.options, t.extras ?? []]) {
    for (const row of list) Object.freeze(row);
    Object.freeze(list);
  }
  Object.freeze(t.synopsis);
  return Object.freeze(t);
}

/** The usage text of a table, as MIT lays it out. */
export function formatUsage(t: UsageTable): string {
  const lines = [...t.synopsis];
  if (t.heading !== undefined) lines.push('', t.heading);
  for (const [flag, text] of t.options) lines.push(text === '' ? `\t${flag}` : `\t${flag} ${text}`);
  lines.push('', '    kerbside options:');
  for (const [flag, text] of [...t.extras ?? [], HELP_ROW]) lines.push(`\t${flag} ${text}`);
  return lines.join('\n');
}

/** True when `argv` asks for help (-h or --help before a `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '-h' || a === '--help') return true;
  }
  return false;
}
