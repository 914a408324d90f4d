/**
 * --help, usage errors and --version. The MIT-style commands are compared with
 * MIT krb5 1.20's own tools (Debian krb5-user): the same first usage line
 * shape, the same getopt message and the same exit status for an unknown flag.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { COMMANDS } from './main.js';
import { CLI_MAIN, runCli, runCliInProcess } from '../testing/kerbside-cli.js';
import { baseEnvironment, mitTool, runProgram } from '../testing/mit-tools.js';
import { formatUsage, usageTable, wantsHelp } from './usage.js';

const NO_CONFIG = { KRB5_CONFIG: '/nonexistent/krb5.conf', KRB5CCNAME: 'FILE:/nonexistent/cc' };

test('every command answers --help and -h on stdout with exit 0, nothing on stderr', async () => {
  for (const name of Object.keys(COMMANDS)) {
    for (const flag of ['--help', '-h']) {
      const r = await runCliInProcess([name, flag], { env: NO_CONFIG });
      assert.equal(r.code, 0, `${name} ${flag}: ${r.stderr}`);
      assert.equal(r.stderr, '', `${name} ${flag}`);
      assert.match(r.stdout, /usage: /i, `${name} ${flag}`);
      assert.doesNotMatch(r.stdout, /To specify a positional argument/, `${name} ${flag}`);
    }
  }
});

test('kinit --help prints MIT kinit\'s usage layout, then kerbside\'s own flags', async () => {
  const r = await runCliInProcess(['kinit', '--help'], { env: NO_CONFIG });
  const lines = r.stdout.split('\n');
  assert.match(lines[0]!, /^Usage: kinit \[-V\] \[-l lifetime\] /);
  assert.ok(lines.includes('    options:'));
  assert.ok(lines.includes('\t-V verbose'));
  assert.ok(lines.includes('    kerbside options:'));
  // Each option line kerbside prints for an MIT flag is, word for word, one MIT kinit prints.
  const mit = await runProgram(mitTool('kinit'), ['--bogus'], { env: baseEnvironment() });
  const mitLines = new Set(mit.stderr.split('\n'));
  const ownStart = lines.indexOf('    kerbside options:');
  for (const line of lines.slice(lines.indexOf('    options:') + 1, ownStart - 1)) assert.ok(mitLines.has(line), `MIT prints "${line}"`);
});

test('klist, kdestroy and kswitch --help: every option line is one MIT\'s tool prints', async () => {
  for (const tool of ['klist', 'kdestroy', 'kswitch'] as const) {
    const lines = (await runCliInProcess([tool, '--help'], { env: NO_CONFIG })).stdout.split('\n');
    const mit = await runProgram(mitTool(tool), ['-Z'], { env: { ...baseEnvironment(), ...NO_CONFIG } });
    const mitLines = new Set(mit.stderr.split('\n'));
    const options = lines.slice(1, lines.indexOf(''));
    assert.ok(options.length >= 2, tool);
    for (const line of options) assert.ok(mitLines.has(line), `MIT ${tool} prints "${line}"`);
  }
});

test('an unknown flag: the getopt message, the usage on stderr and MIT\'s exit status, for each MIT tool', async () => {
  for (const tool of ['kinit', 'klist', 'kdestroy', 'kvno', 'kswitch'] as const) {
    for (const bad of ['--bogus', '-Z']) {
      const mit = await runProgram(mitTool(tool), [bad], { env: { ...baseEnvironment(), ...NO_CONFIG } });
      const ours = await runCliInProcess([tool, bad], { env: NO_CONFIG });
      assert.equal(ours.code, mit.code, `${tool} ${bad}: exit status as MIT's (${mit.stderr})`);
      assert.equal(ours.stdout, '');
      const [first] = ours.stderr.split('\n');
      // getopt names the program by argv[0], here MIT's absolute path. MIT's klist and kdestroy use plain
      // getopt, which reads "--bogus" as the letters "-", "b", …; kerbside names the whole flag instead.
      if (bad === '-Z' || tool === 'kinit' || tool === 'kvno') assert.equal(first, mit.stderr.split('\n')[0]!.replace(/^\/\S*\//, ''), `${tool} ${bad}: first line as MIT's`);
      assert.match(ours.stderr, new RegExp(`\\n[Uu]sage: ${tool} `), `${tool} ${bad}`);
    }
  }
  const missing = await runCliInProcess(['kinit', '-c'], { env: NO_CONFIG });
  assert.equal(missing.stderr.split('\n')[0], "kinit: option requires an argument -- 'c'");
});

test('other commands keep exit 2 for a usage error, without Node\'s parseArgs advice', async () => {
  const r = await runCliInProcess(['realm', 'init', '--bogus'], { env: NO_CONFIG });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unrecognized option '--bogus'/);
  assert.doesNotMatch(r.stderr, /To specify a positional argument/);
});

test('kerbside --version and kerbside version print package.json\'s version (the real binary)', async () => {
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', `file://${CLI_MAIN}`), 'utf8')) as { version: string };
  for (const arg of ['--version', 'version']) {
    const r = await runCli([arg]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `kerbside ${pkg.version}\n`);
  }
});

test('usage tables are frozen; --help after -- is an argument', () => {
  const t = usageTable({ synopsis: ['Usage: x'], options: [['-a', 'all']], usageExit: 1 });
  assert.ok(Object.isFrozen(t) && Object.isFrozen(t.options) && Object.isFrozen(t.options[0]));
  assert.equal(formatUsage(t), 'Usage: x\n\t-a all\n\n    kerbside options:\n\t-h, --help print this usage');
  assert.equal(wantsHelp(['-c', 'x', '--help']), true);
  assert.equal(wantsHelp(['--', '--help']), false);
});
