/**
 * Reads one configuration file into a flat string map: `.properties` (Kafka Connect's syntax) or `.json`
 * (the REST body `{"name": ..., "config": {...}}` or a flat `{...}` map).
 *
 * Problems never quote the file's text, which may hold a password: a syntax error says what kind of thing
 * was unexpected and where (line and column). A file that parses but has problems of its own (a value
 * that is an object, an extra key beside `"name"` and `"config"`) still yields the values it could read,
 * so the rest of it is validated too.
 * @module
 */
import { isUtf8 } from 'node:buffer';
import { ConfigInvalidError, type ConfigProblem } from '../errors.ts';
import { type JsonMember, type JsonType, scanJson } from './json-scan.ts';
import { parsePropertiesBytes } from './properties.ts';
import { readRegularFile } from './read-file.ts';
import { HIDDEN, isSecretKeyName } from './redaction.ts';

export interface ConfigFile {
  /** The path as shown in messages (relative to the bundle). */
  readonly file: string;
  /** Key → value; a null-prototype object (a key may be `__proto__`). */
  readonly values: Readonly<Record<string, string>>;
  /** 1-based line of each key's definition, where known; a null-prototype object. */
  readonly lines: Readonly<Record<string, number>>;
}

/** What reading one file gives: the values it could read, if any, and every problem found. */
export interface ConfigFileResult {
  /**
   * Absent when nothing could be read: the file is unreadable or not a regular file, not UTF-8, not valid
   * JSON, not a JSON object or has a `"config"` that is not one, or has a `.properties` syntax error.
   * Present, its values are worth validating even when `problems` is not empty.
   */
  readonly file?: ConfigFile;
  readonly problems: readonly ConfigProblem[];
  /** Keys set twice (the last wins): said, without either value. Absent when there are none. */
  readonly warnings?: readonly ConfigProblem[];
}

const BOM = 0xfeff;

function describe(type: JsonType): string {
  if (type === 'null') return 'null';
  return type === 'object' || type === 'array' ? `an ${type}` : `a ${type}`;
}

/**
 * Parses a connector or worker `.json` file. A leading byte order mark is ignored (RFC 8259 §8.1 allows
 * it). A key may appear twice: as in `JSON.parse`, the last one wins, at its line.
 */
export function parseJsonConfig(text: string, file: string): ConfigFileResult {
  const body = text.charCodeAt(0) === BOM ? text.slice(1) : text;
  const scan = scanJson(body);
  if (!scan.ok) {
    const got = `unexpected ${scan.unexpected} at line ${scan.line}, column ${scan.column}`;
    return { problems: [{ file, key: '(syntax)', expected: 'valid JSON', got, line: scan.line }] };
  }
  if (scan.members === undefined) {
    return {
      problems: [
        { file, key: '(document)', expected: 'a JSON object', got: describe(scan.type), line: scan.line },
      ],
    };
  }
  const problems: ConfigProblem[] = [];
  const values: Record<string, string> = Object.create(null);
  const lines: Record<string, number> = Object.create(null);
  const put = (key: string, member: JsonMember): void => {
    if (member.text === undefined) {
      const expected = 'a string, number or boolean';
      problems.push({ file, key, expected, got: describe(member.type), line: member.line });
      return;
    }
    values[key] = member.text;
    lines[key] = member.line;
  };
  const top = scan.members;
  const config = scan.config;
  const configMember = top.get('config');
  if (configMember !== undefined && config === undefined) {
    // `"config"` makes this the REST body shape; its last occurrence wins, as in JSON.parse.
    const expected = 'an object of connector settings: {"name": ..., "config": {...}} (the REST body shape)';
    return {
      problems: [
        { file, key: 'config', expected, got: describe(configMember.type), line: configMember.line },
      ],
    };
  }
  if (config === undefined) {
    for (const [key, member] of top) put(key, member);
    return {
      file: { file, values, lines },
      problems,
      warnings: duplicateWarnings(file, scan.duplicates, 'JSON.parse'),
    };
  }
  // The REST body: {"name": ..., "config": {...}}; the outer name wins, and should match an inner one.
  for (const [key, member] of top) {
    if (key === 'name' || key === 'config') continue;
    const expected =
      'only "name" and "config" at the top level of the REST body shape (move it into "config")';
    problems.push({ file, key, expected, line: member.line });
  }
  const outer = top.get('name');
  for (const [key, member] of config) if (key !== 'name' || outer === undefined) put(key, member);
  if (outer !== undefined) {
    put('name', outer);
    const inner = config.get('name');
    if (inner !== undefined && inner.text !== outer.text) {
      const expected = 'the same name inside "config" as beside it';
      problems.push({ file, key: 'name', expected, line: inner.line });
    }
  }
  return {
    file: { file, values, lines },
    problems,
    warnings: duplicateWarnings(file, scan.duplicates, 'JSON.parse'),
  };
}

/**
 * One warning per key set twice: both lines and the key, never a value (either may be a secret, and the
 * key it ends up under need not look like one).
 */
function duplicateWarnings(
  file: string,
  duplicates: readonly { readonly key: string; readonly firstLine: number; readonly line: number }[] = [],
  reader: string,
): ConfigProblem[] {
  return duplicates.map(({ key, firstLine, line }) => ({
    file,
    key,
    line,
    expected: `set once: it is also set at line ${firstLine}, and this later one wins (as in ${reader}); remove one of them`,
  }));
}

/** Escapes in a secret key's value must not leak through a syntax error's `got`. */
function hideSecretSyntax(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return problems.map((p) => (p.got !== undefined && isSecretKeyName(p.key) ? { ...p, got: HIDDEN } : p));
}

/** Where the first bytes that are not UTF-8 are (no UTF-8 sequence contains CR or LF); never the bytes. */
function notUtf8(bytes: Buffer, file: string): ConfigProblem {
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    const b = i < bytes.length ? bytes[i] : 0x0a;
    if (b !== 0x0a && b !== 0x0d) continue;
    const natural = bytes.subarray(start, i);
    if (!isUtf8(natural)) {
      const column = natural.findIndex((x) => x > 0x7f) + 1;
      const got = `a byte that is not UTF-8 at byte ${column} of the line`;
      return { file, key: '(syntax)', expected: 'UTF-8 text (RFC 8259)', got, line };
    }
    if (b === 0x0a || bytes[i + 1] !== 0x0a) line++;
    start = i + 1;
  }
  return { file, key: '(syntax)', expected: 'UTF-8 text (RFC 8259)' };
}

function nullPrototype<V>(entries: Iterable<readonly [string, V]>): Record<string, V> {
  const out: Record<string, V> = Object.create(null);
  for (const [key, value] of entries) out[key] = value;
  return out;
}

/** Reads and parses `path` by its extension; `shownAs` is the name used in messages. */
export function readConfigFile(path: string, shownAs: string): ConfigFileResult {
  const read = readRegularFile(path);
  if (!read.ok) {
    const got =
      read.code !== 'not-regular' ? read.code : read.directory ? 'a directory' : 'not a regular file';
    return { problems: [{ file: shownAs, key: '(file)', expected: 'a readable file', got }] };
  }
  const bytes = read.bytes;
  if (path.endsWith('.json')) {
    if (!isUtf8(bytes)) return { problems: [notUtf8(bytes, shownAs)] };
    return parseJsonConfig(bytes.toString('utf8'), shownAs);
  }
  try {
    const parsed = parsePropertiesBytes(bytes, shownAs);
    const values = nullPrototype(parsed.values);
    const warnings = duplicateWarnings(shownAs, parsed.duplicates, "Java's Properties.load");
    return { file: { file: shownAs, values, lines: nullPrototype(parsed.lines) }, problems: [], warnings };
  } catch (err) {
    if (err instanceof ConfigInvalidError) return { problems: hideSecretSyntax(err.problems) };
    throw err;
  }
}
