/**
 * A small JSON scanner for configuration files: checks text against RFC 8259's grammar (which is also
 * ECMA-404's and `JSON.parse`'s) and says where the first error is, as an offset, a line and a column,
 * without quoting any of the text (a file may hold a password). For the top-level object, and the object
 * under its `"config"` key (the REST body shape), it records each member: the line of its key and, for a
 * scalar, its value as a string. A duplicate key behaves as in `JSON.parse`: the last one wins, at its
 * line. Numbers keep their source text (`1.0`, `1e400`, a 20-digit id), as Kafka Connect's REST API reads
 * them into strings.
 *
 * One pass, recursive descent, nesting limited to {@link MAX_DEPTH} levels so deep input cannot overflow
 * the stack. Line breaks are `\n`, `\r\n` and a lone `\r`; columns count code points from 1.
 * @module
 */

/** The type of a JSON value. */
export type JsonType = 'string' | 'number' | 'boolean' | 'null' | 'object' | 'array';

/** A key set twice in one recorded object: the later definition wins, as in `JSON.parse`. */
export interface DuplicateKey {
  readonly key: string;
  /** 1-based line of the definition it overrides. */
  readonly firstLine: number;
  /** 1-based line of the definition that wins. */
  readonly line: number;
}

/** One member of a recorded object. */
export interface JsonMember {
  /** 1-based line of the member's key. */
  readonly line: number;
  readonly type: JsonType;
  /** Strings decoded, numbers as written, `true`/`false`; absent for null, objects and arrays. */
  readonly text?: string;
}

export type JsonScan =
  | {
      readonly ok: true;
      /** The type of the top-level value and the line where it starts. */
      readonly type: JsonType;
      readonly line: number;
      /** The top-level object's members, when it is an object. */
      readonly members?: ReadonlyMap<string, JsonMember>;
      /** The members of the object under the top-level `"config"` key (its last occurrence), if any. */
      readonly config?: ReadonlyMap<string, JsonMember>;
      /** Keys set twice in a recorded object, in the order met; absent when there are none. */
      readonly duplicates?: readonly DuplicateKey[];
    }
  | {
      readonly ok: false;
      /** What was found where it should not be: `character`, `end of input`, `line break`, ... */
      readonly unexpected: string;
      readonly offset: number;
      readonly line: number;
      readonly column: number;
    };

/** Deeper nesting is an error; no configuration needs it. */
export const MAX_DEPTH = 512;

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const LBRACKET = 0x5b;
const BACKSLASH = 0x5c;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

const ESCAPES: ReadonlyMap<number, string> = new Map([
  [QUOTE, '"'],
  [BACKSLASH, '\\'],
  [0x2f, '/'],
  [0x62, '\b'],
  [0x66, '\f'],
  [0x6e, '\n'],
  [0x72, '\r'],
  [0x74, '\t'],
]);

/** Thrown inside the scanner only; not an Error, so no stack is captured. */
class Unexpected {
  constructor(
    readonly offset: number,
    readonly what: string,
  ) {}
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function hexValue(c: number): number {
  if (c >= ZERO && c <= NINE) return c - ZERO;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

interface Scalar {
  readonly type: JsonType;
  readonly text: string | undefined;
}

class Scanner {
  pos = 0;
  line = 1;
  config: Map<string, JsonMember> | undefined;
  readonly duplicates: DuplicateKey[] = [];

  constructor(private readonly s: string) {}

  fail(what?: string): never {
    throw new Unexpected(this.pos, what ?? (this.pos >= this.s.length ? 'end of input' : 'character'));
  }

  /** Skips whitespace, counting lines (valid JSON has line breaks nowhere else). */
  ws(): void {
    const s = this.s;
    for (;;) {
      const c = s.charCodeAt(this.pos);
      if (c === SPACE || c === TAB) this.pos++;
      else if (c === LF || c === CR) {
        this.pos += c === CR && s.charCodeAt(this.pos + 1) === LF ? 2 : 1;
        this.line++;
      } else return;
    }
  }

  /** One value; `record` collects the members when it is an object, `want` asks for a scalar's text. */
  value(depth: number, record: Map<string, JsonMember> | undefined, want: boolean): Scalar {
    const c = this.s.charCodeAt(this.pos);
    if (c === LBRACE) return this.object(depth + 1, record);
    if (c === LBRACKET) return this.array(depth + 1);
    if (c === QUOTE) return { type: 'string', text: this.string(want) };
    if (c === MINUS || isDigit(c)) {
      const start = this.pos;
      this.number();
      return { type: 'number', text: want ? this.s.slice(start, this.pos) : undefined };
    }
    if (c === 0x74) return this.literal('true', 'boolean', 'true');
    if (c === 0x66) return this.literal('false', 'boolean', 'false');
    if (c === 0x6e) return this.literal('null', 'null', undefined);
    return this.fail();
  }

  object(depth: number, record: Map<string, JsonMember> | undefined): Scalar {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
    this.pos++;
    this.ws();
    if (this.s.charCodeAt(this.pos) === RBRACE) {
      this.pos++;
      return { type: 'object', text: undefined };
    }
    for (;;) {
      if (this.s.charCodeAt(this.pos) !== QUOTE) this.fail();
      const line = this.line;
      const key = this.string(record !== undefined);
      this.ws();
      if (this.s.charCodeAt(this.pos) !== COLON) this.fail();
      this.pos++;
      this.ws();
      let inner: Map<string, JsonMember> | undefined;
      if (depth === 1 && record !== undefined && key === 'config') {
        inner = this.s.charCodeAt(this.pos) === LBRACE ? new Map() : undefined;
        this.config = inner;
      }
      const v = this.value(depth, inner, record !== undefined);
      const earlier = key === undefined ? undefined : record?.get(key);
      if (earlier !== undefined && key !== undefined)
        this.duplicates.push({ key, firstLine: earlier.line, line });
      if (record !== undefined && key !== undefined)
        record.set(key, v.text === undefined ? { line, type: v.type } : { line, type: v.type, text: v.text });
      if (this.next(RBRACE)) return { type: 'object', text: undefined };
    }
  }

  /** After a member or element: true at the closing `close`, false after a comma; else an error. */
  next(close: number): boolean {
    this.ws();
    const c = this.s.charCodeAt(this.pos);
    if (c !== close && c !== COMMA) this.fail();
    this.pos++;
    this.ws();
    return c === close;
  }

  array(depth: number): Scalar {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
    this.pos++;
    this.ws();
    if (this.s.charCodeAt(this.pos) === RBRACKET) {
      this.pos++;
      return { type: 'array', text: undefined };
    }
    for (;;) {
      this.value(depth, undefined, false);
      if (this.next(RBRACKET)) return { type: 'array', text: undefined };
    }
  }

  /** A string at the opening quote; its decoded text when `want`. */
  string(want: boolean): string | undefined {
    const s = this.s;
    let out = '';
    let start = ++this.pos;
    for (;;) {
      const c = s.charCodeAt(this.pos);
      if (c === QUOTE) {
        if (want) out += s.slice(start, this.pos);
        this.pos++;
        return want ? out : undefined;
      }
      if (c === BACKSLASH) {
        if (want) out += s.slice(start, this.pos);
        this.pos++;
        const e = s.charCodeAt(this.pos);
        if (e === 0x75) {
          let code = 0;
          for (let i = 0; i < 4; i++) {
            this.pos++;
            const h = hexValue(s.charCodeAt(this.pos));
            if (h < 0) this.fail();
            code = code * 16 + h;
          }
          if (want) out += String.fromCharCode(code);
        } else {
          const plain = ESCAPES.get(e);
          if (plain === undefined) this.fail();
          if (want) out += plain;
        }
        start = ++this.pos;
      } else if (c < SPACE) this.fail(c === LF || c === CR ? 'line break' : 'control character');
      else if (this.pos >= s.length) this.fail();
      else this.pos++;
    }
  }

  number(): void {
    const s = this.s;
    if (s.charCodeAt(this.pos) === MINUS) this.pos++;
    const first = s.charCodeAt(this.pos);
    if (first === ZERO) this.pos++;
    else if (isDigit(first)) this.digits();
    else this.fail();
    if (s.charCodeAt(this.pos) === DOT) {
      this.pos++;
      this.digits();
    }
    if ((s.charCodeAt(this.pos) | 0x20) === 0x65) {
      this.pos++;
      const sign = s.charCodeAt(this.pos);
      if (sign === PLUS || sign === MINUS) this.pos++;
      this.digits();
    }
  }

  /** One or more digits. */
  digits(): void {
    if (!isDigit(this.s.charCodeAt(this.pos))) this.fail();
    do this.pos++;
    while (isDigit(this.s.charCodeAt(this.pos)));
  }

  literal(word: string, type: JsonType, text: string | undefined): Scalar {
    for (let i = 0; i < word.length; i++, this.pos++)
      if (this.s.charCodeAt(this.pos) !== word.charCodeAt(i)) this.fail();
    return { type, text };
  }
}

/** The 1-based line and column (in code points) of `offset` in `text`. */
export function positionAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === LF || (c === CR && text.charCodeAt(i + 1) !== LF)) {
      line++;
      lineStart = i + 1;
    }
  }
  let column = 1;
  for (let i = lineStart; i < offset && i < text.length; i++) {
    const c = text.charCodeAt(i);
    const prev = text.charCodeAt(i - 1);
    // The second half of a surrogate pair is the same code point as the first.
    if (!(c >= 0xdc00 && c <= 0xdfff && i > lineStart && prev >= 0xd800 && prev <= 0xdbff)) column++;
  }
  return { line, column };
}

/** Scans `text` as one JSON value; see the module notes. A byte order mark is not whitespace here. */
export function scanJson(text: string): JsonScan {
  const scanner = new Scanner(text);
  try {
    scanner.ws();
    const line = scanner.line;
    const members = text.charCodeAt(scanner.pos) === LBRACE ? new Map<string, JsonMember>() : undefined;
    const top = scanner.value(0, members, false);
    scanner.ws();
    if (scanner.pos < text.length) scanner.fail();
    return {
      ok: true,
      type: top.type,
      line,
      ...(scanner.duplicates.length === 0 ? {} : { duplicates: scanner.duplicates }),
      ...(members === undefined ? {} : { members }),
      ...(scanner.config === undefined ? {} : { config: scanner.config }),
    };
  } catch (err) {
    if (!(err instanceof Unexpected)) throw err;
    return { ok: false, unexpected: err.what, offset: err.offset, ...positionAt(text, err.offset) };
  }
}
