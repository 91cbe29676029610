import { describe, expect, it } from 'vitest';
import { closest, editDistance } from '../../../src/config/suggest.ts';

describe('closest', () => {
  it('suggests the key a typo was meant to be', () => {
    const keys = ['tasks.max', 'topics', 'topics.regex', 'connector.class', 'name'];
    expect(closest('task.max', keys)).toBe('tasks.max');
    expect(closest('tasks.mxa', keys)).toBe('tasks.max');
    expect(closest('conector.class', keys)).toBe('connector.class');
    expect(closest('Topics', keys)).toBe('topics');
  });

  it('suggests nothing for a key far from every known one', () => {
    expect(closest('completely.different', ['tasks.max', 'topics'])).toBeUndefined();
  });

  it('counts a transposition as one edit', () => {
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
