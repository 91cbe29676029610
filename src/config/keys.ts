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
// zod/mini, by named imports: the checks are functions esbuild leaves out when unused, so a packaged
// function carries ~20 KiB of zod instead of ~120 KiB (the chained API of `zod` keeps every method;
// bench/package.ts). The namespace object would keep zod's locales too.
import { NEVER, pipe, refine, regex, string, toLowerCase, transform, trim, type ZodMiniType } from 'zod/mini';

type ZodType<T, I> = ZodMiniType<T, I>;

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
  /** What a valid value looks like, for errors and the reference (e.g. `an integer from 1 to 1000`). */
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

/**
 * A frozen key spec whose zod schema is built on first use, not when the key table is defined: a packaged
 * function's init defines every key of the worker, its connector and its converters but parses only the
 * keys its files set and the defaults (docs/architecture.md, "Decisions worth knowing"). A class, so that
 * the lazy `schema` is one getter on the prototype, not a property defined on each of the ~300 specs.
 */
// biome-ignore lint/correctness/noUnusedVariables: merged into the class: its constructor assigns these fields.
interface LazyKeySpec<T> extends Omit<KeySpec<T>, 'schema'> {}
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface names what the constructor assigns.
class LazyKeySpec<T> implements KeySpec<T> {
  readonly #build: () => ZodType<T, string>;
  #schema: ZodType<T, string> | undefined;

  constructor(fields: Omit<KeySpec<T>, 'schema'>, build: () => ZodType<T, string>) {
    Object.assign(this, fields);
    this.#build = build;
    Object.freeze(this);
  }

  get schema(): ZodType<T, string> {
    this.#schema ??= this.#build();
    return this.#schema;
  }
}

function spec<T>(
  type: KeyType,
  doc: string,
  expected: string,
  build: () => ZodType<T, string>,
  opts: CommonOptions & { readonly secret?: boolean },
): KeySpec<T> {
  const dflt = defaultText(opts.default);
  const fields = { type, doc, expected, optional: dflt !== undefined, secret: opts.secret ?? false };
  return new LazyKeySpec(dflt === undefined ? fields : { ...fields, default: dflt }, build);
}

/**
 * The range of each integer type: Connect's INT is a 32-bit Java int; its LONG is 64-bit, but a
 * JavaScript number holds integers exactly only up to 2^53 - 1, so that is where connect-fn's longs end.
 */
const INTEGER_RANGE = {
  int: { min: -2_147_483_648, max: 2_147_483_647, note: 'a 32-bit int, as in Connect' },
  long: {
    min: -Number.MAX_SAFE_INTEGER,
    max: Number.MAX_SAFE_INTEGER,
    note: '2^53 - 1 is the largest integer connect-fn holds exactly',
  },
} as const;

/** The rule an integer key applies, with its type's bound where the key sets none (`an integer from 1 to 2147483647 (...)`). */
function rangeText(type: 'int' | 'long', min: number | undefined, max: number | undefined): string {
  const range = INTEGER_RANGE[type];
  const text = `an integer from ${min ?? range.min} to ${max ?? range.max}`;
  return min === undefined || max === undefined ? `${text} (${range.note})` : text;
}

interface IntOptions extends CommonOptions {
  readonly min?: number;
  readonly max?: number;
}

function integer(type: 'int' | 'long', doc: string, opts: IntOptions): KeySpec<number> {
  const expected = rangeText(type, opts.min, opts.max);
  const min = opts.min ?? INTEGER_RANGE[type].min;
  const max = opts.max ?? INTEGER_RANGE[type].max;
  const schema = () =>
    pipe(string().check(trim(), regex(/^[+-]?\d+$/, expected)), transform(Number)).check(
      refine((n: number) => Number.isSafeInteger(n) && n >= min && n <= max, expected),
    );
  return spec(type, doc, expected, schema, opts);
}

/** Kafka's legal topic names (`Topic.validate`): 1-249 of letters, digits, `.`, `_` and `-`, not `.` or `..`. */
export const TOPIC_NAME = /^(?!\.\.?$)[A-Za-z0-9._-]{1,249}$/;

/** Kafka's rule for a topic name, as every message about one states it. */
export const TOPIC_NAME_RULE =
  'a Kafka topic name: 1 to 249 characters of letters, digits, ".", "_" and "-", and not "." or ".."';

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
    const expected = opts.nonEmpty ? 'a string that is not empty or only spaces' : 'a string';
    const schema = () =>
      opts.nonEmpty ? string().check(refine((s) => s.trim().length > 0, expected)) : string();
    return spec('string', doc, expected, schema, opts);
  },

  password(doc: string, opts: CommonOptions = {}) {
    return spec('password', doc, 'a string', () => string(), { ...opts, secret: true });
  },

  int(doc: string, opts: IntOptions = {}) {
    return integer('int', doc, opts);
  },

  long(doc: string, opts: IntOptions = {}) {
    return integer('long', doc, opts);
  },

  boolean(doc: string, opts: CommonOptions = {}) {
    const expected = 'true or false (in any case)';
    const schema = () =>
      pipe(
        string().check(
          trim(),
          toLowerCase(),
          refine((s) => s === 'true' || s === 'false', expected),
        ),
        transform((s: string) => s === 'true'),
      );
    return spec('boolean', doc, expected, schema, opts);
  },

  list(doc: string, opts: CommonOptions & { readonly nonEmpty?: boolean } = {}) {
    const expected = opts.nonEmpty ? 'a non-empty comma-separated list' : 'a comma-separated list';
    const schema = () =>
      pipe(string(), transform(splitList)).check(
        refine((l: string[]) => !opts.nonEmpty || l.length > 0, expected),
      );
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
    const quote = (v: string) => (v === '' ? '""' : v);
    const aliases = Object.keys(opts.aliases ?? {});
    const expected = `one of ${values.map(quote).join(', ')}${opts.caseInsensitive ? ' (in any case)' : ''}${aliases.length > 0 ? `, ${aliases.join(', ')}` : ''}`;
    const lookup = (s: string): V | undefined => {
      const key = opts.caseInsensitive ? s.toLowerCase() : s;
      const direct = values.find((v) => (opts.caseInsensitive ? v.toLowerCase() : v) === key);
      return direct ?? opts.aliases?.[s];
    };
    const schema = () =>
      pipe(
        string().check(
          trim(),
          refine((s) => lookup(s) !== undefined, expected),
        ),
        transform((s: string) => lookup(s) as V),
      );
    return spec(values.some((v) => v.includes('.')) ? 'class' : 'enum', doc, expected, schema, opts);
  },

  /**
   * One Kafka topic name, trimmed ({@link TOPIC_NAME}). With `emptyDisables`, an empty value is accepted
   * too (as `errors.deadletterqueue.topic.name`'s "no dead letter queue").
   */
  topic(doc: string, opts: CommonOptions & { readonly emptyDisables?: boolean } = {}) {
    const expected = opts.emptyDisables ? `empty, or ${TOPIC_NAME_RULE}` : TOPIC_NAME_RULE;
    const schema = () =>
      string().check(
        trim(),
        refine((s) => TOPIC_NAME.test(s) || (opts.emptyDisables === true && s === ''), expected),
      );
    return spec('string', doc, expected, schema, opts);
  },

  url(doc: string, opts: CommonOptions = {}) {
    const expected = 'an http(s) URL';
    const schema = () =>
      string().check(
        trim(),
        refine((s) => /^https?:\/\/[^\s/]+/.test(s) && URL.canParse(s), expected),
      );
    return spec('url', doc, expected, schema, opts);
  },

  /** Makes a key without a default optional: unset yields `undefined` instead of a "missing" problem. */
  optional<T>(inner: KeySpec<T>): KeySpec<T | undefined> {
    const { type, doc, expected, secret } = inner;
    const fields = { type, doc, expected, secret, optional: true };
    return new LazyKeySpec<T | undefined>(
      inner.default === undefined ? fields : { ...fields, default: inner.default },
      () => inner.schema,
    );
  },

  /**
   * A string checked by a custom parser; `expected` says what passes. The parser returns undefined for a
   * value that fails, or a {@link Rejected} saying which rule it breaks (appended to `expected`).
   */
  custom<T>(
    type: KeyType,
    doc: string,
    expected: string,
    parse: (raw: string) => T | Rejected | undefined,
    opts: CommonOptions = {},
  ) {
    const schema = () =>
      pipe(
        string(),
        transform((s: string, ctx) => {
          const v = parse(s);
          if (v === undefined || v instanceof Rejected) {
            const message = v instanceof Rejected ? `${expected}: ${v.reason}` : expected;
            ctx.issues.push({ code: 'custom', message, input: s });
            return NEVER;
          }
          return v;
        }),
      );
    return spec(type, doc, expected, schema, opts);
  },
} as const;

/** What a custom key's parser returns for a value that breaks a rule: the rule, for the message. */
export class Rejected {
  constructor(readonly reason: string) {}
}

/** A set of keys, as a connector class, converter or the worker contributes it. */
export type KeyTable = Readonly<Record<string, KeySpec>>;

/** The typed values of a key table after validation. */
export type ConfigValues<T extends KeyTable> = { readonly [K in keyof T]: KeyValue<T[K]> };
