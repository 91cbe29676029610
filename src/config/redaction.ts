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

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Hides secret values in text and structured data. Immutable once built. */
export class Redactor {
  readonly #pattern: RegExp | undefined;
  readonly #secretKeys: ReadonlySet<string>;

  /**
   * @param secretValues values to hide wherever they appear (provider-resolved values, passwords)
   * @param secretKeys exact key names that are secret beyond the naming convention
   */
  constructor(secretValues: Iterable<string> = [], secretKeys: Iterable<string> = []) {
    const values = [...new Set(secretValues)].filter((v) => v.length >= MIN_TEXT_SECRET_LENGTH);
    // Longest first, so a secret containing another secret is hidden whole.
    values.sort((a, b) => b.length - a.length);
    this.#pattern = values.length === 0 ? undefined : new RegExp(values.map(escapeRegExp).join('|'), 'g');
    this.#secretKeys = new Set(secretKeys);
    Object.freeze(this);
  }

  /** True when values of `key` must never be shown. */
  isSecretKey(key: string): boolean {
    return this.#secretKeys.has(key) || isSecretKeyName(key);
  }

  /** `text` with every known secret value replaced by `[hidden]`. */
  text(text: string): string {
    return this.#pattern === undefined ? text : text.replace(this.#pattern, HIDDEN);
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
