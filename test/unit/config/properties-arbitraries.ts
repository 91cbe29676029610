/**
 * fast-check generators of `.properties` text, heavy in the characters that matter to the syntax.
 */
import fc from 'fast-check';

/** Single chars (and an astral pair), weighted towards what the syntax reacts to. */
const SOUP_UNITS: readonly [fc.Arbitrary<string>, number][] = [
  [fc.constant('\\'), 12],
  [fc.constantFrom('=', ':'), 5],
  [fc.constantFrom(' ', '\t', '\f'), 5],
  [fc.constantFrom('\r', '\n', '\r\n'), 6],
  [fc.constantFrom('#', '!'), 3],
  [fc.constant('u'), 4],
  [fc.constantFrom('0', '4', '9', 'a', 'D', 'e', 'F'), 6],
  [fc.constantFrom('k', 'v', 'n', 't', 'r', 'f', 'g', 'z'), 4],
  [fc.constantFrom('é', '😀', '\uFEFF', '\uD800', '\u00a0'), 1],
];

/** Unstructured text: any mix of the characters above. */
export const propertiesSoup: fc.Arbitrary<string> = fc.string({
  unit: fc.oneof(...SOUP_UNITS.map(([arbitrary, weight]) => ({ arbitrary, weight }))),
  maxLength: 40,
});

/** Pieces of keys and values, escapes included (a few malformed `\u`). */
const token = fc.oneof(
  { arbitrary: fc.constantFrom('a', 'b', 'key', 'x.y', '1', 'é', '😀'), weight: 8 },
  {
    arbitrary: fc.constantFrom('\\=', '\\:', '\\ ', '\\\t', '\\#', '\\!', '\\\\', '\\t', '\\n', '\\q'),
    weight: 4,
  },
  { arbitrary: fc.constantFrom('\\u0041', '\\u00e9', '\\u003D', '\\uD83D\\uDE00', '\\u0020'), weight: 3 },
  { arbitrary: fc.constantFrom('=', ':', ' ', '\t', '#', '!', '\\'), weight: 3 },
  { arbitrary: fc.constantFrom('\\u12', '\\uXYZW', '\\u'), weight: 1 },
);
const text = fc.array(token, { maxLength: 5 }).map((parts) => parts.join(''));
const blanks = fc.string({ unit: fc.constantFrom(' ', '\t', '\f'), maxLength: 3 });
const separator = fc.constantFrom('=', ':', ' ', ' = ', '\t:', '  ', ' =\t', '=:', '');
const trailingBackslashes = fc.oneof(
  { arbitrary: fc.constant(''), weight: 6 },
  { arbitrary: fc.constantFrom('\\', '\\\\', '\\\\\\'), weight: 3 },
);

const entryLine = fc
  .tuple(blanks, text, separator, text, trailingBackslashes)
  .map(([lead, key, sep, value, tail]) => `${lead}${key}${sep}${value}${tail}`);
const commentLine = fc
  .tuple(blanks, fc.constantFrom('#', '!'), text, trailingBackslashes)
  .map(([lead, mark, body, tail]) => `${lead}${mark}${body}${tail}`);
const continuationLine = fc.tuple(blanks, text, trailingBackslashes).map((parts) => parts.join(''));
const line = fc.oneof(
  { arbitrary: entryLine, weight: 5 },
  { arbitrary: commentLine, weight: 2 },
  { arbitrary: continuationLine, weight: 2 },
  { arbitrary: blanks, weight: 1 },
);
const lineEnd = fc.constantFrom('\n', '\n', '\r\n', '\r');

/** Line-structured files: entries, comments, continuations and blank lines, with mixed line ends. */
export const propertiesFile: fc.Arbitrary<string> = fc
  .tuple(fc.array(fc.tuple(line, lineEnd), { maxLength: 8 }), fc.constantFrom('', '\n', '\\'))
  .map(([lines, last]) => lines.map(([l, end]) => l + end).join('') + last);
