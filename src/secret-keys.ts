/**
 * Which configuration or field names hold secrets, and which text looks like it holds one. Dependency-free on purpose, a leaf like `errors.ts`, so
 * that both redactors — the config bundle's and the logger's — share one definition.
 *
 * @module
 */

/**
 * Names whose value is a secret, matched case-insensitively anywhere in the key:
 * - `password`, `passwd` (`ssl.key.password`, `connection.password`, `sasl.password`)
 * - `secret` (`aws.secret.access.key`, `client.secret`, `secretAccessKey`)
 * - `token` (`sessionToken`, `sasl.oauthbearer.token`)
 * - `credential` (`credentials`, `aws.credentials`)
 * - `sasl.jaas.config` (holds the password inline), `basic.auth.user.info` (`user:password`)
 * - `private` (`private.key`, `privateKey`), `authorization`, `api.key` / `api_key` / `apiKey`
 *
 * plus `key` alone or as the last part of a dotted name (`ssl.keystore.key`: a PEM private key) and `*.pem`.
 * `key.converter` is not a secret, and neither is `partitionKey`. (A bare `key` is a record key: payload,
 * which has no place in a log line either.)
 */
const SECRET_KEY_PATTERN =
  /passw(?:or)?d|secret|token|credential|jaas\.config|auth\.user\.info|authorization|private|api[._-]?key|(?:^|\.)key$|\.pem$/i;

/**
 * True when a field or configuration key names a secret, so its value must never be shown.
 *
 * @example
 * ```ts
 * isSecretKeyName('sasl.jaas.config'); // true
 * isSecretKeyName('ssl.keystore.key'); // true
 * isSecretKeyName('key.converter'); // false
 * ```
 */
export function isSecretKeyName(key: string): boolean {
  return SECRET_KEY_PATTERN.test(key);
}

/**
 * `name=` or `name:` in free text, with the name optionally closed by a quote (`"password":`, JSON; `\"`,
 * JSON inside a JSON string). Group 1 is the name, 2 the quote after it, 3 the separator.
 */
const ASSIGNMENT = /([\w.-]+)(\\?["'])?[ \t]*([=:])[ \t]*/g;
/** A quote opening a value: `"`, `'`, or a JSON-escaped `\"`. */
const OPENING_QUOTE = /^\\?["']/;
/** Values that only stand for a secret: `password="..."` in a message showing the expected shape. */
const PLACEHOLDER = /^\\?["']?(?:\.\.\.|\[hidden\])\\?["']?(?=$|[\s;,)])/;
/** The password of a URI's user info: `mongodb://user:PASSWORD@host`. */
const URI_PASSWORD = /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:([^\s/@]+)@/gi;
/** A JAAS login module entry with its options (Connect's `sasl.jaas.config`). */
const JAAS_ENTRY = /LoginModule\s+(?:required|requisite|sufficient|optional)\b/;

/** Where the line holding `at` ends. */
function lineEnd(text: string, at: number): number {
  const n = text.indexOf('\n', at);
  const r = text.indexOf('\r', at);
  const ends = [n, r].filter((i) => i !== -1);
  return ends.length === 0 ? text.length : Math.min(...ends);
}

/**
 * Spans `[start, end)` of `text` that hold a secret by their shape, whatever key the text came under (a
 * value that swallowed the next line through a stray `\`, an error message echoing a client's settings):
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
  if (!/[=:]/.test(text)) return spans;
  for (const m of text.matchAll(ASSIGNMENT)) {
    const [whole, name = '', quoteAfterName, separator] = m;
    if (!isSecretKeyName(name)) continue;
    const start = m.index + whole.length;
    const rest = text.slice(start);
    if (separator === ':' && quoteAfterName === undefined && !OPENING_QUOTE.test(rest)) continue;
    if (PLACEHOLDER.test(rest)) continue;
    const end = lineEnd(text, start);
    if (end > start) spans.push([start, end]);
  }
  for (const m of text.matchAll(URI_PASSWORD)) {
    const password = m[1] as string;
    const start = m.index + m[0].length - 1 - password.length;
    if (password !== '...') spans.push([start, start + password.length]);
  }
  return spans;
}

/**
 * True when `value`, a configuration value or anything else shown whole, holds something secret-shaped:
 * an assignment to a secret-named key (`sasl.jaas.config=...`, `password="..."`), a URI with a password, or a
 * JAAS login module entry with its options. Such a value is hidden whole, under any key. (A key's name
 * alone, `... sasl.jaas.config: ...`, is not a secret.)
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
