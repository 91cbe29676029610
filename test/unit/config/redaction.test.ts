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

  it('escapes regular-expression characters in secret values', () => {
    const r = new Redactor(['a+b(c)*$']);
    expect(r.text('x a+b(c)*$ y')).toBe(`x ${HIDDEN} y`);
  });
});
