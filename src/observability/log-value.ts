/**
 * Turns anything a caller hands the logger into plain JSON data that is safe to print: secret-named keys
 * hidden, every string passed through the injected `redact`, errors flattened to
 * `{name, code, message, retriable, stage, stack, cause}`, and every structure bounded (depth, cycles,
 * array length, string length, cause chain) so one log call can neither throw on `JSON.stringify` nor
 * write megabytes.
 *
 * @module
 */
import { isSecretKeyName } from '../secret-keys.ts';
import { hideSecretShapes } from '../secret-shapes.ts';

/** What a secret value is replaced with. */
export const HIDDEN = '[hidden]';

/**
 * Hides secret values. Given a string, returns it with every secret value inside replaced; given an object
 * or array, returns a copy with secret values and secret-named keys hidden. Must not mutate its input.
 */
export type Redactor = (value: unknown) => unknown;

/** Nesting below this depth is printed as `[depth limit]`. */
const MAX_DEPTH = 8;
/** Causes beyond this many links are summarised; `cause` loops are cut by the cycle check anyway. */
const MAX_CAUSE_DEPTH = 5;
/** Arrays are cut here (a batch's committed offsets fit; a payload dump does not). */
const MAX_ARRAY_ITEMS = 1000;
/** One CloudWatch Logs event holds at most 256 KiB; no single string should take a large part of it. */
const MAX_STRING_CHARS = 16_384;

/** Walks one value; holds the redactor and the objects on the current path (to cut cycles). */
export class LogValueWalker {
  readonly #redact: Redactor;
  readonly #path = new WeakSet<object>();

  constructor(redact: Redactor) {
    this.#redact = redact;
  }

  /**
   * `s` with secrets replaced — the injected redactor's, then every secret-shaped assignment's value
   * (`password=...`), which needs no bundle to be recognised — then cut to a bounded length (after
   * redaction, so no secret is split).
   */
  string(s: string): string {
    const redacted = this.#redact(s);
    const out = typeof redacted === 'string' ? hideSecretShapes(redacted, HIDDEN) : HIDDEN;
    return out.length <= MAX_STRING_CHARS
      ? out
      : `${out.slice(0, MAX_STRING_CHARS)}…[${out.length - MAX_STRING_CHARS} chars cut]`;
  }

  /** Plain JSON data for `value`; `undefined` (and functions, like JSON) for nothing to print. */
  value(value: unknown, depth = 0): unknown {
    switch (typeof value) {
      case 'string':
        return this.string(value);
      case 'number':
        return Number.isFinite(value) ? value : String(value);
      case 'boolean':
        return value;
      case 'bigint':
        return value.toString();
      case 'symbol':
        return value.toString();
      case 'undefined':
      case 'function':
        return undefined;
    }
    if (value === null) return null;
    return this.#object(value as object, depth);
  }

  /** Copies `fields` into `target` key by key, hiding secret-named keys and skipping undefined values. */
  assign(target: Record<string, unknown>, fields: Readonly<Record<string, unknown>>, depth = 0): void {
    for (const key of Object.keys(fields)) {
      const raw = fields[key];
      if (raw === undefined) continue;
      const value = isSecretKeyName(key) ? HIDDEN : this.value(raw, depth + 1);
      if (value !== undefined) setOwn(target, key, value);
    }
  }

  #object(value: object, depth: number): unknown {
    if (this.#path.has(value)) return '[circular]';
    if (depth >= MAX_DEPTH) return '[depth limit]';
    this.#path.add(value);
    try {
      return this.#objectOnPath(value, depth);
    } finally {
      this.#path.delete(value);
    }
  }

  #objectOnPath(value: object, depth: number): unknown {
    if (isError(value)) return this.#error(value, depth, 0);
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
    // Never dump bytes: they are record payloads more often than not.
    if (ArrayBuffer.isView(value)) return `[${value.constructor.name} ${value.byteLength} bytes]`;
    if (value instanceof ArrayBuffer) return `[ArrayBuffer ${value.byteLength} bytes]`;
    if (Array.isArray(value) || value instanceof Set) return this.#array([...value], depth);
    if (value instanceof Map) {
      const out: Record<string, unknown> = {};
      this.assign(out, Object.fromEntries([...value].map(([k, v]) => [String(k), v])), depth);
      return out;
    }
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return this.value(toJSON.call(value), depth + 1);
    const out: Record<string, unknown> = {};
    this.assign(out, value as Record<string, unknown>, depth);
    return out;
  }

  #array(items: readonly unknown[], depth: number): unknown[] {
    const out = items.slice(0, MAX_ARRAY_ITEMS).map((item) => this.value(item, depth + 1) ?? null);
    if (items.length > MAX_ARRAY_ITEMS) out.push(`[${items.length - MAX_ARRAY_ITEMS} more]`);
    return out;
  }

  /** `{name, code, message, retriable, stage, stack, cause}`, present fields only, `cause` chain bounded. */
  #error(err: Error, depth: number, causeDepth: number): Record<string, unknown> {
    const e = err as Error & { code?: unknown; retriable?: unknown; stage?: unknown };
    const out: Record<string, unknown> = { name: this.string(String(e.name)) };
    if (e.code !== undefined) out.code = this.value(e.code, depth + 1);
    out.message = this.string(String(e.message));
    if (typeof e.retriable === 'boolean') out.retriable = e.retriable;
    if (e.stage !== undefined) out.stage = this.value(e.stage, depth + 1);
    if (typeof e.stack === 'string') out.stack = this.string(e.stack);
    if (e.cause !== undefined) out.cause = this.#cause(e.cause, depth, causeDepth + 1);
    return out;
  }

  #cause(cause: unknown, depth: number, causeDepth: number): unknown {
    if (causeDepth > MAX_CAUSE_DEPTH) return '[cause chain cut]';
    if (!isError(cause)) return this.value(cause, depth + 1);
    if (this.#path.has(cause)) return '[circular]';
    this.#path.add(cause);
    try {
      return this.#error(cause, depth, causeDepth);
    } finally {
      this.#path.delete(cause);
    }
  }
}

/** Errors, including ones from another realm (a `vm` context) that fail `instanceof Error`. */
function isError(value: unknown): value is Error {
  return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]';
}

/** `target[key] = value` that treats `__proto__` as an ordinary key instead of a prototype change. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}
