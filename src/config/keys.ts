/**
 * Key specifications: one zod schema per configuration key plus the metadata the validator, the redactor
 * and the generated reference (`npm run docs`) need. Like Kafka's `ConfigDef`, every value arrives as a
 * string (from a `.properties` file, a JSON file, or a config provider) and is parsed into its type here.
 *
 * @example
 * ```ts
 * const keys = { 'tasks.max': k.int('Maximum number of tasks.', { min: 1, default: 1 }) };
 * ```
 * @module
 */
// Named imports, not `import { z }`: the namespace object keeps zod's locales in every Lambda bundle
// (443 KiB instead of 109 KiB, ~10 ms of cold start; bench/bundle-load.ts).
import { NEVER, string, type ZodType } from 'zod';

/** The type column of the configuration reference, in Connect's vocabulary. */
export type KeyType = 'string' | 'int' | 'long' | 'boolean' | 'list' | 'password' | 'class' | 'enum' | 'url';

/** One configuration key. `schema` takes the raw string and yields the typed value. */
export interface KeySpec<T = unknown> {
  readonly type: KeyType;
  readonly doc: string;
  /** The default as a user would write it; absent means required unless `optional`. */
  readonly default?: string;
  readonly optional: boolean;
  /** Secrets are shown as `[hidden]` everywhere (CLI, errors, logs, status endpoint). */
  readonly secret: boolean;
  /** What a valid value looks like, for errors and the reference (e.g. `an integer >= 1`). */
  readonly expected: string;
  readonly schema: ZodType<T, string>;
}

/** The typed value a key spec produces (`undefined` included for `k.optional(...)` keys). */
export type KeyValue<S> = S extends KeySpec<infer T> ? T : never;

interface CommonOptions {
  readonly default?: string | number | boolean | readonly string[];
}

function defaultText(d: CommonOptions['default']): string | undefined {
  if (d === undefined) return undefined;
  return Array.isArray(d) ? d.join(',') : String(d);
}

function spec<T>(
  type: KeyType,
  doc: string,
  expected: string,
  schema: ZodType<T, string>,
  opts: CommonOptions & { readonly secret?: boolean },
): KeySpec<T> {
  const dflt = defaultText(opts.default);
  return Object.freeze({
    type,
    doc,
    expected,
    schema,
    optional: dflt !== undefined,
    secret: opts.secret ?? false,
    ...(dflt === undefined ? {} : { default: dflt }),
  });
}

function rangeText(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `an integer between ${min} and ${max}`;
  if (min !== undefined) return `an integer >= ${min}`;
  if (max !== undefined) return `an integer <= ${max}`;
  return 'an integer';
}

interface IntOptions extends CommonOptions {
  readonly min?: number;
  readonly max?: number;
}

function integer(type: 'int' | 'long', doc: string, opts: IntOptions): KeySpec<number> {
  const expected = rangeText(opts.min, opts.max);
  const schema = string()
    .trim()
    .regex(/^[+-]?\d+$/, expected)
    .transform(Number)
    .refine((n) => Number.isSafeInteger(n), expected)
    .refine((n) => opts.min === undefined || n >= opts.min, expected)
    .refine((n) => opts.max === undefined || n <= opts.max, expected);
  return spec(type, doc, expected, schema, opts);
}

/** Splits Connect's comma-separated lists: items trimmed, empty items dropped. */
export function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Builders for key specs. */
export const k = {
  string(doc: string, opts: CommonOptions & { readonly nonEmpty?: boolean; readonly secret?: boolean } = {}) {
    const expected = opts.nonEmpty ? 'a non-empty string' : 'a string';
    const base = string();
    const schema = opts.nonEmpty ? base.refine((s) => s.trim().length > 0, expected) : base;
    return spec('string', doc, expected, schema, opts);
  },

  password(doc: string, opts: CommonOptions = {}) {
    return spec('password', doc, 'a string', string(), { ...opts, secret: true });
  },

  int(doc: string, opts: IntOptions = {}) {
    return integer('int', doc, opts);
  },

  long(doc: string, opts: IntOptions = {}) {
    return integer('long', doc, opts);
  },

  boolean(doc: string, opts: CommonOptions = {}) {
    const expected = 'true or false';
    const schema = string()
      .trim()
      .toLowerCase()
      .refine((s) => s === 'true' || s === 'false', expected)
      .transform((s) => s === 'true');
    return spec('boolean', doc, expected, schema, opts);
  },

  list(doc: string, opts: CommonOptions & { readonly nonEmpty?: boolean } = {}) {
    const expected = opts.nonEmpty ? 'a non-empty comma-separated list' : 'a comma-separated list';
    const schema = string()
      .transform(splitList)
      .refine((l) => !opts.nonEmpty || l.length > 0, expected);
    return spec('list', doc, expected, schema, opts);
  },

  /**
   * One of a fixed set of values. `aliases` maps other accepted spellings (Kafka Connect class names) to
   * the canonical value, which is what the parsed config holds.
   */
  enum<const V extends string>(
    values: readonly V[],
    doc: string,
    opts: CommonOptions & {
      readonly aliases?: Readonly<Record<string, V>>;
      readonly caseInsensitive?: boolean;
    } = {},
  ) {
    const accepted = [...values, ...Object.keys(opts.aliases ?? {})];
    const expected = `one of ${accepted.map((v) => (v === '' ? '""' : v)).join(', ')}`;
    const lookup = (s: string): V | undefined => {
      const key = opts.caseInsensitive ? s.toLowerCase() : s;
      const direct = values.find((v) => (opts.caseInsensitive ? v.toLowerCase() : v) === key);
      return direct ?? opts.aliases?.[s];
    };
    const schema = string()
      .trim()
      .refine((s) => lookup(s) !== undefined, expected)
      .transform((s) => lookup(s) as V);
    return spec(values.some((v) => v.includes('.')) ? 'class' : 'enum', doc, expected, schema, opts);
  },

  url(doc: string, opts: CommonOptions = {}) {
    const expected = 'an http(s) URL';
    const schema = string()
      .trim()
      .refine((s) => /^https?:\/\/[^\s/]+/.test(s) && URL.canParse(s), expected);
    return spec('url', doc, expected, schema, opts);
  },

  /** Makes a key without a default optional: unset yields `undefined` instead of a "missing" problem. */
  optional<T>(inner: KeySpec<T>): KeySpec<T | undefined> {
    return Object.freeze({ ...inner, optional: true });
  },

  /** A string checked by a custom predicate; `expected` says what passes. */
  custom<T>(
    type: KeyType,
    doc: string,
    expected: string,
    parse: (raw: string) => T | undefined,
    opts: CommonOptions = {},
  ) {
    const schema = string().transform((s, ctx) => {
      const v = parse(s);
      if (v === undefined) {
        ctx.addIssue({ code: 'custom', message: expected });
        return NEVER;
      }
      return v;
    });
    return spec(type, doc, expected, schema, opts);
  },
} as const;

/** A set of keys, as a connector class, converter or the worker contributes it. */
export type KeyTable = Readonly<Record<string, KeySpec>>;

/** The typed values of a key table after validation. */
export type ConfigValues<T extends KeyTable> = { readonly [K in keyof T]: KeyValue<T[K]> };
