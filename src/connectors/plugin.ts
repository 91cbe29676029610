/**
 * A connector plugin: one connector class's definition (its keys, for the registry) and the factory of
 * its implementation, reached through one import. A composition root takes the plugins it runs: the
 * `connect-fn` command and `connect-fn run` all of them (./builtins.ts), a packaged function only its
 * connector's, so the package holds no other connector's code or clients.
 *
 * @example
 * ```ts
 * const registry = registryOf([datagenPlugin]);
 * const connector = datagenPlugin.create({ log });
 * ```
 * @module
 */
import { type ConnectorDef, Registry } from '../config/registry.ts';
import { converterDefs } from '../data/converter-configs.ts';
import type { SinkConnector } from '../spi/sink.ts';
import type { SourceConnector } from '../spi/source.ts';
import type { TaskLog } from './task-log.ts';

/** What a connector implementation is built with. */
export interface PluginOptions {
  /** Where tasks report warnings (a missing input file, ...). */
  readonly log: TaskLog;
  /** The bundle directory: relative paths in connector configs (the file connectors' `file`) are below it. */
  readonly baseDir?: string;
}

export interface SourcePlugin {
  readonly kind: 'source';
  readonly def: ConnectorDef;
  create(options: PluginOptions): SourceConnector;
}

export interface SinkPlugin {
  readonly kind: 'sink';
  readonly def: ConnectorDef;
  create(options: PluginOptions): SinkConnector;
}

export type ConnectorPlugin = SourcePlugin | SinkPlugin;

/** A frozen registry of `plugins`' definitions and the built-in converters. */
export function registryOf(plugins: readonly ConnectorPlugin[]): Registry {
  const registry = new Registry();
  for (const plugin of plugins) registry.connector(plugin.def);
  for (const def of converterDefs) registry.converter(def);
  return registry.freeze();
}
