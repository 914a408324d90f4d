import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, toHex } from '../core/bytes.js';
import {
  decodeKeytab, defaultSalt, encodeKeytab, findKeytabEntries, removeKeytabEntries, type KeytabEntry,
} from './keytab.js';
import { readKeytab, updateKeytab, writeKeytab } from './keytab-file.js';
import { FileAccessError, KeytabFormatError } from './errors.js';
import { parsePrincipal, type Principal } from './principal.js';
import { MIT_KTUTIL_KEYTAB_HEX, MIT_KTUTIL_KEYTAB_TIMESTAMP } from './testdata/mit-vectors.js';

const HTTP_HOST: Principal = { realm: 'EXAMPLE.TEST', nameType: 1, components: ['HTTP', 'host'] };

function entry(over: Partial<KeytabEntry> = {}): KeytabEntry {
  return {
    principal: HTTP_HOST, timestamp: new Date(1_700_000_000_000), kvno: 3, enctype: 18,
    key: fromHex('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff'), ...over,
  };
}

describe('keytab codec', () => {
  test('decodes the keytab MIT 1.20 ktutil wrote (doc/formats/keytab_file_format.rst)', () => {
    const entries = decodeKeytab(fromHex(MIT_KTUTIL_KEYTAB_HEX));
    assert.equal(entries.length, 2);
    const [a, b] = entries as [KeytabEntry, KeytabEntry];
    assert.deepEqual(a.principal, HTTP_HOST);
    assert.equal(a.kvno, 1);
    assert.equal(b.kvno, 300, 'the 32-bit kvno overrides the 8-bit field (300 mod 256 = 44)');
    assert.equal(a.enctype, 17);
    assert.equal(toHex(a.key), '8030db0b49dd3fb66d2af4f4fcb76708');
    assert.equal(a.timestamp.getTime(), MIT_KTUTIL_KEYTAB_TIMESTAMP * 1000);
  });

  test('re-encodes the MIT ktutil keytab byte for byte (MIT always writes the 32-bit kvno)', () => {
    const bytes = fromHex(MIT_KTUTIL_KEYTAB_HEX);
    assert.equal(toHex(encodeKeytab(decodeKeytab(bytes))), MIT_KTUTIL_KEYTAB_HEX);
  });

  test('round-trips principals with several components, large kvnos and empty keys', () => {
    const entries = [
      entry(),
      entry({ kvno: 0xffffffff, enctype: 20, principal: { realm: 'R', nameType: 3, components: ['host', 'a.example', 'x'] } }),
      entry({ kvno: 256, key: new Uint8Array(0), principal: { realm: 'ÜNICODE.TEST', nameType: 1, components: ['ünï'] } }),
    ];
    assert.deepEqual(decodeKeytab(encodeKeytab(entries)), entries);
  });

  test('skips holes (negative lengths), tolerates entries shorter than their record and stops at length 0', () => {
    const one = encodeKeytab([entry({ kvno: 7 })]).subarray(2);
    const two = encodeKeytab([entry({ kvno: 8 })]).subarray(2);
    const len = new DataView(two.buffer, two.byteOffset).getInt32(0);
    // A record 10 bytes longer than its entry (an entry written into a larger hole).
    const padded = new Uint8Array(4 + len + 10);
    new DataView(padded.buffer).setInt32(0, len + 10);
    padded.set(two.subarray(4), 4);
    const hole = new Uint8Array(4 + 12);
    new DataView(hole.buffer).setInt32(0, -12);
    const end = new Uint8Array(4 + 7).fill(0xee); // length 0 ends the file; what follows is ignored
    end.fill(0, 0, 4);
    const file = Uint8Array.from([5, 2, ...one, ...hole, ...padded, ...end]);
    // The padding after the 32-bit kvno is zero: the 32-bit kvno (8) is still read.
    assert.deepEqual(decodeKeytab(file).map((e) => e.kvno), [7, 8]);
  });

  test('uses the 8-bit kvno when the 32-bit field is absent or zero (MIT < 1.14 and other writers)', () => {
    const body = encodeKeytab([entry({ kvno: 9 })]);
    const view = new DataView(body.buffer, body.byteOffset);
    const len = view.getInt32(2);
    const short = body.slice(0, body.length - 4);
    new DataView(short.buffer).setInt32(2, len - 4);
    assert.equal(decodeKeytab(short)[0]!.kvno, 9);
    const zero = body.slice();
    zero.fill(0, zero.length - 4);
    assert.equal(decodeKeytab(zero)[0]!.kvno, 9);
  });

  test('reads version 0x0501 (host byte order, realm counted among the components, no name type)', () => {
    const le = (n: number, size: 2 | 4): number[] => (size === 2 ? [n & 0xff, n >> 8] : [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24]);
    const str = (s: string): number[] => [...le(s.length, 2), ...Buffer.from(s)];
    const body = [...le(3, 2), ...str('R'), ...str('HTTP'), ...str('h'), ...le(1000, 4), 5, ...le(17, 2), ...le(2, 2), 0xab, 0xcd];
    const file = Uint8Array.from([5, 1, ...le(body.length, 4), ...body]);
    assert.deepEqual(decodeKeytab(file), [{
      principal: { realm: 'R', nameType: 0, components: ['HTTP', 'h'] },
      timestamp: new Date(1_000_000), kvno: 5, enctype: 17, key: Uint8Array.from([0xab, 0xcd]),
    }]);
  });

  test('every truncation is a typed error, except at record boundaries (a shorter valid file)', () => {
    const full = encodeKeytab([entry({ kvno: 1 }), entry({ kvno: 2 })]);
    const firstEnd = 2 + 4 + new DataView(full.buffer).getInt32(2);
    for (let cut = 0; cut < full.length; cut++) {
      const part = full.subarray(0, cut);
      if (cut === 2 || cut === firstEnd) {
        assert.equal(decodeKeytab(part).length, cut === 2 ? 0 : 1, `cut ${cut}`);
        continue;
      }
      assert.throws(() => decodeKeytab(part), (e: unknown) => {
        assert.ok(e instanceof KeytabFormatError, `cut ${cut}: ${String(e)}`);
        assert.equal(e.code, 'ERR_KEYTAB_FORMAT');
        assert.ok(e.offset >= 0 && e.offset <= cut, `cut ${cut}: offset ${e.offset}`);
        assert.ok(['truncated', 'bad-version'].includes(e.reason), `cut ${cut}: ${e.reason}`);
        return true;
      });
    }
  });

  test('malformed files give typed errors with offset and reason', () => {
    const cases: Array<[string, Uint8Array, string, number]> = [
      ['wrong magic', Uint8Array.from([6, 2]), 'bad-version', 0],
      ['unknown version', Uint8Array.from([5, 3]), 'bad-version', 0],
      ['hole past the end', Uint8Array.from([5, 2, 0xff, 0xff, 0xff, 0x00, 0, 0]), 'length-out-of-range', 2],
      ['record past the end', Uint8Array.from([5, 2, 0, 0, 0, 50, 0, 1]), 'truncated', 2],
      // A 4-byte record whose principal claims a 16-byte realm: fields overrun the record.
      ['fields overrun the record', Uint8Array.from([5, 2, 0, 0, 0, 4, 0, 1, 0, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]), 'record-overrun', 10],
      ['invalid UTF-8 realm', Uint8Array.from([5, 2, 0, 0, 0, 5, 0, 0, 0, 1, 0xff]), 'bad-value', 10],
      ['most negative hole', Uint8Array.from([5, 2, 0x80, 0, 0, 0]), 'length-out-of-range', 2],
    ];
    for (const [name, bytes, reason, offset] of cases) {
      assert.throws(() => decodeKeytab(bytes), (e: unknown) => {
        assert.ok(e instanceof KeytabFormatError, name);
        assert.equal(e.reason, reason, name);
        assert.equal(e.offset, offset, name);
        return true;
      }, name);
    }
  });

  test('refuses to encode values that do not fit the format', () => {
    assert.throws(() => encodeKeytab([entry({ kvno: 2 ** 32 })]), /kvno/);
    assert.throws(() => encodeKeytab([entry({ enctype: -1 })]), /enctype/);
    assert.throws(() => encodeKeytab([entry({ key: new Uint8Array(70_000) })]), /65535/);
    assert.throws(() => encodeKeytab([entry({ timestamp: new Date(-1000) })]), /32-bit/);
  });
});

describe('keytab entry selection', () => {
  const other = parsePrincipal('host/x@EXAMPLE.TEST');
  const entries = [
    entry({ kvno: 1, enctype: 17 }), entry({ kvno: 1, enctype: 18 }),
    entry({ kvno: 2, enctype: 17 }), entry({ kvno: 2, enctype: 18 }),
    entry({ kvno: 5, principal: other }),
  ];

  test('removes by kvno, by principal and kvno, by enctype, and old kvnos', () => {
    assert.deepEqual(removeKeytabEntries(entries, { kvno: 1 }).map((e) => e.kvno), [2, 2, 5]);
    assert.deepEqual(removeKeytabEntries(entries, { principal: HTTP_HOST, kvno: 2 }).map((e) => `${e.kvno}/${e.enctype}`), ['1/17', '1/18', '5/18']);
    assert.deepEqual(removeKeytabEntries(entries, { enctype: 17 }).map((e) => `${e.kvno}/${e.enctype}`), ['1/18', '2/18', '5/18']);
    assert.deepEqual(removeKeytabEntries(entries, { kvno: 'old' }).map((e) => e.kvno), [2, 2, 5]);
    assert.equal(findKeytabEntries(entries, { principal: { ...other, nameType: 3 } }).length, 1, 'name type is not compared');
    assert.equal(entries.length, 5, 'the input is not changed');
  });

  test('default salt is the realm followed by the components (RFC 4120 §4)', () => {
    assert.equal(defaultSalt(HTTP_HOST), 'EXAMPLE.TESTHTTPhost');
    assert.equal(defaultSalt(parsePrincipal('alice@EXAMPLE.TEST')), 'EXAMPLE.TESTalice');
  });
});

describe('keytab files', () => {
  let dir = '';
  after(async () => { if (dir !== '') await rm(dir, { recursive: true, force: true }); });

  test('writes atomically with mode 0600, reads back, updates and reports errors with the path', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kerbside-kt-'));
    const path = join(dir, 'http.keytab');
    await writeKeytab(`FILE:${path}`, [entry()]);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await readKeytab(path), [entry()]);

    const written = await updateKeytab(`WRFILE:${path}`, (old) => [...old, entry({ kvno: 4 })]);
    assert.equal(written.length, 2);
    assert.deepEqual((await readKeytab(path)).map((e) => e.kvno), [3, 4]);
    assert.deepEqual(await readdir(dir), ['http.keytab'], 'no temporary files are left behind');

    const created = join(dir, 'new.keytab');
    await updateKeytab(created, (old) => { assert.deepEqual(old, []); return [entry()]; });
    assert.equal((await readKeytab(created)).length, 1);

    await assert.rejects(readKeytab(join(dir, 'missing')), (e: unknown) => e instanceof FileAccessError && e.errno === 'ENOENT' && /missing/.test(e.message));
    const bad = join(dir, 'bad.keytab');
    await writeFile(bad, Uint8Array.from([5, 2, 0, 0, 0, 9, 1]));
    await assert.rejects(readKeytab(bad), (e: unknown) => e instanceof KeytabFormatError && e.file === bad && e.message.includes(bad));
  });
});
