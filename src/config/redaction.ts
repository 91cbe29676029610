/**
 * Redaction: secrets are shown as `[hidden]` in every output — CLI, errors, logs, the status endpoint.
 *
 * Two defences, both applied by {@link Redactor}:
 * 1. by key: a key whose spec is `secret` (Connect's PASSWORD type), whose name looks secret
 *    ({@link isSecretKeyName}: `*password*`, `sasl.jaas.config`, `*.key`, `*secret*`, `*token*`, ...), or
 *    whose value came from a config provider, is never shown;
 * 2. by value: every secret value of at least {@link MIN_TEXT_SECRET_LENGTH} characters is replaced
 *    wherever it appears in free text (an error message from a client library that echoes a password).
 *    Shorter values are still hidden by key; replacing every "ab" in a log line would garble it.
 * @module
 */

import { isSecretKeyName } from '../secret-keys.ts';

export const HIDDEN = '[hidden]';

/** Secret values shorter than this are hidden by key only, not searched for in free text. */
export const MIN_TEXT_SECRET_LENGTH = 4;

export { isSecretKeyName };

/** Hides secret values in text and structured data. Immutable once built. */
export class Redactor {
  readonly #values: readonly string[];
  readonly #secretKeys: ReadonlySet<string>;

  /**
   * @param secretValues values to hide wherever they appear (provider-resolved values, passwords)
   * @param secretKeys exact key names that are secret beyond the naming convention
   */
  constructor(secretValues: Iterable<string> = [], secretKeys: Iterable<string> = []) {
    const values = [...new Set(secretValues)].filter((v) => v.length >= MIN_TEXT_SECRET_LENGTH);
    this.#values = values;
    this.#secretKeys = new Set(secretKeys);
    Object.freeze(this);
  }

  /** True when values of `key` must never be shown. */
  isSecretKey(key: string): boolean {
    return this.#secretKeys.has(key) || isSecretKeyName(key);
  }

  /**
   * `text` with every known secret value replaced by `[hidden]`. Every occurrence of every secret is
   * found first and overlapping (or touching) ones are hidden as one span, so no part of any secret is
   * left: with `user-adm` and `adminPassw0rd`, `login=user-adminPassw0rd` becomes `login=[hidden]` (one
   * alternation would give `[hidden]inPassw0rd`; replacing one secret after another, `user-[hidden]`).
   */
  text(text: string): string {
    const spans: [number, number][] = [];
    for (const value of this.#values) {
      for (let at = text.indexOf(value); at !== -1; at = text.indexOf(value, at + 1))
        spans.push([at, at + value.length]);
    }
    if (spans.length === 0) return text;
    spans.sort((a, b) => a[0] - b[0]);
    let out = '';
    let shown = 0; // text before this index is in `out`
    let end = -1; // end of the span being merged
    for (const [start, stop] of spans) {
      if (start > end) {
        if (end >= 0) out += HIDDEN;
        out += text.slice(shown, start);
        end = stop;
      } else if (stop > end) end = stop;
      shown = end;
    }
    return `${out}${HIDDEN}${text.slice(shown)}`;
  }

  /** How the value of `key` may be shown. */
  show(key: string, value: string): string {
    return this.isSecretKey(key) ? HIDDEN : this.text(value);
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
