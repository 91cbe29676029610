import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type JsonScan, MAX_DEPTH, positionAt, scanJson } from '../../../src/config/json-scan.ts';

function failure(text: string) {
  const scan = scanJson(text);
  if (scan.ok) throw new Error('expected a syntax error');
  const { unexpected, line, column } = scan;
  return { unexpected, line, column };
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The members as JSON.parse would give them, scalars as strings. */
function asParsed(members: ReadonlyMap<string, { readonly text?: string }> | undefined) {
  return members === undefined ? undefined : [...members].map(([k, m]) => [k, m.text]);
}

/** Whitespace between tokens, including every line break JSON allows. */
const spacing = fc.constantFrom('', ' ', '\t', '\n', '\r\n', '\r', '  \n  ');

describe('scanJson', () => {
  it('accepts exactly what JSON.parse accepts (valid JSON, then single-character edits of it)', () => {
    const edited = fc
      .tuple(
        fc.json(),
        fc.nat(),
        fc.constantFrom('', '"', ',', '}', ']', '\\', '0', '-', 'e', '.', '\n', ' '),
      )
      .map(([json, at, insert]) => {
        const i = at % (json.length + 1);
        return at % 2 === 0
          ? json.slice(0, i) + insert + json.slice(i)
          : json.slice(0, i) + json.slice(i + 1);
      });
    fc.assert(
      fc.property(fc.oneof(fc.json(), edited, fc.string()), (text) => {
        expect(scanJson(text).ok).toBe(parses(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('records the top-level members as JSON.parse reads them, numbers as written', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string(),
          fc.oneof(
            fc.string(),
            fc.boolean(),
            fc.integer(),
            fc.double({ noNaN: true, noDefaultInfinity: true }),
          ),
        ),
        spacing,
        (record, ws) => {
          const text = JSON.stringify(record, null, 1).replaceAll('\n', ws === '' ? '\n' : ws);
          const scan = scanJson(text);
          expect(scan.ok).toBe(true);
          const parsed = JSON.parse(text) as Record<string, unknown>;
          const members = scan.ok ? scan.members : undefined;
          expect(members?.size).toBe(Object.keys(parsed).length);
          for (const [key, value] of Object.entries(parsed)) {
            const m = members?.get(key);
            if (typeof value === 'number') expect(Number(m?.text)).toBe(value);
            else expect(m?.text).toBe(String(value));
          }
        },
      ),
    );
  });

  it('decodes escaped keys and values, surrogate pairs included', () => {
    const scan = scanJson('{"na\\u006De": "a\\"b\\\\c\\/\\b\\f\\n\\r\\t\\ud83d\\ude00", "\\u00e9": 1}');
    expect(asParsed(scan.ok ? scan.members : undefined)).toEqual([
      ['name', 'a"b\\c/\b\f\n\r\t😀'],
      ['é', '1'],
    ]);
  });

  it('keeps number text and types, and leaves non-scalars without text', () => {
    const scan = scanJson(
      '{"a": 1.0, "b": 12345678901234567890, "c": -0, "d": 1e400, "e": true, "f": null, "g": [1], "h": {}}',
    );
    if (!scan.ok) throw new Error('expected valid JSON');
    expect(asParsed(scan.members)).toEqual([
      ['a', '1.0'],
      ['b', '12345678901234567890'],
      ['c', '-0'],
      ['d', '1e400'],
      ['e', 'true'],
      ['f', undefined],
      ['g', undefined],
      ['h', undefined],
    ]);
    expect([...scan.members!.values()].map((m) => m.type)).toEqual([
      'number',
      'number',
      'number',
      'number',
      'boolean',
      'null',
      'array',
      'object',
    ]);
  });

  it('gives each key the line of its last occurrence, keeping its first place', () => {
    const scan = scanJson('{\n"name": "file",\n"a": 1,\n"file": "x",\n"a": 2\n}');
    if (!scan.ok) throw new Error('expected valid JSON');
    expect([...scan.members!]).toEqual([
      ['name', { line: 2, type: 'string', text: 'file' }],
      ['a', { line: 5, type: 'number', text: '2' }],
      ['file', { line: 4, type: 'string', text: 'x' }],
    ]);
  });

  it('records the members of the last top-level "config" object only', () => {
    const nested = scanJson(
      '{"name": "a", "x": {"config": {"k": 1}}, "config": {\n"k": "v",\n"o": {"config": 2}}}',
    );
    if (!nested.ok) throw new Error('expected valid JSON');
    expect(asParsed(nested.config)).toEqual([
      ['k', 'v'],
      ['o', undefined],
    ]);
    expect(nested.config?.get('k')?.line).toBe(2);
    const replaced = scanJson('{"config": {"k": 1}, "config": "flat"}');
    expect(replaced.ok && replaced.config).toBe(undefined);
    const twice = scanJson('{"config": {"k": 1}, "config": {"j": 2}}');
    expect(asParsed(twice.ok ? twice.config : undefined)).toEqual([['j', '2']]);
  });

  it('reports the type and line of a top-level value that is not an object', () => {
    expect(scanJson('\n\n [1, 2]')).toEqual({ ok: true, type: 'array', line: 3 } satisfies JsonScan);
    expect(scanJson('"s"')).toEqual({ ok: true, type: 'string', line: 1 });
  });

  it('reports the first error by kind, line and column, never by its text', () => {
    expect(failure('{\n  "password": hunter2\n}')).toEqual({ unexpected: 'character', line: 2, column: 15 });
    expect(failure('{"a": "x')).toEqual({ unexpected: 'end of input', line: 1, column: 9 });
    expect(failure('')).toEqual({ unexpected: 'end of input', line: 1, column: 1 });
    expect(failure('{"a": 1,\n}')).toEqual({ unexpected: 'character', line: 2, column: 1 });
    expect(failure('{"a": "line\nbreak"}')).toEqual({ unexpected: 'line break', line: 1, column: 12 });
    expect(failure('{"a": "tab\there"}')).toEqual({ unexpected: 'control character', line: 1, column: 11 });
    expect(failure('{"a": "\\x"}')).toEqual({ unexpected: 'character', line: 1, column: 9 });
    expect(failure('{"a": "\\u12g4"}')).toEqual({ unexpected: 'character', line: 1, column: 12 });
    expect(failure('{"a": 01}')).toEqual({ unexpected: 'character', line: 1, column: 8 });
    expect(failure('{"a": 1.}')).toEqual({ unexpected: 'character', line: 1, column: 9 });
    expect(failure('{"a": -}')).toEqual({ unexpected: 'character', line: 1, column: 8 });
    expect(failure('{"a": 1e}')).toEqual({ unexpected: 'character', line: 1, column: 9 });
    expect(failure('{"a": tru}')).toEqual({ unexpected: 'character', line: 1, column: 10 });
    expect(failure("{'a': 1}")).toEqual({ unexpected: 'character', line: 1, column: 2 });
    expect(failure('{"a" 1}')).toEqual({ unexpected: 'character', line: 1, column: 6 });
    expect(failure('{} {}')).toEqual({ unexpected: 'character', line: 1, column: 4 });
    expect(failure('[1 2]')).toEqual({ unexpected: 'character', line: 1, column: 4 });
    expect(failure('\uFEFF{}')).toEqual({ unexpected: 'character', line: 1, column: 1 });
  });

  it('counts \\n, \\r\\n and a lone \\r as line breaks, and columns in code points', () => {
    expect(failure('{\r\n"a":\r1,\n\n "😀": x}')).toEqual({ unexpected: 'character', line: 5, column: 7 });
    expect(failure('{"😀😀": x}')).toEqual({ unexpected: 'character', line: 1, column: 8 });
    expect(positionAt('a\r\nb\rc\nd', 7)).toEqual({ line: 4, column: 1 });
  });

  it(`stops at nesting deeper than ${MAX_DEPTH} levels instead of overflowing the stack`, () => {
    expect(scanJson(`${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}`).ok).toBe(true);
    expect(failure(`{"a": ${'[{"b": '.repeat(100_000)}`)).toEqual({
      unexpected: `nesting deeper than ${MAX_DEPTH} levels`,
      line: 1,
      column: '{"a": '.length + '[{"b": '.length * (MAX_DEPTH / 2 - 1) + 2, // the '{' at depth 513
    });
  });
});
