/**
 * Which text looks like it holds a secret, whatever key it came under: a value that swallowed the next line
 * through a stray `\` at a line's end (`1000sasl.jaas.config=...password="p";`), an error message echoing a
 * client's settings. A leaf beside `secret-keys.ts`, shared by the bundle's redactor and the logger (which
 * applies it even without a bundle).
 *
 * Every scan is linear in the text's length, so a 30 MB value costs a pass over it, not a hang: no regular
 * expression here is tried at every position of a long run of characters.
 * @module
 */
import { isSecretKeyName } from './secret-keys.ts';

/** Longest key name looked at before a `=` or `:`: a longer run keeps only its end (`...sasl.jaas.config`). */
const MAX_NAME_CHARS = 256;
/** Values that only stand for a secret: `password="..."` in a message showing the expected shape. */
const PLACEHOLDER = /^\\?["']?(?:\.\.\.|\[hidden\])\\?["']?(?=$|[\s;,)])/;
/** After `://`: the user info `user:PASSWORD@` (sticky: tried at one position only). */
const USER_INFO = /[^\s/:@]*:([^\s/@]+)@/y;
/** A JAAS login module entry with its options (Connect's `sasl.jaas.config`). */
const JAAS_ENTRY = /LoginModule\s+(?:required|requisite|sufficient|optional)\b/;
const LINE_BREAK = /[\r\n]/g;

/** `[\w.-]`, by char code: called for every character of a name, so no regular expression per call. */
function isNameChar(code: number): boolean {
  return (
    (code >= 97 && code <= 122) || // a-z
    (code >= 65 && code <= 90) || // A-Z
    (code >= 48 && code <= 57) || // 0-9
    code === 95 || // _
    code === 46 || // .
    code === 45 // -
  );
}

function isBlank(code: number): boolean {
  return code === 32 || code === 9;
}

function isQuote(code: number): boolean {
  return code === 34 || code === 39;
}

/** Where the line holding `at` ends. */
function lineEnd(text: string, at: number): number {
  LINE_BREAK.lastIndex = at;
  const found = LINE_BREAK.exec(text);
  return found === null ? text.length : found.index;
}

/**
 * The value of the assignment whose separator (`=` or `:`) is at `at`, when it is assigned to a
 * secret-named key: where the value starts, else -1. The name before the separator may be closed by a
 * quote (`"password":` in JSON, `\"` in JSON inside a JSON string) and followed by blanks; a `:` counts
 * only with a quote on either side.
 */
function secretValueAt(text: string, at: number): number {
  let valueAt = at + 1;
  while (isBlank(text.charCodeAt(valueAt))) valueAt++;
  let end = at; // the name ends here, before blanks and a closing quote
  while (isBlank(text.charCodeAt(end - 1))) end--;
  const quoted = isQuote(text.charCodeAt(end - 1));
  const first = text.charCodeAt(valueAt);
  const quoteAfter = isQuote(first) || (first === 92 && isQuote(text.charCodeAt(valueAt + 1))); // \"
  if (text[at] === ':' && !quoted && !quoteAfter) return -1;
  if (quoted) end -= text[end - 2] === '\\' ? 2 : 1;
  let start = end;
  while (end - start < MAX_NAME_CHARS && isNameChar(text.charCodeAt(start - 1))) start--;
  if (start === end || !isSecretKeyName(text.slice(start, end))) return -1;
  return PLACEHOLDER.test(text.slice(valueAt, valueAt + 16)) ? -1 : valueAt;
}

/** Spans of values assigned to secret-named keys; each runs to the end of its line. */
function assignmentSpans(text: string, spans: [number, number][]): void {
  // indexOf, not a global regular expression: no match object per separator (a value may hold millions).
  let equals = text.indexOf('=');
  let colon = text.indexOf(':');
  while (equals !== -1 || colon !== -1) {
    const at = colon === -1 || (equals !== -1 && equals < colon) ? equals : colon;
    let next = at + 1;
    const valueAt = secretValueAt(text, at);
    if (valueAt !== -1) {
      const end = lineEnd(text, valueAt);
      if (end > valueAt) spans.push([valueAt, end]);
      next = Math.max(end, next); // the rest of the line is hidden already
    }
    if (equals !== -1 && equals < next) equals = text.indexOf('=', next);
    if (colon !== -1 && colon < next) colon = text.indexOf(':', next);
  }
}

/** Spans of the passwords in URIs' user info: `mongodb://user:PASSWORD@host`. */
function uriPasswordSpans(text: string, spans: [number, number][]): void {
  for (let at = text.indexOf('://'); at !== -1; at = text.indexOf('://', at + 3)) {
    const before = text.charCodeAt(at - 1);
    if (!isNameChar(before) && before !== 43) continue; // a scheme's last character: [a-zA-Z0-9+.-]
    USER_INFO.lastIndex = at + 3;
    const found = USER_INFO.exec(text);
    const password = found?.[1];
    if (found === null || password === undefined || password === '...') continue;
    const end = found.index + found[0].length - 1;
    spans.push([end - password.length, end]);
  }
}

/**
 * Spans `[start, end)` of `text` that hold a secret by their shape:
 * - the value of an assignment to a secret-named key ({@link isSecretKeyName}): `password="..."`,
 *   `sasl.jaas.config=...`, `"secretAccessKey":"..."`, `token=...`. Where such a value ends cannot be
 *   known in free text (it may hold spaces, quotes, `;`), so the span runs to the end of the line. A `:`
 *   counts only with a quote on either side (`"password": ...`, `password: "..."`), so a message naming a
 *   key (`ssl.key.password: a string`) is left alone; so is a placeholder (`password="..."`);
 * - the password of a URI's user info (`scheme://user:PASSWORD@host`).
 *
 * @example
 * ```ts
 * const text = 'got 1000sasl.jaas.config=x required password="p";';
 * secretShapeSpans(text).map(([s, e]) => text.slice(s, e)); // ['x required password="p";']
 * ```
 */
export function secretShapeSpans(text: string): [number, number][] {
  const spans: [number, number][] = [];
  assignmentSpans(text, spans);
  uriPasswordSpans(text, spans);
  return spans;
}

/**
 * True when `value`, a configuration value or anything else shown whole, holds something secret-shaped:
 * an assignment to a secret-named key (`sasl.jaas.config=...`, `password="..."`), a URI with a password,
 * or a JAAS login module entry with its options. Such a value is hidden whole, under any key. (A key's
 * name alone, `... sasl.jaas.config: ...`, is not a secret.)
 */
export function looksSecret(value: string): boolean {
  return JAAS_ENTRY.test(value) || secretShapeSpans(value).length > 0;
}

/**
 * The secrets inside `text`'s secret-shaped spans, for a redactor to learn: a quoted value without its
 * quotes, as written and unescaped (`password="p" x` gives `p`), else the rest of the line, trimmed.
 */
export function secretsInText(text: string): string[] {
  return secretShapeSpans(text).flatMap(([start, end]) => {
    const span = text.slice(start, end);
    const quoted = /^(\\?["'])((?:(?!\1)[^\\]|\\.)*)\1/.exec(span);
    if (quoted === null) return [span.trim()];
    const raw = quoted[2] as string;
    // As written (`a \"b\"`), and as a JAAS or JSON reader decodes it (`a "b"`).
    return [raw, raw.replace(/\\(.)/g, '$1')];
  });
}

/**
 * `text` with each span `[start, end)` replaced by `replacement`; overlapping or touching spans become one,
 * so no part of any of them is left between two replacements.
 */
export function replaceSpans(
  text: string,
  spans: readonly (readonly [number, number])[],
  replacement: string,
): string {
  if (spans.length === 0) return text;
  const sorted = [...spans].sort((a, b) => a[0] - b[0]);
  let out = '';
  let shown = 0; // text before this index is in `out`
  let end = -1; // end of the span being merged
  for (const [start, stop] of sorted) {
    if (start > end) {
      if (end >= 0) out += replacement;
      out += text.slice(shown, start);
      end = stop;
    } else if (stop > end) end = stop;
    shown = end;
  }
  return `${out}${replacement}${text.slice(shown)}`;
}

/** `text` with its secret-shaped spans ({@link secretShapeSpans}) replaced by `replacement`. */
export function hideSecretShapes(text: string, replacement: string): string {
  return replaceSpans(text, secretShapeSpans(text), replacement);
}
