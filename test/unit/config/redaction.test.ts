import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HIDDEN, isSecretKeyName, Redactor } from '../../../src/config/redaction.ts';

describe('Redactor', () => {
  it('treats passwords, JAAS configs, private keys, tokens and secrets as secret by name', () => {
    for (const key of [
      'sasl.jaas.config',
      'ssl.key.password',
      'ssl.keystore.key',
      'aws.secret.access.key',
      'producer.sasl.jaas.config',
      'api.token',
      'connection.password',
    ]) {
      expect(isSecretKeyName(key), key).toBe(true);
    }
    for (const key of ['key.converter', 'topics', 'tasks.max', 'ssl.truststore.location', 'name']) {
      expect(isSecretKeyName(key), key).toBe(false);
    }
  });

  it('hides secret values in text, longest first', () => {
    const r = new Redactor(['s3cret', 's3cret-longer', 'ab'], ['my.custom.key']);
    expect(r.text('a s3cret-longer and s3cret')).toBe(`a ${HIDDEN} and ${HIDDEN}`);
    expect(r.text('ab stays: too short to search for')).toBe('ab stays: too short to search for');
    expect(r.show('my.custom.key', 'x')).toBe(HIDDEN);
    expect(r.show('topic', 'plain')).toBe('plain');
  });

  it('redacts nested structures by key and by value', () => {
    const r = new Redactor(['hunter2-pass']);
    expect(
      r.deep({ user: 'u', password: 'p', nested: [{ 'sasl.jaas.config': 'x', note: 'pw is hunter2-pass' }] }),
    ).toEqual({
      user: 'u',
      password: HIDDEN,
      nested: [{ 'sasl.jaas.config': HIDDEN, note: `pw is ${HIDDEN}` }],
    });
  });

  it('hides overlapping secrets as one span, leaving no part of either (t11)', () => {
    const r = new Redactor(['user-adm', 'adminPassw0rd']);
    const shown = r.text('login=user-adminPassw0rd');
    expect(shown).toBe(`login=${HIDDEN}`);
    expect(shown).not.toContain('inPassw0rd');
    expect(shown).not.toContain('adminPassw0rd');
    expect(shown).not.toContain('user-');
    expect(new Redactor(['abcd', 'cdef']).text('abcdef abcd cdef')).toBe(`${HIDDEN} ${HIDDEN} ${HIDDEN}`);
    expect(new Redactor(['aaaa']).text('xaaaaay')).toBe(`x${HIDDEN}y`);
    expect(new Redactor(['abcd', 'efgh']).text('abcdefgh, abcd-efgh')).toBe(`${HIDDEN}, ${HIDDEN}-${HIDDEN}`);
  });

  it('hides every secret in text of any length, property-checked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'c'), minLength: 4, maxLength: 8 }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.string({ unit: fc.constantFrom('a', 'b', 'c', ' '), maxLength: 60 }),
        (secrets, text) => {
          const shown = new Redactor(secrets).text(text);
          for (const secret of secrets) expect(shown).not.toContain(secret);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('escapes regular-expression characters in secret values', () => {
    const r = new Redactor(['a+b(c)*$']);
    expect(r.text('x a+b(c)*$ y')).toBe(`x ${HIDDEN} y`);
  });

  it('hides a value whole when it looks secret, whatever its key (a line joined by a stray backslash)', () => {
    const r = new Redactor();
    const joined =
      '1000sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="pw-123";';
    expect(r.value(joined)).toBe(HIDDEN);
    expect(r.show('offset.flush.interval.ms', joined)).toBe(HIDDEN);
    for (const v of [
      '1ssl.key.password=abcd',
      '{"secretAccessKey":"x1y2"}',
      'mongodb://u:pw@h/db',
      'X required',
    ]) {
      expect(r.value(v) === HIDDEN, v).toBe(v !== 'X required');
    }
    // Key names in prose, and placeholders, are not secrets.
    for (const v of [
      'ssl.key.password: a string',
      'sasl.jaas.config: see the docs',
      'password="..."',
      'orders',
    ])
      expect(r.value(v)).toBe(v);
  });

  it('hides a secret-shaped assignment in free text to the end of its line, idempotently', () => {
    const r = new Redactor();
    const text = 'bad value 1000sasl.jaas.config=org.X required username="u" password="p w;d";\nnext line';
    const once = r.text(text);
    expect(once).toBe(`bad value 1000sasl.jaas.config=${HIDDEN}\nnext line`);
    expect(r.text(once)).toBe(once);
    expect(r.text('{"user":"u","password":"pw-9"}')).toBe(`{"user":"u","password":${HIDDEN}`);
    expect(r.text('expected ...LoginModule required username="..." password="...";')).toBe(
      'expected ...LoginModule required username="..." password="...";',
    );
  });

  it('hides known values in their JSON-escaped forms too', () => {
    const secret = 'a"b\\c\nd';
    const r = new Redactor([secret]);
    const once = JSON.stringify(secret);
    const twice = JSON.stringify(JSON.stringify({ v: secret }));
    expect(r.text(`x ${once} y`)).not.toContain(once.slice(1, -1));
    expect(r.text(twice)).not.toContain(JSON.stringify(once.slice(1, -1)).slice(1, -1));
  });
});
