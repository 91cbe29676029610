/**
 * Strict validation of a flat string map against a key table: every known key parsed by its zod schema,
 * defaults applied, required keys checked, and every unknown key reported with the closest known key.
 * All problems are collected; nothing stops at the first one.
 * @module
 */
import type { ConfigProblem } from '../errors.ts';
import type { ConfigValues, KeySpec, KeyTable } from './keys.ts';
import { HIDDEN } from './redaction.ts';
import { closest } from './suggest.ts';

/** Keys under a prefix that some other part validates (e.g. `producer.*`, `transforms.*`). */
export interface PrefixRule {
  readonly prefix: string;
  /** For the reference: what keys under this prefix do. */
  readonly doc: string;
}

/** A set of keys with the prefixes it delegates and the Connect keys it knowingly ignores. */
export interface ConfigSchema<T extends KeyTable = KeyTable> {
  readonly keys: T;
  readonly prefixes?: readonly PrefixRule[];
  /** Kafka Connect keys that mean nothing for a function; accepted with a warning giving the reason. */
  readonly ignored?: Readonly<Record<string, string>>;
}

/** How the validator shows values and names the file. */
export interface ValidationContext {
  readonly file: string;
  /** Renders a value for an error message; returns `[hidden]` for secrets. */
  readonly show: (key: string, value: string) => string;
  /** Extra names to suggest from for unknown keys (e.g. prefixed keys of the chosen converter). */
  readonly extraKnownKeys?: readonly string[];
  /** Prefix prepended to key names in problems (e.g. `transforms.mask.`). */
  readonly keyPrefix?: string;
  /** Told of every value set for a key its spec marks secret, so the bundle's redactor hides it everywhere. */
  readonly onSecret?: (key: string, value: string) => void;
}

export interface ValidationResult<T extends KeyTable> {
  readonly values: ConfigValues<T>;
  /** Raw keys matched by a prefix rule, for their owner to validate. */
  readonly delegated: Readonly<Record<string, string>>;
  readonly problems: readonly ConfigProblem[];
  readonly warnings: readonly ConfigProblem[];
}

/** Parses one value with its spec; returns the problem instead of throwing. */
export function parseKey(
  key: string,
  keySpec: KeySpec,
  raw: string,
  ctx: ValidationContext,
): { ok: true; value: unknown } | { ok: false; problem: ConfigProblem } {
  const result = keySpec.schema.safeParse(raw);
  if (result.success) return { ok: true, value: result.data };
  const fullKey = `${ctx.keyPrefix ?? ''}${key}`;
  const message = result.error.issues[0]?.message ?? keySpec.expected;
  const expected = message.startsWith('Invalid') ? keySpec.expected : message;
  const got = keySpec.secret ? HIDDEN : ctx.show(fullKey, raw);
  return { ok: false, problem: { file: ctx.file, key: fullKey, expected, got } };
}

/** Parsed defaults, once per key spec: a bundle of 50 connectors would otherwise parse ~750 of them. */
const defaults = new WeakMap<KeySpec, unknown>();

function parsedDefault(key: string, keySpec: KeySpec, ctx: ValidationContext): unknown {
  if (defaults.has(keySpec)) return defaults.get(keySpec);
  const parsed = parseKey(key, keySpec, keySpec.default ?? '', ctx);
  if (!parsed.ok) throw new Error(`default of ${key} does not pass its own schema: ${keySpec.default}`);
  // Shared between bundles, so frozen like them.
  const value =
    typeof parsed.value === 'object' && parsed.value !== null ? Object.freeze(parsed.value) : parsed.value;
  defaults.set(keySpec, value);
  return value;
}

/** A null-prototype map: user-supplied keys such as `__proto__` or `toString` stay ordinary keys. */
export function emptyMap<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

/**
 * The closest known key for `key`: a whole known key, or a prefix rule's prefix with the rest of `key`
 * kept (`prodcuer.acks` -> `producer.acks`, `value.convertr.schemas.enable` -> `value.converter.schemas.enable`).
 * A prefix is offered only when the part of `key` it replaces is itself a likely typo of it: the rest
 * being equal says nothing (`log4j.appender.stdout` is no `transforms.appender.stdout`).
 */
function suggestKey(
  key: string,
  known: readonly string[],
  prefixes: readonly PrefixRule[],
): string | undefined {
  const whole = closest(key, known);
  if (whole !== undefined) return whole;
  const parts = key.split('.');
  const candidates: string[] = [];
  for (const { prefix } of prefixes) {
    const depth = prefix.split('.').length - 1;
    if (parts.length <= depth) continue;
    const head = `${parts.slice(0, depth).join('.')}.`;
    if (closest(head, [prefix]) === undefined) continue;
    candidates.push(prefix + parts.slice(depth).join('.'));
  }
  return closest(key, candidates);
}

/** Validates `raw` against `schema`. Unknown keys, bad values and missing required keys become problems. */
export function validateKeys<T extends KeyTable>(
  schema: ConfigSchema<T>,
  raw: Readonly<Record<string, string>>,
  ctx: ValidationContext,
): ValidationResult<T> {
  const values = emptyMap<unknown>();
  const delegated = emptyMap<string>();
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const prefix = ctx.keyPrefix ?? '';
  const known = [...Object.keys(schema.keys), ...(ctx.extraKnownKeys ?? [])];
  const prefixes = schema.prefixes ?? [];

  for (const [key, value] of Object.entries(raw)) {
    const keySpec = Object.hasOwn(schema.keys, key) ? schema.keys[key] : undefined;
    if (keySpec !== undefined) {
      if (keySpec.secret) ctx.onSecret?.(prefix + key, value);
      const parsed = parseKey(key, keySpec, value, ctx);
      if (parsed.ok) values[key] = parsed.value;
      else problems.push(parsed.problem);
    } else if (prefixes.some((p) => key.startsWith(p.prefix))) {
      delegated[key] = value;
    } else if (schema.ignored !== undefined && Object.hasOwn(schema.ignored, key)) {
      warnings.push({ file: ctx.file, key: prefix + key, expected: `ignored: ${schema.ignored[key]}` });
    } else {
      const suggestion = suggestKey(key, known, prefixes);
      problems.push({
        file: ctx.file,
        key: prefix + key,
        // Java keeps a byte order mark too, so the first key of a file saved "with BOM" is not what it looks like.
        expected: key.startsWith('\uFEFF')
          ? 'unknown key (it starts with a byte order mark: save the file without BOM)'
          : 'unknown key',
        ...(suggestion === undefined ? {} : { suggestion: prefix + suggestion }),
      });
    }
  }

  for (const [key, keySpec] of Object.entries(schema.keys)) {
    if (Object.hasOwn(raw, key)) continue;
    if (keySpec.default !== undefined) {
      values[key] = parsedDefault(`${prefix}${key}`, keySpec, ctx);
    } else if (!keySpec.optional) {
      problems.push({ file: ctx.file, key: prefix + key, expected: `required: ${keySpec.expected}` });
    }
  }

  return { values: values as ConfigValues<T>, delegated, problems, warnings };
}

/** The keys of `raw` that start with `prefix`, with the prefix removed. */
export function subKeys(raw: Readonly<Record<string, string>>, prefix: string): Record<string, string> {
  const out = emptyMap<string>();
  for (const [key, value] of Object.entries(raw))
    if (key.startsWith(prefix)) out[key.slice(prefix.length)] = value;
  return out;
}
