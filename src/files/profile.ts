/**
 * MIT profile syntax (krb5.conf, kdc.conf), parsed and looked up as MIT's
 * src/util/profile does (prof_parse.c, prof_tree.c; krb5.conf(5)):
 *
 * - Lines before the first line that starts with `[` are ignored.
 * - `#` or `;` after optional blanks starts a comment line.
 * - `[name]` opens a top-level section (a repeated name continues the same
 *   section); `[name]*` marks it final.
 * - `tag = value` adds a relation (blanks around `=` optional; a tag has no
 *   blanks; a value in double quotes may use \n \t \b and \\-escapes; trailing
 *   blanks are dropped). `tag = {` (or `tag =` and `{` on the next line) opens
 *   a subsection closed by `}`; `tag* = …` or `}*` marks it final. A `*` after a
 *   plain value is part of the value, as in MIT 1.20.
 * - `include FILE` / `includedir DIR` at the very start of a line read other
 *   files into the same tree, each syntactically independent (it must start
 *   its own sections). includedir reads, in byte order, the files whose names
 *   are made of letters, digits, `-` and `_`, or end in `.conf`, skipping
 *   dot files.
 * - Lookups search the files in order (earlier files first, so for a single
 *   value the earliest file wins). In each file the first subsection of a name
 *   is used. A final section on the path stops the search after that file.
 *   kerbside also honours a final relation (`tag* = value`): later values of
 *   that tag are ignored. MIT records but does not enforce that one.
 *
 * Differences from MIT, on purpose: a `{` left open at the end of a file is a
 * syntax error (MIT silently closes it), includes nest at most 16 deep (MIT
 * recurses until it crashes), and relative include paths are resolved against
 * the including file's directory rather than the process's working directory.
 */

import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { InvalidArgumentError } from '../core/errors.js';
import { FileAccessError, ProfileSyntaxError } from './errors.js';

export interface ProfileRelation {
  readonly kind: 'relation';
  readonly name: string;
  readonly value: string;
  readonly final: boolean;
  /** Where the relation was read, for error messages. */
  readonly file: string;
  readonly line: number;
}

export interface ProfileSection {
  readonly kind: 'section';
  readonly name: string;
  final: boolean;
  readonly entries: ProfileEntry[];
}

export type ProfileEntry = ProfileRelation | ProfileSection;

/** One top-level file with everything it includes. */
export interface ProfileFile {
  readonly path: string;
  readonly root: ProfileSection;
}

/** How includes reach the file system (replaceable in tests). */
export interface ProfileReader {
  readFile(path: string): Promise<string>;
  /** Names (not paths) of the entries of a directory. */
  listDirectory(path: string): Promise<string[]>;
  isDirectory(path: string): Promise<boolean>;
}

export const nodeProfileReader: ProfileReader = Object.freeze({
  readFile: (path: string) => readFile(path, 'utf8'),
  listDirectory: (path: string) => readdir(path),
  isDirectory: async (path: string) => (await stat(path)).isDirectory(),
});

const MAX_INCLUDE_DEPTH = 16;

const newSection = (name: string): ProfileSection => ({ kind: 'section', name, final: false, entries: [] });

/** Whether includedir reads a file of this name (MIT valid_name). */
export function isIncludableName(name: string): boolean {
  if (name.startsWith('.')) return false;
  if (name.length >= 5 && name.endsWith('.conf')) return true;
  return /^[A-Za-z0-9_-]+$/.test(name);
}

function firstSection(parent: ProfileSection, name: string): ProfileSection | undefined {
  for (const e of parent.entries) if (e.kind === 'section' && e.name === name) return e;
  return undefined;
}

/** Decodes a double-quoted value (after the opening quote), stopping at the closing quote. */
function unquote(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') break;
    if (ch === '\\' && i + 1 < text.length) {
      const next = text[++i]!;
      out += next === 'n' ? '\n' : next === 't' ? '\t' : next === 'b' ? '\b' : next;
      continue;
    }
    out += ch;
  }
  return out;
}

interface ParseContext {
  readonly reader: ProfileReader;
  readonly depth: number;
}

/**
 * Parses profile `text` (from `file`, used in errors and to resolve relative
 * includes) into `root`, which may already hold sections from earlier text.
 */
async function parseInto(text: string, file: string, root: ProfileSection, ctx: ParseContext): Promise<void> {
  const lines = text.split('\n');
  let started = false;                    // seen the first `[` line
  let awaitingBrace: number | undefined;  // line of `tag =` waiting for `{`
  const stack: Array<{ section: ProfileSection; line: number }> = [];
  let current: ProfileSection | undefined;
  const fail = (line: number, message: string, reason: string, hint?: string): never => {
    throw new ProfileSyntaxError(message, { file, line, reason, ...(hint === undefined ? {} : { hint }) });
  };

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!.replace(/[\r\n]+$/, '');

    const directive = /^(include|includedir)\s(.*)$/.exec(raw);
    if (directive !== null) {
      const target = directive[2]!.trim();
      const path = target === '' ? '' : isAbsolute(target) ? target : resolve(dirname(file), target);
      if (path === '') fail(lineNo, `${directive[1]} needs a path`, 'include-syntax');
      if (ctx.depth >= MAX_INCLUDE_DEPTH) fail(lineNo, `includes nest more than ${MAX_INCLUDE_DEPTH} deep (a loop?)`, 'include-depth');
      const sub: ParseContext = { reader: ctx.reader, depth: ctx.depth + 1 };
      if (directive[1] === 'include') await includeFile(path, root, sub, file, lineNo);
      else await includeDirectory(path, root, sub, file, lineNo);
      continue;
    }

    if (!started) {
      if (/^module\s/.test(raw)) {
        fail(lineNo, 'a "module" directive (profile loaded from a plugin) is not supported', 'module', 'write the configuration as a plain profile file');
      }
      if (!raw.startsWith('[')) continue;
      started = true;
    }

    if (awaitingBrace !== undefined) {
      if (!raw.trimStart().startsWith('{')) {
        fail(lineNo, `expected "{" to open the subsection started on line ${awaitingBrace}`, 'missing-open-brace');
      }
      awaitingBrace = undefined;
      continue;
    }

    const line = raw.trimStart();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;

    if (line.startsWith('[')) {
      if (stack.length > 0) fail(lineNo, `section header inside the subsection opened on line ${stack[stack.length - 1]!.line} (missing "}"?)`, 'section-not-top');
      const close = line.indexOf(']');
      if (close < 0) fail(lineNo, 'section header has no closing "]"', 'section-syntax');
      const name = line.slice(1, close);
      let rest = line.slice(close + 1);
      const final = rest.startsWith('*');
      if (final) rest = rest.slice(1);
      if (rest.trim() !== '') fail(lineNo, `unexpected text after section header: ${JSON.stringify(rest.trim())}`, 'section-syntax');
      let section = firstSection(root, name);
      if (section === undefined) {
        section = newSection(name);
        root.entries.push(section);
      }
      if (final) section.final = true;
      current = section;
      continue;
    }

    if (line.startsWith('}')) {
      const open = stack.pop();
      if (open === undefined) fail(lineNo, '"}" without a matching "{"', 'extra-close-brace');
      if (line[1] === '*') current!.final = true;
      current = open!.section;
      continue;
    }

    const eq = line.indexOf('=');
    if (eq <= 0) fail(lineNo, `expected "tag = value", "tag = {", "[section]" or "}", found ${JSON.stringify(line.slice(0, 60))}`, 'relation-syntax');
    let tag = line.slice(0, eq);
    const blank = tag.search(/\s/);
    if (blank >= 0) {
      if (tag.slice(blank).trim() !== '') fail(lineNo, `a tag cannot contain blanks: ${JSON.stringify(tag.trim())}`, 'relation-syntax');
      tag = tag.slice(0, blank);
    }
    const star = tag.indexOf('*');
    const final = star >= 0;
    if (final) tag = tag.slice(0, star);
    if (tag === '') fail(lineNo, 'relation has an empty tag', 'relation-syntax');

    let value = line.slice(eq + 1).trimStart();
    let subsection = false;
    if (value.startsWith('"')) {
      value = unquote(value.slice(1));
    } else if (value === '') {
      subsection = true;
      awaitingBrace = lineNo;
    } else if (value.startsWith('{') && value.slice(1).trim() === '') {
      subsection = true;
    } else {
      value = value.replace(/\s+$/, '');
    }

    if (subsection) {
      const section = newSection(tag);
      section.final = final;
      current!.entries.push(section);
      stack.push({ section: current!, line: lineNo });
      current = section;
    } else {
      current!.entries.push({ kind: 'relation', name: tag, value, final, file, line: lineNo });
    }
  }
  if (awaitingBrace !== undefined) fail(awaitingBrace, 'the file ends before the "{" of this subsection', 'missing-open-brace');
  if (stack.length > 0) {
    fail(stack[stack.length - 1]!.line, 'subsection opened here is not closed with "}" before the end of the file', 'unclosed-brace');
  }
}

async function includeFile(path: string, root: ProfileSection, ctx: ParseContext, from: string, line: number): Promise<void> {
  let text: string;
  try {
    text = await ctx.reader.readFile(path);
  } catch (err) {
    throw new ProfileSyntaxError(`cannot read included file ${path}`, { file: from, line, cause: err, reason: 'include-failed', detail: { include: path } });
  }
  await parseInto(text, path, root, ctx);
}

async function includeDirectory(dir: string, root: ProfileSection, ctx: ParseContext, from: string, line: number): Promise<void> {
  let names: string[];
  try {
    names = await ctx.reader.listDirectory(dir);
  } catch (err) {
    throw new ProfileSyntaxError(`cannot read included directory ${dir}`, { file: from, line, cause: err, reason: 'include-failed', detail: { include: dir } });
  }
  for (const name of names.filter(isIncludableName).sort(byteOrder)) {
    await includeFile(join(dir, name), root, ctx, from, line);
  }
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Parses one profile text (its includes are read through `reader`). */
export async function parseProfile(
  text: string,
  options: { file?: string; reader?: ProfileReader } = {},
): Promise<ProfileFile> {
  const path = options.file ?? '<text>';
  const root = newSection('');
  await parseInto(text, path, root, { reader: options.reader ?? nodeProfileReader, depth: 0 });
  return { path, root };
}

/**
 * Loads a colon-separated list of files, as MIT reads KRB5_CONFIG /
 * KRB5_KDC_PROFILE: files that do not exist are skipped; a directory
 * contributes its includable files. Earlier files take precedence.
 */
export async function loadProfile(paths: string | readonly string[], reader: ProfileReader = nodeProfileReader): Promise<Profile> {
  const list = typeof paths === 'string' ? paths.split(':').filter((p) => p !== '') : paths;
  const files: ProfileFile[] = [];
  for (const path of list) {
    let isDir: boolean;
    try {
      isDir = await reader.isDirectory(path);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR') continue;
      throw new FileAccessError(`configuration file ${path} cannot be read`, { path, cause: err, ...(code === undefined ? {} : { errno: code }) });
    }
    if (isDir) {
      const root = newSection('');
      await includeDirectory(path, root, { reader, depth: 1 }, path, 0);
      files.push({ path, root });
      continue;
    }
    let text: string;
    try {
      text = await reader.readFile(path);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOENT' || code === 'EACCES') continue;
      throw new FileAccessError(`configuration file ${path} cannot be read`, { path, cause: err, ...(code === undefined ? {} : { errno: code }) });
    }
    files.push(await parseProfile(text, { file: path, reader }));
  }
  return new Profile(files);
}

/** A merged, plain-data view: each name maps to its values (strings) and subsections, in order. */
export interface ProfileTree {
  [name: string]: Array<string | ProfileTree>;
}

/** Lookups over one or more parsed files with MIT's precedence and final rules. */
export class Profile {
  constructor(readonly files: readonly ProfileFile[]) {}

  /**
   * The sections at `path` (section names from the top), one per file at
   * most, in precedence order, stopping after a file where the path crosses a
   * final section.
   */
  #sectionsAt(path: readonly string[]): ProfileSection[] {
    const found: ProfileSection[] = [];
    for (const file of this.files) {
      let section: ProfileSection | undefined = file.root;
      let final = false;
      for (const name of path) {
        section = firstSection(section, name);
        if (section === undefined) break;
        if (section.final) final = true;
      }
      if (section !== undefined) found.push(section);
      if (final) break;
    }
    return found;
  }

  /** The relations named `path[last]` in the section `path[0..last-1]`, earliest first. */
  relations(path: readonly string[]): ProfileRelation[] {
    if (path.length < 2) throw new InvalidArgumentError('a relation path needs a section and a tag');
    const tag = path[path.length - 1]!;
    const out: ProfileRelation[] = [];
    for (const section of this.#sectionsAt(path.slice(0, -1))) {
      for (const e of section.entries) {
        if (e.kind !== 'relation' || e.name !== tag) continue;
        out.push(e);
        if (e.final) return out;
      }
    }
    return out;
  }

  /** All values of a tag, e.g. getValues(['realms', 'EXAMPLE.COM', 'kdc']). */
  getValues(path: readonly string[]): string[] {
    return this.relations(path).map((r) => r.value);
  }

  /** The first value of a tag (the earliest file wins), or undefined. */
  getValue(path: readonly string[]): string | undefined {
    return this.relations(path)[0]?.value;
  }

  /** Names of the subsections of `path` (e.g. the realms under ['realms']), first appearance order, no duplicates. */
  subsectionNames(path: readonly string[]): string[] {
    const names = new Set<string>();
    for (const section of this.#sectionsAt(path)) {
      for (const e of section.entries) if (e.kind === 'section') names.add(e.name);
    }
    return [...names];
  }

  /** Whether any file has a section at `path`. */
  hasSection(path: readonly string[]): boolean {
    return this.#sectionsAt(path).length > 0;
  }

  /** The merged view of `path` (default: everything) as plain data, following the lookup rules. */
  toTree(path: readonly string[] = []): ProfileTree {
    const tree: ProfileTree = Object.create(null) as ProfileTree;
    const sections = this.#sectionsAt(path);
    const names: string[] = [];
    for (const s of sections) for (const e of s.entries) if (!names.includes(e.name)) names.push(e.name);
    for (const name of names) {
      const values: Array<string | ProfileTree> = [];
      if (path.length > 0) values.push(...this.getValues([...path, name]));
      if (sections.some((s) => firstSection(s, name) !== undefined)) values.push(this.toTree([...path, name]));
      if (values.length > 0) tree[name] = values;
    }
    return tree;
  }
}

// ---------------------------------------------------------------------------
// Writing

/** What `formatProfile` accepts: sections of relations; arrays give several values of a tag. */
export type ProfileInputValue = string | number | boolean | ProfileInput;
export interface ProfileInput {
  readonly [name: string]: ProfileInputValue | readonly ProfileInputValue[] | undefined;
}

/** Whether MIT's writer would quote this value (leading/trailing blanks, empty, control characters). */
function needsQuotes(value: string): boolean {
  return value === '' || /^\s|\s$/.test(value) || /[\n\t\b]/.test(value) || value.startsWith('"')
    || (value.startsWith('{') && value.slice(1).trim() === '');
}

function quoteValue(value: string): string {
  return `"${value.replace(/[\\\n\t\b"]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\b' ? '\\b' : `\\${c}`))}"`;
}

function checkTag(tag: string): void {
  if (tag === '' || /[\s=*]/.test(tag) || /^[[}#;]/.test(tag)) {
    throw new InvalidArgumentError(`"${tag}" cannot be written as a profile tag (no blanks, "=", "*", and not starting with [ } # ;)`);
  }
}

function formatEntries(input: ProfileInput, indent: string, out: string[]): void {
  for (const [tag, raw] of Object.entries(input)) {
    if (raw === undefined) continue;
    checkTag(tag);
    for (const value of (Array.isArray(raw) ? raw : [raw]) as ProfileInputValue[]) {
      if (typeof value === 'object') {
        out.push(`${indent}${tag} = {`);
        formatEntries(value, `${indent}\t`, out);
        out.push(`${indent}}`);
      } else {
        const text = String(value);
        out.push(`${indent}${tag} = ${needsQuotes(text) ? quoteValue(text) : text}`);
      }
    }
  }
}

/**
 * Writes profile text from plain data: top-level keys are sections, nested
 * objects subsections, arrays repeated tags. Output parses back to the same tree.
 */
export function formatProfile(sections: Readonly<Record<string, ProfileInput>>): string {
  const out: string[] = [];
  for (const [name, body] of Object.entries(sections)) {
    if (name.includes(']') || /[\r\n]/.test(name)) throw new InvalidArgumentError(`"${name}" cannot be written as a section name`);
    if (out.length > 0) out.push('');
    out.push(`[${name}]`);
    formatEntries(body, '\t', out);
  }
  return `${out.join('\n')}\n`;
}
