/**
 * Validation of a connector's plugins: its three converters (the connector's own, or the worker's), and
 * its transformation and predicate chains (`transforms=a,b`, `transforms.a.type=...`, `transforms.a.<key>`,
 * `predicate`, `negate`), each checked against the definition the registry holds for its class.
 * @module
 */
import type { ConfigProblem } from '../errors.ts';
import { k } from './keys.ts';
import type { PluginType, Registry } from './registry.ts';
import { closest } from './suggest.ts';
import { subKeys, type ValidationContext, validateKeys } from './validate-keys.ts';

/** A plugin chosen by class name and configured by its own keys. */
export interface PluginConfig {
  /** Canonical short name from the registry. */
  readonly name: string;
  readonly config: Readonly<Record<string, unknown>>;
}

export interface TransformConfig extends PluginConfig {
  readonly alias: string;
  readonly predicate?: string;
  readonly negate: boolean;
}

export const CONVERTER_ROLES = ['key', 'value', 'header'] as const;
export type ConverterRole = (typeof CONVERTER_ROLES)[number];

/** Resolves `className` to a plugin of `type` and validates its keys; pushes problems. */
export function configurePlugin(
  registry: Registry,
  type: PluginType,
  classKey: string,
  className: string,
  sub: Readonly<Record<string, string>>,
  ctx: ValidationContext,
  problems: ConfigProblem[],
): PluginConfig | undefined {
  const def = registry.find(type, className);
  if (def === undefined) {
    const suggestion = closest(className, registry.names(type));
    const known = registry.definitions(type).map((d) => d.name);
    problems.push({
      file: ctx.file,
      key: classKey,
      expected: `a known ${type} (${known.length === 0 ? `none is built in yet` : known.join(', ')})`,
      got: className,
      ...(suggestion === undefined ? {} : { suggestion }),
    });
    return undefined;
  }
  const extraKnownKeys = Object.keys(def.schema.keys);
  const result = validateKeys(def.schema, sub, { ...ctx, extraKnownKeys });
  problems.push(...result.problems);
  const prefix = ctx.keyPrefix ?? '';
  def.check?.(
    result.values,
    (p) => problems.push({ file: ctx.file, ...p, key: `${prefix}${p.key}` }),
    (key, value) => ctx.show(`${prefix}${key}`, value),
  );
  return { name: def.name, config: result.values };
}

const chainControlKeys = {
  type: k.string('Class of the plugin.', { nonEmpty: true }),
  predicate: k.optional(k.string('Alias of the predicate that decides whether the transformation applies.')),
  negate: k.boolean('Apply the transformation when the predicate does not match.', { default: false }),
} as const;

/**
 * Validates a `transforms` or `predicates` chain. Every alias listed needs `<prefix><alias>.type`; every
 * `<prefix><alias>.*` key needs its alias listed.
 */
export function configureChain(
  registry: Registry,
  kind: 'transforms' | 'predicates',
  aliases: readonly string[],
  raw: Readonly<Record<string, string>>,
  base: ValidationContext,
  problems: ConfigProblem[],
): TransformConfig[] {
  const file = base.file;
  const type: PluginType = kind === 'transforms' ? 'transformation' : 'predicate';
  const prefix = `${kind}.`;
  const listed = new Set(aliases);
  for (const key of Object.keys(raw)) {
    if (!key.startsWith(prefix)) continue;
    const alias = key.slice(prefix.length).split('.')[0] ?? '';
    if (!listed.has(alias)) {
      const suggestion = closest(alias, listed);
      problems.push({
        file,
        key,
        expected: `an alias listed in ${kind} (${aliases.join(', ') || 'empty'})`,
        ...(suggestion === undefined ? {} : { suggestion: `${prefix}${suggestion}` }),
      });
    }
  }
  const out: TransformConfig[] = [];
  for (const alias of aliases) {
    const aliasPrefix = `${prefix}${alias}.`;
    const sub = subKeys(raw, aliasPrefix);
    const { type: className, predicate, negate, ...own } = sub;
    if (className === undefined) {
      problems.push({
        file,
        key: `${aliasPrefix}type`,
        expected: `required: the class of ${type} '${alias}'`,
      });
      continue;
    }
    const control = {
      type: className,
      ...(predicate === undefined ? {} : { predicate }),
      ...(negate === undefined ? {} : { negate }),
    };
    const ctx: ValidationContext = { ...base, keyPrefix: aliasPrefix };
    const checked = validateKeys({ keys: chainControlKeys }, control, ctx);
    problems.push(...checked.problems);
    const plugin = configurePlugin(registry, type, `${aliasPrefix}type`, className, own, ctx, problems);
    if (plugin !== undefined)
      out.push({
        ...plugin,
        alias,
        negate: checked.values.negate,
        ...(predicate === undefined ? {} : { predicate }),
      });
  }
  return out;
}

/** Every `predicate=` reference names a listed predicate alias. */
export function checkPredicateRefs(
  transforms: readonly TransformConfig[],
  predicateAliases: readonly string[],
  file: string,
  problems: ConfigProblem[],
): void {
  for (const t of transforms) {
    if (t.predicate === undefined || predicateAliases.includes(t.predicate)) continue;
    const suggestion = closest(t.predicate, predicateAliases);
    problems.push({
      file,
      key: `transforms.${t.alias}.predicate`,
      expected: `a predicate alias listed in predicates (${predicateAliases.join(', ') || 'empty'})`,
      got: t.predicate,
      ...(suggestion === undefined ? {} : { suggestion }),
    });
  }
}
