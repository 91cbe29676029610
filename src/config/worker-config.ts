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

/**
 * A Kafka Connect standalone worker file names its offsets file (`offset.storage.file.filename`) and has
 * no `offset.storage`: read as connect-standalone would, its offsets go to that file (`offset.storage=file`)
 * rather than to the default Kafka topic, which it never meant (and whose replication factor 3 a one-broker
 * cluster cannot give). Said in a warning, with the format caveat: connect-fn's file is JSON, and Connect's
 * own standalone file (Java-serialised) cannot be read, so the store refuses one rather than overwrite it.
 */
function standaloneDefaults(
  raw: Readonly<Record<string, string>>,
  values: ConfigValues<typeof workerKeys>,
  ctx: ValidationContext,
  warnings: ConfigProblem[],
): ConfigValues<typeof workerKeys> {
  if (!Object.hasOwn(raw, 'offset.storage.file.filename') || Object.hasOwn(raw, 'offset.storage'))
    return values;
  warnings.push({
    file: ctx.file,
    key: 'offset.storage.file.filename',
    expected:
      'read as a Connect standalone worker file: without offset.storage, offsets go to this file (offset.storage=file). ' +
      "connect-fn writes it as JSON and cannot read Connect's own standalone offsets file (Java-serialised): " +
      'name a new file, and set offset.storage to choose where offsets go',
  });
  return { ...values, 'offset.storage': 'file' };
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
  const values = standaloneDefaults(raw, result.values, ctx, warnings);
  checkWorker(values, (p) => problems.push({ file: ctx.file, ...p }), ctx.show);
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
    values,
    clients: {
      producer: subKeys(result.delegated, 'producer.'),
      consumer: subKeys(result.delegated, 'consumer.'),
      admin: subKeys(result.delegated, 'admin.'),
    },
    converters,
  };
}
