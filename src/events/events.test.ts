import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ManualClock } from '../core/clock.js';
import { InvalidArgumentError } from '../core/errors.js';
import { EVENT_CATALOGUE, eventTypeInfo, isValidEventType } from './catalogue.js';
import { createEmitter, UnknownEventTypeError } from './emitter.js';
import { isSecretFieldName, redactEvent } from './redact.js';
import { ALL_EVENTS_CHANNEL, diagnosticsChannelSink, fanout, jsonLinesSink, memorySink, nullSink } from './sinks.js';
import type { EventFieldsInput } from './emitter.js';
import type { KerbsideEvent } from './types.js';

const T0 = Date.UTC(2026, 0, 1);
const PASSWORD = 'hunter2-Correct-Horse';

test('the catalogue is a frozen null-prototype table of well-formed rows', () => {
  assert.ok(Object.isFrozen(EVENT_CATALOGUE));
  assert.equal(Object.getPrototypeOf(EVENT_CATALOGUE), null);
  assert.equal(eventTypeInfo('toString'), undefined);
  for (const [type, row] of Object.entries(EVENT_CATALOGUE)) {
    assert.equal(row!.type, type);
    assert.ok(isValidEventType(type), type);
    assert.ok(['debug', 'info', 'warning', 'error'].includes(row!.severity));
    assert.ok(row!.description.length > 10);
    assert.ok(Object.isFrozen(row));
  }
  assert.equal(EVENT_CATALOGUE['spnego.downgrade_refused'].windowsEventId, 40960);
  assert.equal(EVENT_CATALOGUE['credential.cannot_refresh_unattended'].severity, 'error');
  assert.ok(!isValidEventType('Kdc.Request') && !isValidEventType('kdc') && !isValidEventType('kdc..x'));
});

test('createEmitter fills time from the clock and severity from the catalogue', async () => {
  const clock = new ManualClock(T0);
  const sink = memorySink();
  const events = createEmitter(sink, clock);
  events.emit('credential.refreshed', 'renewed TGT for alice@EXAMPLE.COM', { principal: 'alice@EXAMPLE.COM', renewTill: T0 + 7e8, skipped: undefined });
  await clock.advance(1500);
  const e = events.emit('kdc.preauth_failed', 'bad password', { principal: 'bob@EXAMPLE.COM', etypes: ['aes256-cts-hmac-sha1-96'] });
  assert.deepEqual(sink.events[0], {
    type: 'credential.refreshed', time: T0, severity: 'info', message: 'renewed TGT for alice@EXAMPLE.COM',
    fields: { principal: 'alice@EXAMPLE.COM', renewTill: T0 + 7e8 },
  });
  assert.equal(e.time, T0 + 1500);
  assert.equal(e.severity, 'warning');
  assert.deepEqual(sink.ofType('kdc.preauth_failed'), [e]);
  assert.equal(events.emit('kdc.request', 'x', {}, 'debug').severity, 'debug', 'an explicit severity wins');
  sink.clear();
  assert.equal(sink.events.length, 0);
});

test('emit rejects a malformed type, and an unknown type without a severity', () => {
  const events = createEmitter(nullSink(), new ManualClock(T0));
  assert.throws(() => events.emit('kdc request', 'x'), UnknownEventTypeError);
  assert.throws(() => events.emit('kdc.requets', 'typo'), (err: unknown) => {
    assert.ok(err instanceof UnknownEventTypeError && err instanceof InvalidArgumentError);
    assert.equal(err.code, 'ERR_UNKNOWN_EVENT_TYPE');
    return true;
  });
  assert.equal(events.emit('app.custom_thing', 'mine', {}, 'info').type, 'app.custom_thing');
  assert.throws(() => events.emit('kdc.request', 'x', {}, 'warn' as 'warning'), InvalidArgumentError);
});

test('with() binds context fields; the event\'s own fields win', () => {
  const sink = memorySink();
  const kdc = createEmitter(sink, new ManualClock(T0)).with({ realm: 'EXAMPLE.COM', node: 'kdc1' });
  kdc.emit('kdc.request', 'AS-REQ', { node: 'kdc2', client: 'a@EXAMPLE.COM' });
  assert.deepEqual(sink.events[0]!.fields, { realm: 'EXAMPLE.COM', node: 'kdc2', client: 'a@EXAMPLE.COM' });
});

test('field names that look secret are recognised', () => {
  for (const n of ['password', 'newPassword', 'passwd', 'user_passphrase', 'clientSecret', 'key', 'keyvalue', 'sessionKey',
    'session_key', 'subkey', 'pin', 'userPin', 'token', 'accessToken', 'pwd', 'Authorization', 'cookie']) {
    assert.ok(isSecretFieldName(n), n);
  }
  for (const n of ['principal', 'kvno', 'keytab', 'keyVersion', 'enctype', 'pinRequired', 'tokenCount', 'service', 'realm']) {
    assert.ok(!isSecretFieldName(n), n);
  }
});

/** Every built-in sink, each with a way to read back everything it output as text. */
function allSinks() {
  const mem = memorySink();
  const lines: string[] = [];
  const published: unknown[] = [];
  return {
    sinks: [mem, jsonLinesSink((l) => lines.push(l)), diagnosticsChannelSink()],
    published,
    output: () => JSON.stringify(mem.events) + lines.join('') + JSON.stringify(published),
  };
}

const SECRET_FIELDS = {
  principal: 'alice@EXAMPLE.COM',
  password: PASSWORD,
  newPassword: PASSWORD,
  sessionKey: Buffer.from(PASSWORD).toString('hex'),
  pin: '1234',
  keyblock: 'abc',
  blob: new TextEncoder().encode(PASSWORD),
  buf: Buffer.from(PASSWORD),
  nested: { password: PASSWORD },
  mixed: ['ok', new TextEncoder().encode(PASSWORD)],
  redacted: PASSWORD as unknown as string[],
} as unknown as EventFieldsInput;

test('a password never reaches any sink output, through the emitter or handed to a sink directly', () => {
  const { sinks, published, output } = allSinks();
  const onEvent = (m: unknown) => published.push(m);
  subscribe(ALL_EVENTS_CHANNEL, onEvent);
  try {
    const events = createEmitter(fanout(...sinks), new ManualClock(T0));
    const e = events.emit('kdc.preauth_failed', 'pre-authentication failed for alice@EXAMPLE.COM', SECRET_FIELDS);
    assert.deepEqual(e.fields, {
      principal: 'alice@EXAMPLE.COM',
      redacted: ['blob', 'buf', 'keyblock', 'mixed', 'nested', 'newPassword', 'password', 'pin', 'sessionKey'].sort(),
    });
    // A caller bypassing the emitter gets the same protection from each sink.
    const raw = { type: 'kdc.request', time: T0, severity: 'info', message: 'raw', fields: SECRET_FIELDS } as KerbsideEvent;
    for (const sink of sinks) sink.emit(raw);
    const text = output();
    assert.ok(text.includes('alice@EXAMPLE.COM'), 'the sinks did record the events');
    assert.equal(published.length, 2);
    for (const needle of [PASSWORD, Buffer.from(PASSWORD).toString('hex'), '1234', '"abc"']) {
      assert.ok(!text.includes(needle), `sink output contains ${needle}`);
    }
    assert.ok(!/104,117,110,116,101,114/.test(text), 'no byte-array rendering of the password');
  } finally {
    unsubscribe(ALL_EVENTS_CHANNEL, onEvent);
  }
});

test('redactEvent leaves clean events alone and freezes what it copies', () => {
  const clean: KerbsideEvent = { type: 'kdc.request', time: 1, severity: 'info', message: 'm', fields: { a: 1, b: null, c: true } };
  assert.equal(redactEvent(clean), clean);
  const tags = ['x'];
  const dirty = redactEvent({ ...clean, fields: { tags, token: 't' } });
  tags.push('later');
  assert.deepEqual(dirty.fields, { tags: ['x'], redacted: ['token'] });
  assert.ok(Object.isFrozen(dirty) && Object.isFrozen(dirty.fields) && Object.isFrozen(dirty.fields['tags']));
  assert.deepEqual(redactEvent(dirty), dirty, 'idempotent');
});

test('jsonLinesSink writes one parseable JSON object per line', () => {
  const lines: string[] = [];
  const events = createEmitter(jsonLinesSink((l) => lines.push(l)), new ManualClock(T0));
  events.emit('acceptor.skew', 'clock skew 7m12s exceeds 5m;\ncheck NTP on host X', { skewSeconds: 432, host: 'x' });
  events.emit('acceptor.replay', 'replayed authenticator', {});
  assert.equal(lines.length, 2);
  assert.ok(lines.every((l) => l.endsWith('\n') && l.indexOf('\n') === l.length - 1));
  assert.deepEqual(JSON.parse(lines[0]!), {
    time: T0, type: 'acceptor.skew', severity: 'warning', message: 'clock skew 7m12s exceeds 5m;\ncheck NTP on host X',
    fields: { skewSeconds: 432, host: 'x' },
  });
});

test('diagnosticsChannelSink publishes on kerbside:<type> and does nothing without subscribers', () => {
  const sink = diagnosticsChannelSink();
  // Without subscribers the event is not even looked at.
  const untouchable = { type: 'acceptor.kvno_miss', get fields(): never { throw new Error('fields were read'); } } as unknown as KerbsideEvent;
  sink.emit(untouchable);
  const got: unknown[] = [];
  const onMsg = (m: unknown) => got.push(m);
  subscribe('kerbside:acceptor.kvno_miss', onMsg);
  try {
    const events = createEmitter(sink, new ManualClock(T0));
    events.emit('acceptor.kvno_miss', 'kvno 3 not in keytab', { kvno: 3 });
    events.emit('acceptor.replay', 'other type', {});
    assert.equal(got.length, 1);
    assert.equal((got[0] as KerbsideEvent).fields['kvno'], 3);
  } finally {
    unsubscribe('kerbside:acceptor.kvno_miss', onMsg);
  }
});

test('fanout delivers to every sink even when one throws, then rethrows the first error (an emitter isolates it)', () => {
  const a = memorySink();
  const b = memorySink();
  const boom = { emit() { throw new Error('disk full'); } };
  const sink = fanout(a, boom, b);
  const event: KerbsideEvent = { type: 'kdc.lockout', time: T0, severity: 'warning', message: 'locked', fields: { principal: 'p@R' } };
  assert.throws(() => sink.emit(event), /disk full/);
  assert.equal(a.events.length, 1);
  assert.equal(b.events.length, 1);
  // Through an emitter the error stops at the isolation (isolate.ts) and the caller carries on.
  const told: string[] = [];
  const onWarning = (w: Error): void => { told.push(w.message); };
  process.on('warning', onWarning);
  try {
    createEmitter(sink, new ManualClock(T0)).emit('kdc.lockout', 'locked', { principal: 'p@R' });
  } finally {
    process.off('warning', onWarning);
  }
  // the event, then the report of the failure (offered to the same sink)
  assert.deepEqual(a.events.map((e) => e.type), ['kdc.lockout', 'kdc.lockout', 'events.sink_failed']);
  assert.deepEqual(b.events.map((e) => e.type), ['kdc.lockout', 'kdc.lockout', 'events.sink_failed']);
});
