import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { generateKey } from '../crypto/index.js';
import { MemoryStore } from '../store/index.js';
import { realmAdmin } from './admin.js';
import { masterKeyProtector } from './keys.js';
import { PasswordQualityError, characterClasses, type PasswordQualityPolicy } from './password-quality.js';

const REALM = 'EXAMPLE.TEST';

function admin(passwordQuality: PasswordQualityPolicy) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const random = seededRandom(11);
  const store = new MemoryStore({ clock });
  // Wrapped keys, as in a realm directory: history must unwrap the old keys to compare.
  const keys = masterKeyProtector(generateKey(18, random), random);
  return realmAdmin({ realm: REALM, store, clock, random, keys, passwordQuality });
}

async function refusal(p: Promise<unknown>, password: string): Promise<PasswordQualityError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof PasswordQualityError, String(err));
    assert.ok(!err.message.includes(password) && !(err.hint ?? '').includes(password), 'the password is never in the error');
    return err;
  }
  assert.fail('the password was accepted');
}

test('MIT character classes: lower, upper, digits, punctuation, other', () => {
  assert.equal(characterClasses('abc'), 1);
  assert.equal(characterClasses('abcDEF'), 2);
  assert.equal(characterClasses('aB3!'), 4);
  assert.equal(characterClasses('aB3! é'), 5);
  assert.equal(characterClasses(''), 0);
});

test('minlength and minclasses refuse on add and set-password, naming the rule', async () => {
  const a = admin({ minLength: 8, minClasses: 2, history: 1 });
  const short = await refusal(a.addPrincipal('alice', { password: 'Ab1!' }), 'Ab1!');
  assert.equal(short.rule, 'minlength');
  assert.match(short.message, /alice@EXAMPLE\.TEST .*\(minlength\): it is shorter than 8 characters/);
  const oneClass = await refusal(a.addPrincipal('alice', { password: 'correcthorse' }), 'correcthorse');
  assert.equal(oneClass.rule, 'minclasses');
  assert.match(oneClass.message, /fewer than 2 of the character classes/);
  assert.equal(await a.store.get(`alice@${REALM}`), undefined, 'nothing was created');
  await a.addPrincipal('alice', { password: 'correct horse' });
  assert.equal((await refusal(a.setPassword('alice', 'battery'), 'battery')).rule, 'minlength');
  // random keys are not passwords
  await a.addPrincipal('svc/x');
  await a.randkey('svc/x');
});

test('history 1: the current password may not be set again; an older one may', async () => {
  const a = admin({ minLength: 8, minClasses: 2, history: 1 });
  await a.addPrincipal('alice', { password: 'First-password' });
  assert.equal((await refusal(a.setPassword('alice', 'First-password'), 'First-password')).rule, 'history');
  await a.setPassword('alice', 'Second-password');
  await a.setPassword('alice', 'First-password');
  assert.equal((await a.store.get(`alice@${REALM}`))?.kvno, 3);
});

test('history 3: the passwords of the last three kvnos come back refused, as far back as old kvnos are kept', async () => {
  const a = admin({ minLength: 8, minClasses: 2, history: 3 });
  await a.addPrincipal('alice', { password: 'Password-1' });
  await a.setPassword('alice', 'Password-2');
  await a.setPassword('alice', 'Password-3');
  for (const old of ['Password-1', 'Password-2', 'Password-3']) {
    const err = await refusal(a.setPassword('alice', old), old);
    assert.equal(err.rule, 'history');
    assert.match(err.message, /one of the last 3 key versions/);
  }
  await a.setPassword('alice', 'Password-4');
  await a.setPassword('alice', 'Password-1'); // kvno 1 is now outside the last three
  // a purge forgets the old keys, and with them the history
  await a.setPassword('alice', 'Password-5', { keepOld: false });
  await a.setPassword('alice', 'Password-4');
});

test('policy values are checked (MIT: minclasses 1 to 5, history at least 1)', () => {
  assert.throws(() => admin({ minLength: 8, minClasses: 6, history: 1 }), /minclasses must be a whole number from 1 to 5/);
  assert.throws(() => admin({ minLength: 8, minClasses: 2, history: 0 }), /history must be a whole number from 1/);
});
