/** Principal name text form with MIT krb5_parse_name / krb5_unparse_name quoting. */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NameType, PrincipalSyntaxError, principalNameFromString, principalNameToString } from './index.js';

test('service@realm, user without realm, krbtgt gets NT_SRV_INST', () => {
  assert.deepEqual(principalNameFromString('HTTP/host.example.com@EXAMPLE.COM'), {
    name: { nameType: NameType.NT_PRINCIPAL, nameString: ['HTTP', 'host.example.com'] }, realm: 'EXAMPLE.COM',
  });
  assert.deepEqual(principalNameFromString('alice'), { name: { nameType: 1, nameString: ['alice'] } });
  assert.deepEqual(principalNameFromString('krbtgt/EXAMPLE.COM@EXAMPLE.COM').name,
    { nameType: NameType.NT_SRV_INST, nameString: ['krbtgt', 'EXAMPLE.COM'] });
  assert.equal(principalNameFromString('host/a@R', { nameType: NameType.NT_SRV_HST }).name.nameType, 3);
  assert.deepEqual(principalNameFromString('a//b').name.nameString, ['a', '', 'b']);
});

test('MIT escapes: \\/ \\@ \\\\ \\n \\t \\b \\0 and any other escaped character', () => {
  const p = principalNameFromString('a\\/b/c\\@d/e\\\\f/g\\nh\\ti\\bj\\0k/\\x@RE\\@AL');
  assert.deepEqual(p.name.nameString, ['a/b', 'c@d', 'e\\f', 'g\nh\ti\bj\0k', 'x']);
  assert.equal(p.realm, 'RE@AL');
  assert.equal(principalNameToString(p.name, p.realm), 'a\\/b/c\\@d/e\\\\f/g\\nh\\ti\\bj\\0k/x@RE\\@AL');
});

test('toString then fromString is the identity on awkward names', () => {
  const names = [['a/b', '@', '\\', '\n\t\b\0', 'ünïcode', ''], ['x']];
  for (const nameString of names) {
    const text = principalNameToString({ nameType: 1, nameString }, 'R/EALM');
    const back = principalNameFromString(text);
    assert.deepEqual(back.name.nameString, nameString);
    assert.equal(back.realm, 'R/EALM');
  }
  assert.equal(principalNameToString({ nameType: 1, nameString: ['alice'] }), 'alice');
});

test('enterprise names keep the first @ inside the single component', () => {
  const p = principalNameFromString('alice@example.com@EXAMPLE.COM', { enterprise: true });
  assert.deepEqual(p, { name: { nameType: NameType.NT_ENTERPRISE, nameString: ['alice@example.com'] }, realm: 'EXAMPLE.COM' });
  assert.equal(principalNameToString(p.name, p.realm), 'alice\\@example.com@EXAMPLE.COM');
});

test('malformed names are PrincipalSyntaxError', () => {
  for (const bad of ['a@b@c', 'a@', 'a@R/x', 'trailing\\']) {
    assert.throws(() => principalNameFromString(bad), (e: unknown) => e instanceof PrincipalSyntaxError && /cannot parse/.test((e as Error).message), bad);
  }
});
