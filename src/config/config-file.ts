/**
 * Reads one configuration file into a flat string map: `.properties` (Kafka Connect's syntax) or `.json`
 * (the REST body `{"name": ..., "config": {...}}` or a flat `{...}` map). Syntax errors carry a line number.
 * @module
 */
import { readFileSync } from 'node:fs';
import { ConfigInvalidError, type ConfigProblem } from '../errors.ts';
import { parsePropertiesBytes } from './properties.ts';
import { HIDDEN, isSecretKeyName } from './redaction.ts';

export interface ConfigFile {
  /** The path as shown in messages (relative to the bundle). */
  readonly file: string;
  readonly values: Readonly<Record<string, string>>;
  /** 1-based line of each key's definition, where known. */
  readonly lines: Readonly<Record<string, number>>;
}

type Parsed = { ok: true; file: ConfigFile } | { ok: false; problems: ConfigProblem[] };

/** The 1-based line of character `offset` in `text`. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Where JSON.parse failed, from V8's message ("... at position 42" or "(line 3 column 5)"). */
function jsonErrorLine(text: string, message: string): number | undefined {
  const lc = /line (\d+) column \d+/.exec(message);
  if (lc) return Number(lc[1]);
  const pos = /at position (\d+)/.exec(message);
  if (pos) return lineAt(text, Number(pos[1]));
  if (/end of JSON input/.test(message)) return lineAt(text, text.length);
  return undefined;
}

function jsonValueAsString(
  file: string,
  key: string,
  value: unknown,
  problems: ConfigProblem[],
): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  problems.push({
    file,
    key,
    expected: 'a string, number or boolean',
    got: value === null ? 'null' : typeof value,
  });
  return undefined;
}

/** Parses a connector or worker `.json` file. */
export function parseJsonConfig(text: string, file: string): Parsed {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const line = jsonErrorLine(text, message);
    const problem: ConfigProblem = {
      file,
      key: '(syntax)',
      expected: 'valid JSON',
      got: message.split('\n')[0] ?? message,
    };
    return { ok: false, problems: [line === undefined ? problem : { ...problem, line }] };
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { ok: false, problems: [{ file, key: '(document)', expected: 'a JSON object' }] };
  }
  const problems: ConfigProblem[] = [];
  const top = doc as Record<string, unknown>;
  let flat: Record<string, unknown> = top;
  const restShape = typeof top.config === 'object' && top.config !== null && !Array.isArray(top.config);
  if (restShape) {
    const { name, config, ...rest } = top;
    for (const key of Object.keys(rest))
      problems.push({ file, key, expected: 'only "name" and "config" beside each other' });
    flat = { ...(config as Record<string, unknown>) };
    const inner = flat.name;
    if (name !== undefined && inner !== undefined && inner !== name) {
      problems.push({
        file,
        key: 'name',
        expected: `the same name inside config as outside (${String(name)})`,
        got: String(inner),
      });
    }
    if (name !== undefined) flat.name = name;
  }
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(flat)) {
    const s = jsonValueAsString(file, key, value, problems);
    if (s !== undefined) values[key] = s;
  }
  const lines: Record<string, number> = {};
  for (const key of Object.keys(values)) {
    const at = text.indexOf(JSON.stringify(key));
    if (at >= 0) lines[key] = lineAt(text, at);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, file: { file, values, lines } };
}

/** Escapes in a secret key's value must not leak through a syntax error's `got`. */
function hideSecretSyntax(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return problems.map((p) => (p.got !== undefined && isSecretKeyName(p.key) ? { ...p, got: HIDDEN } : p));
}

/** Reads and parses `path` by its extension; `shownAs` is the name used in messages. */
export function readConfigFile(path: string, shownAs: string): Parsed {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return {
      ok: false,
      problems: [{ file: shownAs, key: '(file)', expected: 'a readable file', got: code }],
    };
  }
  if (path.endsWith('.json')) return parseJsonConfig(bytes.toString('utf8'), shownAs);
  try {
    const parsed = parsePropertiesBytes(bytes, shownAs);
    return {
      ok: true,
      file: {
        file: shownAs,
        values: Object.fromEntries(parsed.values),
        lines: Object.fromEntries(parsed.lines),
      },
    };
  } catch (err) {
    if (err instanceof ConfigInvalidError) return { ok: false, problems: hideSecretSyntax(err.problems) };
    throw err;
  }
}
