import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseProperties,
  readPropertiesFile,
  UNICODE_ESCAPE_EXPECTED,
  UTF8_EXPECTED,
} from '../../../src/config/properties.ts';
import { ConfigInvalidError, formatProblem } from '../../../src/errors.ts';
import { propertiesFile } from './properties-arbitraries.ts';

function problemsOf(act: () => unknown): ConfigInvalidError['problems'] {
  try {
    act();
  } catch (err) {
    if (err instanceof ConfigInvalidError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigInvalidError');
}

/** Offset where 1-based natural line `line` starts, counting `\r\n`, `\r` and `\n` as line ends. */
function lineStart(text: string, line: number): number {
  let offset = 0;
  for (let n = 1; n < line; n++) {
    const end = text.slice(offset).search(/\r\n|\r|\n/);
    offset += end + (text.startsWith('\r\n', offset + end) ? 2 : 1);
  }
  return offset;
}

describe('parseProperties', () => {
  it('keeps keys in first-appearance order, the last value winning', () => {
    const parsed = parseProperties('b=1\n2=two\na=2\nb=3\n1=one\n__proto__=p', 'x.properties');

    expect([...parsed.values]).toEqual([
      ['b', '3'],
      ['2', 'two'],
      ['a', '2'],
      ['1', 'one'],
      ['__proto__', 'p'],
    ]);
    expect(parsed.file).toBe('x.properties');
  });

  it('reads the syntax of java.util.Properties (the oracle test proves the rest)', () => {
    const text = [
      '# comment \\',
      'not.continued = yes',
      'a\\=b : c\\u00e9 ',
      'topics=orders,\\',
      '   #refunds',
      'flag',
    ].join('\n');

    expect(Object.fromEntries(parseProperties(text, 'x.properties').values)).toEqual({
      'not.continued': 'yes',
      'a=b': 'cé ',
      topics: 'orders,#refunds',
      flag: '',
    });
  });

  it('records the line where the last definition of each key starts', () => {
    const text = 'a=1\r\n\r\n# c\rb=x\\\n  y\\\r\n  z\nc\\\n\\\n  =3\n\\\n\\\n d=4\r\na=5';

    const { lines } = parseProperties(text, 'x.properties');

    expect(Object.fromEntries(lines)).toEqual({ a: 13, b: 4, c: 7, d: 12 });
  });

  it('reports a malformed \\u escape with its key and the line it is on, never its text', () => {
    const problems = problemsOf(() => parseProperties('ok=1\nk=abc\\\n  \\u12G4 \n', 'conn.properties'));

    expect(problems).toEqual([
      { file: 'conn.properties', key: 'k', expected: UNICODE_ESCAPE_EXPECTED, line: 3 },
    ]);
    expect(formatProblem(problems[0]!)).toBe('conn.properties:3: k: a \\uXXXX escape with four hex digits');
  });

  it('reports every malformed escape, one in a key as (syntax)', () => {
    const problems = problemsOf(() => parseProperties('\\u00=v\nfine=1\nv=\\u', 'c.properties'));

    expect(problems).toEqual([
      { file: 'c.properties', key: '(syntax)', expected: UNICODE_ESCAPE_EXPECTED, line: 1 },
      { file: 'c.properties', key: 'v', expected: UNICODE_ESCAPE_EXPECTED, line: 3 },
    ]);
  });

  it('throws an error with the stable config code', () => {
    expect(() => parseProperties('k=\\uXYZW', 'c.properties')).toThrow(
      expect.objectContaining({ code: 'CONNECT_FN_CONFIG_INVALID', retriable: false }),
    );
  });

  it('points each line number at the start of its definition (generated files)', () => {
    fc.assert(
      fc.property(propertiesFile, (text) => {
        let parsed: ReturnType<typeof parseProperties>;
        try {
          parsed = parseProperties(text, 'gen.properties');
        } catch {
          return; // malformed escapes: covered above
        }
        for (const [key, line] of parsed.lines) {
          // Parsing from that line on, the key is the first one defined, and never again.
          const rest = parseProperties(text.slice(lineStart(text, line)), 'rest.properties');
          expect([...rest.values.keys()][0], `${JSON.stringify(text)} line ${line}`).toBe(key);
          expect(rest.lines.get(key)).toBe(1);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('readPropertiesFile', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'connect-fn-properties-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads UTF-8 and keeps a byte order mark, as a Java Reader does', async () => {
    const path = join(dir, 'bom.properties');
    await writeFile(path, '\uFEFFname=café\n', 'utf8');

    const parsed = await readPropertiesFile(path);

    expect([...parsed.values]).toEqual([['\uFEFFname', 'café']]);
    expect(parsed.file).toBe(path);
  });

  it('rejects bytes that are not UTF-8, naming the line', async () => {
    const path = join(dir, 'latin1.properties');
    await writeFile(path, Buffer.from('a=1\r\nname=caf\xe9\n', 'latin1'));

    const error = await readPropertiesFile(path).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(ConfigInvalidError);
    expect((error as ConfigInvalidError).problems).toEqual([
      {
        file: path,
        key: '(syntax)',
        expected: UTF8_EXPECTED,
        got: 'a byte that is not UTF-8 at byte 9 of the line',
        line: 2,
      },
    ]);
  });
});
