/**
 * Kafka's `sasl.jaas.config` line, as Connect takes it:
 *
 * ```
 * org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="a \"b\"";
 * ```
 *
 * The grammar follows Kafka's `JaasConfig` (a `java.io.StreamTokenizer`): a login module class, a control
 * flag, `name=value` options whose values are bare words or `"..."` / `'...'` strings with Java escapes,
 * and a closing `;`. `//` and `/* *\/` comments are skipped. Kafka clients take exactly one login module.
 *
 * Errors never quote the line: it holds a password. They name the position and what was expected.
 * @module
 */

/** One parsed login module entry. */
export interface JaasEntry {
  readonly loginModule: string;
  readonly flag: 'required' | 'requisite' | 'sufficient' | 'optional';
  readonly options: Readonly<Record<string, string>>;
}

/** A `sasl.jaas.config` that does not parse; `message` says where and what was expected, never a value. */
export class JaasSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

const FLAGS = new Set(['required', 'requisite', 'sufficient', 'optional']);
/** StreamTokenizer's word characters as JaasConfig sets them up (letters, digits, `.`, `-`, `_`, `$`). */
const WORD_CHAR = /[A-Za-z0-9._$\-\u00a0-\uffff]/;
const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };

type Token =
  | { readonly kind: 'word'; readonly text: string; readonly at: number }
  | { readonly kind: 'quoted'; readonly text: string; readonly at: number }
  | { readonly kind: 'symbol'; readonly text: string; readonly at: number };

/** Parses a line with exactly one login module (what Kafka clients accept). */
export function parseJaasConfig(line: string): JaasEntry {
  const tokens = tokenize(line);
  let i = 0;
  const next = (): Token | undefined => tokens[i++];
  const fail = (expected: string, token: Token | undefined): never => {
    const where = token === undefined ? 'at the end' : `at character ${token.at + 1}`;
    throw new JaasSyntaxError(`expected ${expected} ${where}`);
  };

  const module = next();
  if (module?.kind !== 'word') return fail('a login module class name', module);
  const flag = next();
  if (flag?.kind !== 'word' || !FLAGS.has(flag.text)) {
    return fail('a control flag (required, requisite, sufficient or optional)', flag);
  }
  const options: Record<string, string> = {};
  while (true) {
    const token = next();
    if (token?.kind === 'symbol' && token.text === ';') break;
    if (token?.kind !== 'word') return fail('an option name or ";"', token);
    const equals = next();
    if (equals?.kind !== 'symbol' || equals.text !== '=')
      return fail(`"=" after option ${token.text}`, equals);
    const value = next();
    if (value === undefined || value.kind === 'symbol')
      return fail(`a value for option ${token.text}`, value);
    options[token.text] = value.text;
  }
  if (i < tokens.length) {
    throw new JaasSyntaxError('expected one login module only: Kafka clients take a single JAAS entry');
  }
  return { loginModule: module.text, flag: flag.text as JaasEntry['flag'], options };
}

function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (/\s/.test(c)) {
      i += 1;
    } else if (line.startsWith('//', i)) {
      const end = line.indexOf('\n', i);
      i = end === -1 ? line.length : end + 1;
    } else if (line.startsWith('/*', i)) {
      const end = line.indexOf('*/', i + 2);
      if (end === -1) throw new JaasSyntaxError(`unterminated comment starting at character ${i + 1}`);
      i = end + 2;
    } else if (c === '"' || c === "'") {
      const [text, end] = readQuoted(line, i);
      tokens.push({ kind: 'quoted', text, at: i });
      i = end;
    } else if (WORD_CHAR.test(c)) {
      const start = i;
      while (i < line.length && WORD_CHAR.test(line[i]!)) i += 1;
      tokens.push({ kind: 'word', text: line.slice(start, i), at: start });
    } else {
      tokens.push({ kind: 'symbol', text: c, at: i });
      i += 1;
    }
  }
  return tokens;
}

/** Reads a quoted string from `line[start]` (the quote); returns its text and the index after it. */
function readQuoted(line: string, start: number): [string, number] {
  const quote = line[start]!;
  let text = '';
  let i = start + 1;
  while (i < line.length) {
    const c = line[i]!;
    if (c === quote) return [text, i + 1];
    if (c === '\n') break; // StreamTokenizer ends a string at a line end: treat it as unterminated
    if (c !== '\\') {
      text += c;
      i += 1;
      continue;
    }
    const e = line[i + 1];
    if (e === undefined) break;
    const octal = /^[0-7]{1,3}/.exec(line.slice(i + 1, i + 4));
    if (octal !== null) {
      text += String.fromCharCode(Number.parseInt(octal[0], 8) & 0xff);
      i += 1 + octal[0].length;
    } else {
      text += ESCAPES[e] ?? e;
      i += 2;
    }
  }
  throw new JaasSyntaxError(`unterminated quoted value starting at character ${start + 1}`);
}
