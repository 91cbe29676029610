/**
 * Every built-in connector plugin (./plugin.ts), for the composition roots that run any connector of a
 * bundle: the `connect-fn` command (`validate`, `run`, `docs`, `package`) and the benchmarks. A packaged
 * function imports only its connector's plugin instead (src/deploy/entry.ts).
 *
 * @example
 * ```ts
 * const registry = builtinRegistry();
 * const bundle = loadBundle(dir, { registry });
 * const connector = sourceConnectors({ log: logger }).get(bundle.connectors[0].plugin); // e.g. 'datagen'
 * ```
 * @module
 */
import type { Registry } from '../config/registry.ts';
import type { SinkConnector } from '../spi/sink.ts';
import type { SourceConnector } from '../spi/source.ts';
import { datagenPlugin } from './datagen/plugin.ts';
import { dynamodbSinkPlugin } from './dynamodb/plugin.ts';
import { dynamoDbStreamsPlugin } from './dynamodb-streams/plugin.ts';
import { fileSinkPlugin } from './file/sink-plugin.ts';
import { fileSourcePlugin } from './file/source-plugin.ts';
import { type ConnectorPlugin, registryOf } from './plugin.ts';
import { processWarningLog, type TaskLog } from './task-log.ts';

/** The built-in plugins, in the order the configuration reference lists them. */
export const builtinPlugins: readonly ConnectorPlugin[] = [
  fileSourcePlugin,
  fileSinkPlugin,
  datagenPlugin,
  dynamodbSinkPlugin,
  dynamoDbStreamsPlugin,
];

/** A frozen registry of the built-in plugins. */
export function builtinRegistry(): Registry {
  return registryOf(builtinPlugins);
}

export interface SourceConnectorOptions {
  /** Where tasks report warnings (a missing input file, ...); default: `process.emitWarning`. */
  readonly log?: TaskLog;
  /** The bundle directory: relative paths in connector configs (the file connectors' `file`) are below it. */
  readonly baseDir?: string;
}

function pluginOptions(options: SourceConnectorOptions) {
  return {
    log: options.log ?? processWarningLog,
    ...(options.baseDir === undefined ? {} : { baseDir: options.baseDir }),
  };
}

/** The built-in source connectors by canonical name (`datagen`, `file-source`, `dynamodb-streams`). */
export function sourceConnectors(options: SourceConnectorOptions = {}): ReadonlyMap<string, SourceConnector> {
  const built = new Map<string, SourceConnector>();
  for (const p of builtinPlugins)
    if (p.kind === 'source') built.set(p.def.name, p.create(pluginOptions(options)));
  return built;
}

/** What sink connectors are built with: the same as for sources. */
export type SinkConnectorOptions = SourceConnectorOptions;

/** The built-in sink connectors by canonical name (`file-sink`, `dynamodb-sink`). */
export function sinkConnectors(options: SinkConnectorOptions = {}): ReadonlyMap<string, SinkConnector> {
  const built = new Map<string, SinkConnector>();
  for (const p of builtinPlugins)
    if (p.kind === 'sink') built.set(p.def.name, p.create(pluginOptions(options)));
  return built;
}
