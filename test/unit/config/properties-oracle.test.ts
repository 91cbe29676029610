/**
 * Our `.properties` parser against `java.util.Properties` itself: a hand-picked corpus, thousands of
 * generated inputs, and files read from disk. Needs `java` (17+); set CONNECT_FN_SKIP_JAVA_ORACLE=1 to skip.
 */
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
import { ConfigInvalidError } from '../../../src/errors.ts';
import {
  asciiJson,
  JAVA_MALFORMED_UNICODE,
  type JavaAnswer,
  javaOracleSkipReason,
  javaOutcome,
  type LoadOutcome,
  PropertiesOracle,
} from '../../support/java-oracle.ts';
import { propertiesFile, propertiesSoup } from './properties-arbitraries.ts';
import { PROPERTIES_CORPUS } from './properties-corpus.ts';

/** Our parser's result in the oracle's terms. */
function ourOutcome(text: string): LoadOutcome {
  try {
    return { entries: [...parseProperties(text, 'oracle.properties').values] };
  } catch (err) {
    const malformed =
      err instanceof ConfigInvalidError && err.problems.every((p) => p.expected === UNICODE_ESCAPE_EXPECTED);
    return { error: malformed ? JAVA_MALFORMED_UNICODE : `ours threw ${String(err)}` };
  }
}

function expectSameAsJava(text: string, answer: JavaAnswer | undefined): void {
  const java = javaOutcome(answer!);
  const ours = ourOutcome(text);
  const show = `input ${asciiJson(text)}\n  java: ${asciiJson(java)}\n  ours: ${asciiJson(ours)}`;
  expect(ours, show).toEqual(java);
}

/** Compares each run's batch of inputs in one JVM round trip; 100 runs x 25 inputs = 2,500 per property. */
async function assertMatchesJava(oracle: PropertiesOracle, input: fc.Arbitrary<string>): Promise<void> {
  const batch = fc.array(input, { minLength: 25, maxLength: 25 });
  await fc.assert(
    fc.asyncProperty(batch, async (texts) => {
      const answers = await oracle.loadStrings(texts);
      for (const [i, text] of texts.entries()) expectSameAsJava(text, answers[i]);
    }),
    { numRuns: 100 },
  );
}

const skipReason = javaOracleSkipReason();
if (skipReason !== undefined) console.warn(`properties oracle tests skipped: ${skipReason}`);
const suite = skipReason === undefined ? 'java oracle' : `java oracle (skipped: ${skipReason})`;

describe.skipIf(skipReason !== undefined)(suite, () => {
  let oracle: PropertiesOracle | undefined;
  let corpusAnswers: JavaAnswer[] = [];
  let dir = '';

  beforeAll(async () => {
    oracle = await PropertiesOracle.start();
    corpusAnswers = await oracle.loadStrings(PROPERTIES_CORPUS.map((c) => c.text));
    dir = await mkdtemp(join(tmpdir(), 'connect-fn-properties-'));
  }, 20_000);

  afterAll(async () => {
    await oracle?.close();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  describe('parses the tricky corpus as Java does', () => {
    it.for(PROPERTIES_CORPUS.map((c, i) => ({ ...c, i })))('$name', ({ text, i }) => {
      expectSameAsJava(text, corpusAnswers[i]);
    });
  });

  it('parses generated character soups as Java does', async () => {
    await assertMatchesJava(oracle!, propertiesSoup);
  });

  it('parses generated line-structured files as Java does', async () => {
    await assertMatchesJava(oracle!, propertiesFile);
  });

  it('documents some outcomes explicitly (the oracle agrees)', async () => {
    const cases: [string, LoadOutcome][] = [
      [
        'a\\=b = c\n# x \\\nd',
        {
          entries: [
            ['a=b', 'c'],
            ['d', ''],
          ],
        },
      ],
      [
        'a=b\\\n  #c\n\\',
        {
          entries: [
            ['a', 'b#c'],
            ['', ''],
          ],
        },
      ],
      ['\\\n#c\nk', { entries: [['k', '']] }],
      ['k=\\u00', { error: JAVA_MALFORMED_UNICODE }],
    ];
    const answers = await oracle!.loadStrings(cases.map(([text]) => text));
    cases.forEach(([text, expected], i) => {
      expect(javaOutcome(answers[i]!)).toEqual(expected);
      expect(ourOutcome(text)).toEqual(expected);
    });
  });

  describe('readPropertiesFile reads UTF-8 files as Java reads them through a UTF-8 Reader', () => {
    const files: [string, string][] = [
      ['ascii with escapes', 'name=s3\\u00e9\r\ntopics=a,\\\n  b\n'],
      ['UTF-8 byte order mark', '\uFEFFname=x\n'],
      ['raw non-ASCII', 'clé=välue €😀\n'],
    ];
    it.for(files)('%s', async ([name, text]) => {
      const path = join(dir, `${name.replaceAll(' ', '-')}.properties`);
      await writeFile(path, text, 'utf8');
      const java = javaOutcome(await oracle!.loadFileUtf8(path));
      expect({ entries: [...(await readPropertiesFile(path)).values] }).toEqual(java);
    });
  });

  describe('readPropertiesFile rejects bytes that are not UTF-8, where Java substitutes U+FFFD', () => {
    const files: [string, number[], number][] = [
      ['ISO-8859-1 é', [0x6b, 0x3d, 0x63, 0x61, 0x66, 0xe9, 0x0a], 1],
      ['truncated sequence', [0x6b, 0x3d, 0x0a, 0x6a, 0x3d, 0xe2, 0x82], 2],
      ['encoded surrogate', [0x0d, 0x0a, 0x0d, 0x6b, 0x3d, 0xed, 0xa0, 0x80, 0x21], 3],
      ['overlong and invalid bytes', [0x6b, 0x3d, 0xc0, 0x80, 0xff, 0x21], 1],
    ];
    it.for(files)('%s', async ([name, bytes, line]) => {
      const path = join(dir, `${name.replaceAll(' ', '-')}.properties`);
      await writeFile(path, Buffer.from(bytes));
      expect(JSON.stringify(await oracle!.loadFileUtf8(path))).toContain('\uFFFD');
      const error = await readPropertiesFile(path).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(ConfigInvalidError);
      expect((error as ConfigInvalidError).problems).toEqual([
        {
          file: path,
          key: '(syntax)',
          expected: UTF8_EXPECTED,
          got: expect.stringMatching(/^a byte that is not UTF-8 at byte \d+ of the line$/),
          line,
        },
      ]);
    });
  });

  it('agrees with Kafka Connect (ISO-8859-1) on ASCII files but not on raw non-ASCII', async () => {
    const ascii = join(dir, 'ascii.properties');
    await writeFile(ascii, 'k=caf\\u00e9 \\uD83D\\uDE00\n');
    expect(javaOutcome(await oracle!.loadFileLatin1(ascii))).toEqual(
      javaOutcome(await oracle!.loadFileUtf8(ascii)),
    );

    const raw = join(dir, 'raw.properties');
    await writeFile(raw, 'k=café\n', 'utf8');
    expect(javaOutcome(await oracle!.loadFileLatin1(raw))).toEqual({ entries: [['k', 'cafÃ©']] });
    expect([...(await readPropertiesFile(raw)).values]).toEqual([['k', 'café']]);
  });
});
