/**
 * The JSON that Kafka Connect's internal `JsonConverter` (schemas.enable=false) writes for offset keys and
 * values, byte for byte: `JsonConverter.convertToJson` builds a Jackson tree, `JsonSerializer` writes it
 * with a default `ObjectMapper` (Jackson 2.16 in Kafka 3.9). Checked against those classes by
 * test/java/ConnectOffsetsOracle.java. Where it differs from `JSON.stringify`:
 *
 * - Strings: `"`, `\` and `\b \t \n \f \r` get short escapes like `JSON.stringify`; other control chars
 *   become `\u00XX` with **upper-case** hex (`\u001F`). Every UTF-16 surrogate, paired or not, is written
 *   as its own `\uXXXX` escape (Jackson before 2.18 never writes 4-byte UTF-8), so `😀` is
 *   `\uD83D\uDE00`. Everything else, `/`, DEL and U+2028 included, is raw UTF-8.
 * - Numbers: JavaScript has one number type, Connect has `Long` and `Double`. An integral number in the
 *   int64 range is written as a `Long` (`1234`, `-0` → `0`), which is what Connect tasks use for
 *   positions; any other finite number is written as Java's `Double.toString` does (`0.5`, `1.0E20`,
 *   `1.0E-5`, `4.9E-324`): the shortest digits that round-trip, as in JDK 19+ and Jackson's fast writer.
 *   JDK 17 and 18 print a few doubles with extra digits (JDK-4511638): same value, other bytes.
 *   NaN and ±Infinity are rejected (Jackson would write them as the strings "NaN", "Infinity").
 * - Reading: as `JsonConverter.toConnectData` does, integral JSON numbers are int64 and the others
 *   float64. An integral number that a JavaScript number cannot hold exactly (most beyond ±2^53, e.g.
 *   `9007199254740993`) or that is outside int64 is rejected rather than silently rounded. A float64
 *   offset with an integral value (`2.0`) reads as 2 and is written back as the int64 `2`.
 * - Field order: maps keep insertion order, except that JavaScript objects put array-index-like names
 *   (`"0"`, `"17"`) first, in numeric order. A Connect partition `{"b":1,"0":2}` is therefore read as
 *   `{"0":2,"b":1}` and would be written back with other key bytes; no Connect connector we know of uses
 *   such field names.
 * @module
 */
import { OffsetFormatError } from './errors.ts';

/** A JSON value as offset keys and values use it: primitives, lists and string-keyed maps. */
export type ConnectJson = string | number | boolean | null | readonly ConnectJson[] | ConnectJsonMap;
/** A string-keyed map, written in insertion order. */
export interface ConnectJsonMap {
  readonly [key: string]: ConnectJson;
}

const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  8: '\\b',
  9: '\\t',
  10: '\\n',
  12: '\\f',
  13: '\\r',
  34: '\\"',
  92: '\\\\',
};
const INT64_MIN = -(2 ** 63);
const INT64_LIMIT = 2 ** 63;
const INT64_MIN_BIG = -(2n ** 63n);
const INT64_LIMIT_BIG = 2n ** 63n;

/**
 * Writes `value` as Connect's JsonConverter would: compact, maps in insertion order.
 *
 * @example
 * ```ts
 * writeConnectJson({ position: 1234, ratio: 0.5, big: 1e20 }); // '{"position":1234,"ratio":0.5,"big":1.0E20}'
 * ```
 */
export function writeConnectJson(value: ConnectJson): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return quoteJavaJson(value);
    case 'number':
      return writeNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      break;
  }
  if (Array.isArray(value)) return `[${value.map(writeConnectJson).join(',')}]`;
  const fields: string[] = [];
  for (const [key, field] of Object.entries(value as ConnectJsonMap)) {
    fields.push(`${quoteJavaJson(key)}:${writeConnectJson(field)}`);
  }
  return `{${fields.join(',')}}`;
}

/** A JSON string literal with Jackson's escapes (see the module notes). */
export function quoteJavaJson(text: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c && (c < 0xd800 || c > 0xdfff)) continue;
    out += text.slice(start, i) + (SHORT_ESCAPES[c] ?? `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`);
    start = i + 1;
  }
  return `${out}${text.slice(start)}"`;
}

function writeNumber(value: number): string {
  if (!Number.isFinite(value)) {
    throw new OffsetFormatError(`offsets cannot hold the number ${value}: only finite numbers are allowed`);
  }
  if (Number.isInteger(value) && value >= INT64_MIN && value < INT64_LIMIT) {
    return Number.isSafeInteger(value) ? String(value) : BigInt(value).toString();
  }
  return javaDoubleToString(value);
}

/**
 * Java's `Double.toString` (JDK 19+ specification) for a finite double: the shortest decimal that rounds
 * to it (two digits when a two-digit decimal is closer than the best one-digit one), plain between 10^-3
 * and 10^7, otherwise computerized scientific notation.
 *
 * @example
 * ```ts
 * javaDoubleToString(100); // '100.0'
 * javaDoubleToString(1e7); // '1.0E7'
 * ```
 */
export function javaDoubleToString(value: number): string {
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(value);
  let { digits, exponent } = shortestDigits(abs);
  if (digits.length === 1) {
    // Java's rule for one-digit results: choose among one- and two-digit decimals the closest one.
    const two = splitExponential(abs.toExponential(1));
    if (two.digits[1] !== '0' && Number(abs.toExponential(1)) === abs) ({ digits, exponent } = two);
  }
  const sign = value < 0 ? '-' : '';
  if (abs >= 1e-3 && abs < 1e7) {
    if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
    const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
    return `${sign}${whole}.${digits.slice(exponent + 1) || '0'}`;
  }
  return `${sign}${digits[0]}.${digits.slice(1) || '0'}E${exponent}`;
}

/** The shortest round-tripping digits of `abs` (what both ECMAScript and JDK 19+ choose) and its exponent. */
function shortestDigits(abs: number): { digits: string; exponent: number } {
  return splitExponential(abs.toExponential());
}

function splitExponential(text: string): { digits: string; exponent: number } {
  const [mantissa = '', exponent = '0'] = text.split('e');
  return { digits: mantissa.replace('.', ''), exponent: Number(exponent) };
}

/** Strings, and numbers outside strings, of a valid JSON text, in order. */
const TOKENS = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/**
 * Parses JSON as Connect reads offsets; throws `OffsetFormatError` for invalid JSON or for an integral
 * number outside int64 or that a JavaScript number cannot hold exactly.
 *
 * @example
 * ```ts
 * parseConnectJson('{"position":1234}'); // { position: 1234 }
 * parseConnectJson('{"lsn":9007199254740993}'); // throws OffsetFormatError (2^53 + 1)
 * ```
 */
export function parseConnectJson(text: string): ConnectJson {
  let parsed: ConnectJson;
  try {
    parsed = JSON.parse(text) as ConnectJson;
  } catch (err) {
    throw new OffsetFormatError(`stored offset data is not JSON: ${(err as Error).message}`, { cause: err });
  }
  for (const [token] of text.matchAll(TOKENS)) {
    if (token.startsWith('"') || /[.eE]/.test(token)) continue;
    const exact = BigInt(token);
    if (exact < INT64_MIN_BIG || exact >= INT64_LIMIT_BIG || BigInt(Number(token)) !== exact) {
      throw new OffsetFormatError(
        `stored offset data holds the integer ${token}, which is not an int64 that a JavaScript number ` +
          'holds exactly (beyond ±2^53 only some are); connect-fn will not round an offset',
      );
    }
  }
  return parsed;
}
