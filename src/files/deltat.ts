/**
 * Durations as MIT's krb5_string_to_deltat reads them (src/lib/krb5/krb/
 * x-deltat.y): a plain number of seconds ("36000"), units "1d 2h 3m 4s" (in
 * that order, each optional after the first, blanks allowed between them),
 * "h:m" / "h:m:s", and "d-hh:mm:ss". A leading "-" negates a number. Results
 * must fit a signed 32-bit number of seconds.
 *
 * Unlike MIT (whose lexer stops silently at an unknown character, so "10x"
 * reads as 10 seconds), trailing text is an error here.
 */

import { ProfileValueError } from './errors.js';

const UNIT = { d: 86_400, h: 3_600, m: 60, s: 1 } as const;
const MAX = 0x7fffffff;
const MIN = -0x80000000;

function bad(text: string, why: string): ProfileValueError {
  return new ProfileValueError(`"${text}" is not a duration: ${why}`, {
    hint: 'write seconds ("36000"), units ("10h", "7d", "1d 2h 30m"), "h:m[:s]" or "d-hh:mm:ss"',
    detail: { value: text },
  });
}

function checked(text: string, seconds: number): number {
  if (seconds > MAX || seconds < MIN) throw bad(text, 'it does not fit in 32 bits of seconds');
  return seconds;
}

/** Parses a duration into seconds; throws ProfileValueError with the accepted forms. */
export function parseDuration(text: string): number {
  const s = text.replace(/^\s+/, '');
  const num = '(-?\\d+)';
  let m = new RegExp(`^${num}-(\\d{1,2}):(\\d{1,2}):(\\d{1,2})$`).exec(s);
  if (m !== null) return checked(text, Number(m[1]) * UNIT.d + Number(m[2]) * UNIT.h + Number(m[3]) * UNIT.m + Number(m[4]));
  m = new RegExp(`^${num}:(\\d{1,2})(?::(\\d{1,2}))?$`).exec(s);
  if (m !== null) return checked(text, Number(m[1]) * UNIT.h + Number(m[2]) * UNIT.m + Number(m[3] ?? 0));
  m = new RegExp(`^${num}$`).exec(s);
  if (m !== null) return checked(text, Number(m[1]));
  // Units in descending order, each "N<unit>", blanks allowed before each number.
  const unitRe = /\s*(-?\d+)([dhms])/y;
  let total = 0;
  let lastRank = -1;
  let consumed = 0;
  const ranks = 'dhms';
  for (;;) {
    unitRe.lastIndex = consumed;
    const u = unitRe.exec(s);
    if (u === null) break;
    const rank = ranks.indexOf(u[2]!);
    if (rank <= lastRank) throw bad(text, `unit "${u[2]}" repeated or out of order (use d, h, m, s in that order)`);
    lastRank = rank;
    total += Number(u[1]) * UNIT[u[2] as keyof typeof UNIT];
    consumed = unitRe.lastIndex;
  }
  if (lastRank < 0) throw bad(text, 'no number found');
  if (s.slice(consumed).trim() !== '') throw bad(text, `unexpected text "${s.slice(consumed).trim()}"`);
  return checked(text, total);
}

/** Formats seconds as units ("1d 2h 3m 4s", "0s"); negative durations as plain seconds. */
export function formatDuration(seconds: number): string {
  if (!Number.isInteger(seconds)) throw new ProfileValueError(`duration ${seconds} is not a whole number of seconds`);
  if (seconds <= 0) return seconds === 0 ? '0s' : String(seconds);
  let rest = seconds;
  const parts: string[] = [];
  for (const [unit, size] of Object.entries(UNIT)) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  return parts.join(' ');
}
