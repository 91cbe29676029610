/**
 * Validates the worker file: its keys, its cross-key rules, and its three converters — once, however
 * many connectors use them (a connector that sets its own converter does not use the worker's).
 * @module
 */
import type { ConfigProblem } from '../errors.ts';
import type { ConfigValues } from './keys.ts';
import { CONVERTER_ROLES, type ConverterRole, configurePlugin, type PluginConfig } from './plugin-config.ts';
import type { Registry } from './registry.ts';
import { subKeys, type ValidationContext, validateKeys } from './validate-keys.ts';
import { checkWorker, type workerKeys, workerSchema } from './worker-schema.ts';

export interface WorkerConfig {
  /** The worker file relative to the bundle, or `(defaults)` when the bundle has none. */
  readonly file: string;
  readonly values: ConfigValues<typeof workerKeys>;
  /** `producer.*`, `consumer.*`, `admin.*` with the prefix removed. */
  readonly clients: Readonly<Record<'producer' | 'consumer' | 'admin', Readonly<Record<string, string>>>>;
  /** The worker's converters; absent where the worker's converter setting is invalid (reported once). */
  readonly converters: Readonly<Partial<Record<ConverterRole, PluginConfig>>>;
}

/** Validates the worker's raw keys (already provider-resolved); pushes problems and warnings. */
export function validateWorker(
  raw: Readonly<Record<string, string>>,
  registry: Registry,
  ctx: ValidationContext,
  problems: ConfigProblem[],
  warnings: ConfigProblem[],
): WorkerConfig {
  const result = validateKeys(workerSchema, raw, ctx);
  problems.push(...result.problems);
  warnings.push(...result.warnings);
  checkWorker(result.values, (p) => problems.push({ file: ctx.file, ...p }), ctx.show);
  const converters: Partial<Record<ConverterRole, PluginConfig>> = {};
  for (const role of CONVERTER_ROLES) {
    const classKey = `${role}.converter` as const;
    const sub = subKeys(raw, `${classKey}.`);
    const roleCtx = { ...ctx, keyPrefix: `${classKey}.` };
    const plugin = configurePlugin(
      registry,
      'converter',
      classKey,
      result.values[classKey],
      sub,
      roleCtx,
      problems,
    );
    if (plugin !== undefined) converters[role] = plugin;
  }
  return {
    file: ctx.file,
    values: result.values,
    clients: {
      producer: subKeys(result.delegated, 'producer.'),
      consumer: subKeys(result.delegated, 'consumer.'),
      admin: subKeys(result.delegated, 'admin.'),
    },
    converters,
  };
}
