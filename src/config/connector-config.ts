/**
 * Validates one connector file against the shared connector keys, its class's own keys, its converters
 * and its transformation chain, producing the typed, frozen {@link ConnectorConfig} the runtime uses.
 * @module
 */
import type { ConfigProblem } from '../errors.ts';
import type { ConfigFile } from './config-file.ts';
import { checkConnector, connectorKeys, connectorSchema } from './connector-schema.ts';
import type { ConfigValues, KeyTable } from './keys.ts';
import {
  CONVERTER_ROLES,
  type ConverterRole,
  checkPredicateRefs,
  configureChain,
  configurePlugin,
  type PluginConfig,
  type TransformConfig,
} from './plugin-config.ts';
import type { ConnectorKind, Registry } from './registry.ts';
import { subKeys, type ValidationContext, validateKeys } from './validate-keys.ts';
import type { WorkerConfig } from './worker-config.ts';

/** A validated connector: shared keys, its class's keys, and its plugins. */
export interface ConnectorConfig {
  readonly name: string;
  /** The file it came from, relative to the bundle. */
  readonly file: string;
  /** `connector.class` as written (may be a Kafka Connect class name). */
  readonly className: string;
  /** The registry's short name for the class. */
  readonly plugin: string;
  readonly kind: ConnectorKind;
  readonly common: ConfigValues<typeof connectorKeys>;
  /** The connector class's own keys, typed by its schema. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly converters: Readonly<Record<ConverterRole, PluginConfig>>;
  readonly transforms: readonly TransformConfig[];
  readonly predicates: readonly TransformConfig[];
  /** `producer.override.*`, `consumer.override.*`, `admin.override.*` with the prefix removed. */
  readonly overrides: Readonly<Record<'producer' | 'consumer' | 'admin', Readonly<Record<string, string>>>>;
}

interface Outcome {
  readonly connector?: ConnectorConfig;
  readonly problems: ConfigProblem[];
  readonly warnings: ConfigProblem[];
}

/**
 * The connector's converter for `role`: its own (`<role>.converter` and its sub-keys) or, as in Connect,
 * the worker's — then the connector's own sub-keys are ignored, with a warning. Undefined when invalid.
 */
function converterFor(
  role: ConverterRole,
  raw: Readonly<Record<string, string>>,
  ctx: ValidationContext & { readonly registry: Registry; readonly worker: WorkerConfig },
  problems: ConfigProblem[],
  warnings: ConfigProblem[],
): PluginConfig | undefined {
  const classKey = `${role}.converter`;
  const prefix = `${classKey}.`;
  const own = Object.hasOwn(raw, classKey) ? raw[classKey] : undefined;
  if (own !== undefined) {
    return configurePlugin(
      ctx.registry,
      'converter',
      classKey,
      own,
      subKeys(raw, prefix),
      { ...ctx, keyPrefix: prefix },
      problems,
    );
  }
  for (const key of Object.keys(subKeys(raw, prefix))) {
    warnings.push({
      file: ctx.file,
      key: `${prefix}${key}`,
      expected: `ignored: the connector does not set ${classKey}, so the worker's converter and its settings apply (as in Connect)`,
    });
  }
  return ctx.worker.converters[role];
}

/**
 * Without a known class, its own keys look unknown too: report the class instead of each of its keys, but
 * keep likely typos of shared keys (`task.max`) unless some connector class defines the key.
 */
function withoutClassKeys(problems: readonly ConfigProblem[], registry: Registry): ConfigProblem[] {
  const classKeys = new Set(registry.definitions('connector').flatMap((d) => Object.keys(d.schema.keys)));
  return problems.filter(
    (p) => p.expected !== 'unknown key' || (p.suggestion !== undefined && !classKeys.has(p.key)),
  );
}

/** Keys of a log4j 1 or log4j2 properties file (`connect-log4j.properties`). */
const LOG4J_KEY = /^(log4j2?\.|appenders?\.|loggers?\.|rootLogger|rootCategory)/;

/**
 * The one problem of a file in connectors/ that is clearly no connector: no `connector.class`, and no
 * `name` or keys of a logging configuration. Said once for the file, instead of one "unknown key" (and a
 * far-fetched suggestion) per line.
 */
function notAConnector(source: ConfigFile): ConfigProblem | undefined {
  const { file, values } = source;
  if (Object.hasOwn(values, 'connector.class')) return undefined;
  const log4j = Object.keys(values).some((key) => LOG4J_KEY.test(key));
  if (Object.hasOwn(values, 'name') && !log4j) return undefined;
  const what = log4j ? ' and its keys are a log4j configuration' : '';
  return {
    file,
    key: '(file)',
    expected: `a connector configuration, which this is not: it has no connector.class${what}; move it out of connectors/, where every file is read as a connector`,
  };
}

/** Validates `source` as a connector; values reach problems only through `ctx.show` (redacted). */
export function validateConnector(
  source: ConfigFile,
  registry: Registry,
  worker: WorkerConfig,
  base: Omit<ValidationContext, 'file'>,
): Outcome {
  const notConnector = notAConnector(source);
  if (notConnector !== undefined) return { problems: [notConnector], warnings: [] };
  const { file, values: raw } = source;
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const ctx: ValidationContext = { ...base, file };
  const className = Object.hasOwn(raw, 'connector.class') ? raw['connector.class'] : undefined;
  const def = className === undefined ? undefined : registry.find('connector', className);

  const ownKeys: KeyTable = def?.schema.keys ?? {};
  const schema = {
    keys: { ...connectorKeys, ...ownKeys },
    prefixes: [...(connectorSchema.prefixes ?? []), ...(def?.schema.prefixes ?? [])],
    ignored: { ...connectorSchema.ignored, ...def?.schema.ignored },
  };
  const result = validateKeys(schema, raw, ctx);
  problems.push(...(def === undefined ? withoutClassKeys(result.problems, registry) : result.problems));
  warnings.push(...result.warnings);
  if (className !== undefined && def === undefined) {
    configurePlugin(registry, 'connector', 'connector.class', className, {}, ctx, problems);
  }
  const values = result.values as Record<string, unknown>;
  const report = (p: Omit<ConfigProblem, 'file'>) => problems.push({ file, ...p });
  if (def !== undefined) {
    checkConnector(def.kind, values, report, ctx.show);
    def.check?.(values, report, ctx.show);
  }

  const converters: Partial<Record<ConverterRole, PluginConfig>> = {};
  for (const role of CONVERTER_ROLES) {
    const plugin = converterFor(role, raw, { ...ctx, registry, worker }, problems, warnings);
    if (plugin !== undefined) converters[role] = plugin;
  }
  const transformAliases = (values.transforms as string[] | undefined) ?? [];
  const predicateAliases = (values.predicates as string[] | undefined) ?? [];
  const transforms = configureChain(registry, 'transforms', transformAliases, raw, ctx, problems);
  const predicates = configureChain(registry, 'predicates', predicateAliases, raw, ctx, problems);
  checkPredicateRefs(transforms, predicateAliases, file, problems);

  if (def === undefined || problems.length > 0) return { problems, warnings };
  const own: Record<string, unknown> = {};
  for (const key of Object.keys(def.schema.keys)) own[key] = values[key];
  const connector: ConnectorConfig = {
    name: String(values.name),
    file,
    className: String(className),
    plugin: def.name,
    kind: def.kind,
    common: values as ConfigValues<typeof connectorKeys>,
    config: own,
    converters: converters as Record<ConverterRole, PluginConfig>,
    transforms,
    predicates,
    overrides: {
      producer: subKeys(raw, 'producer.override.'),
      consumer: subKeys(raw, 'consumer.override.'),
      admin: subKeys(raw, 'admin.override.'),
    },
  };
  return { connector, problems, warnings };
}
