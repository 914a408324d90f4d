import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrincipal, principalEquals, principalToString } from './principal.js';

test('principal text forms use MIT krb5_unparse_name quoting', () => {
  const p = { realm: 'EX/AMPLE@X', nameType: 1, components: ['a/b', 'c@d', 'e\\f', 'tab\there'] };
  const text = principalToString(p);
  assert.equal(text, 'a\\/b/c\\@d/e\\\\f/tab\\there@EX/AMPLE\\@X');
  assert.deepEqual(parsePrincipal(text), p);
  assert.deepEqual(parsePrincipal('HTTP/host@EXAMPLE.TEST', { nameType: 2 }), { realm: 'EXAMPLE.TEST', nameType: 2, components: ['HTTP', 'host'] });
  assert.deepEqual(parsePrincipal('alice', { defaultRealm: 'R' }).realm, 'R');
  assert.throws(() => parsePrincipal('alice'), /no realm/);
  assert.throws(() => parsePrincipal('a@B@C'), /more than one/);
  assert.throws(() => parsePrincipal('@R'), /no name components/);
  assert.ok(principalEquals(parsePrincipal('a/b@R'), { realm: 'R', nameType: 3, components: ['a', 'b'] }));
  assert.ok(!principalEquals(parsePrincipal('a/b@R'), parsePrincipal('a@R')));
});
