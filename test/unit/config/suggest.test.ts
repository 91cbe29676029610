import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closest, editDistance, MAX_SUGGEST_LENGTH } from '../../../src/config/suggest.ts';

/** Optimal string alignment distance, the textbook way: the reference for the bounded one. */
function naiveDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      row[j] = Math.min(
        (up[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (up[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  return (d[a.length] as number[])[b.length] as number;
}

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

  it('allows a short key one edit only: two edits in three letters are a guess, not a typo', () => {
    expect(closest('nam', ['name'])).toBe('name');
    expect(closest('id', ['ab'])).toBeUndefined();
    expect(closest('file', ['name'])).toBeUndefined();
    expect(closest('topc', ['topics', 'topic'])).toBe('topic');
  });

  it('counts a transposition as one edit', () => {
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('agrees with the textbook distance, and within a bound is exact or says it is beyond it', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '.'), maxLength: 14 });
    fc.assert(
      fc.property(text, text, fc.nat(8), (a, b, max) => {
        const exact = naiveDistance(a, b);
        expect(editDistance(a, b)).toBe(exact);
        const bounded = editDistance(a, b, max);
        if (exact <= max) expect(bounded).toBe(exact);
        else expect(bounded).toBeGreaterThan(max);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('closest, kept cheap', () => {
  it('suggests nothing for an input longer than 256 characters, however close (b9)', () => {
    const long = 'a'.repeat(MAX_SUGGEST_LENGTH);
    expect(closest(`${long}b`, [`${long}c`])).toBeUndefined();
    expect(closest(long.slice(1).concat('b'), [long])).toBe(long);
    const started = performance.now();
    expect(closest('k'.repeat(3_000_000), ['tasks.max', 'k'.repeat(3_000_000)])).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('bounds the work of one call against many long candidates', () => {
    const word = (seed: number) =>
      Array.from({ length: 200 }, (_, i) => 'abcdefgh'[(seed * 7919 + i * i * 31 + i) % 8]).join('');
    const candidates = Array.from({ length: 5000 }, (_, i) => word(i + 1));
    const started = performance.now();
    for (let i = 0; i < 20; i++) closest(word(100_000 + i), candidates);
    expect(performance.now() - started).toBeLessThan(1000);
    // The bound never costs a real typo its suggestion.
    expect(closest(`${candidates[4999]?.slice(1)}x`, candidates)).toBe(candidates[4999]);
  });
});
