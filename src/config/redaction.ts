/**
 * Redaction: secrets are shown as `[hidden]` in every output — CLI, errors, logs, the status endpoint.
 *
 * Three defences, all applied by {@link Redactor}, so that what is hidden never depends on the key a value
 * ended up under (a stray `\` at a line's end joins `sasl.jaas.config=...` into the value of the key before):
 * 1. by key: a key whose spec is `secret` (Connect's PASSWORD type), whose name looks secret
 *    ({@link isSecretKeyName}: `*password*`, `sasl.jaas.config`, `*.key`, `*secret*`, `*token*`, ...), or
 *    whose value came from a config provider, is never shown;
 * 2. by known value: every secret value the bundle holds (values of secret keys in any of its files,
 *    provider-resolved values, what secret-shaped values contain) of at least
 *    {@link MIN_TEXT_SECRET_LENGTH} characters is replaced wherever it appears, also JSON-escaped (once,
 *    or twice: JSON in a JSON string). Shorter values are still hidden by key; replacing every "ab" in a
 *    log line would garble it;
 * 3. by shape ({@link secretShapeSpans}, {@link looksSecret}): a configuration value holding an assignment
 *    to a secret-named key, a JAAS entry or a URI password is hidden whole ({@link Redactor.value}); in free
 *    text ({@link Redactor.text}) such an assignment's value is hidden to the end of its line.
 * @module
 */

import { isSecretKeyName } from '../secret-keys.ts';
import { looksSecret, replaceSpans, secretShapeSpans, secretsInText } from '../secret-shapes.ts';

export const HIDDEN = '[hidden]';

/** Secret values shorter than this are hidden by key only, not searched for in free text. */
export const MIN_TEXT_SECRET_LENGTH = 4;

export { isSecretKeyName, looksSecret, secretsInText };

/** `value` and the forms JSON gives it: escaped once (a JSON string), twice (JSON inside a JSON string). */
function escapedForms(value: string): string[] {
  const once = JSON.stringify(value).slice(1, -1);
  const twice = JSON.stringify(once).slice(1, -1);
  return [value, once, twice];
}

/** Hides secret values in text and structured data. Immutable once built. */
export class Redactor {
  readonly #values: readonly string[];
  readonly #secretKeys: ReadonlySet<string>;

  /**
   * @param secretValues values to hide wherever they appear (provider-resolved values, passwords)
   * @param secretKeys exact key names that are secret beyond the naming convention
   */
  constructor(secretValues: Iterable<string> = [], secretKeys: Iterable<string> = []) {
    const long = [...secretValues].filter((v) => v.length >= MIN_TEXT_SECRET_LENGTH);
    this.#values = [...new Set(long.flatMap(escapedForms))];
    this.#secretKeys = new Set(secretKeys);
    Object.freeze(this);
  }

  /** True when values of `key` must never be shown. */
  isSecretKey(key: string): boolean {
    return this.#secretKeys.has(key) || isSecretKeyName(key);
  }

  /**
   * Free text (a message, a log field) with every known secret value, and the value of every secret-shaped
   * assignment ({@link secretShapeSpans}), replaced by `[hidden]`. Every occurrence of every secret is
   * found first and overlapping (or touching) ones are hidden as one span, so no part of any secret is
   * left: with `user-adm` and `adminPassw0rd`, `login=user-adminPassw0rd` becomes `login=[hidden]` (one
   * alternation would give `[hidden]inPassw0rd`; replacing one secret after another, `user-[hidden]`).
   */
  text(text: string): string {
    return this.#hide(text, secretShapeSpans(text));
  }

  /** `text` with `spans` and every occurrence of a known secret replaced. */
  #hide(text: string, spans: [number, number][]): string {
    for (const value of this.#values) {
      for (let at = text.indexOf(value); at !== -1; at = text.indexOf(value, at + 1))
        spans.push([at, at + value.length]);
    }
    return replaceSpans(text, spans, HIDDEN);
  }

  /**
   * A configuration value (or anything else shown whole): hidden whole when it looks secret
   * ({@link looksSecret}), else with the known secrets in it replaced.
   */
  value(value: string): string {
    // One scan for the shape (a value may be megabytes): looksSecret's, then only the known values.
    return looksSecret(value) ? HIDDEN : this.#hide(value, []);
  }

  /** How the value of `key` may be shown: never for a secret key, else as {@link value} says. */
  show(key: string, value: string): string {
    return this.isSecretKey(key) ? HIDDEN : this.value(value);
  }

  /** A deep copy of `value` with secret keys hidden and secret values replaced, for logs and JSON output. */
  deep(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.text(value);
    if (value === null || typeof value !== 'object' || depth > 8) return value;
    if (Array.isArray(value)) return value.map((v) => this.deep(v, depth + 1));
    if (value instanceof Error) return this.text(value.message);
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value))
      out[key] = this.isSecretKey(key) ? HIDDEN : this.deep(v, depth + 1);
    return out;
  }
}
