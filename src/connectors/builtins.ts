/**
 * Everything built in: the registry of definitions (connectors and converters; transformations and
 * predicates arrive with the data plane) and the source and sink connector implementations, keyed by the
 * registry's canonical names. Composition roots (`handlers/`, `cli/`) call these; nothing below them does.
 *
 * @example
 * ```ts
 * const registry = builtinRegistry();
 * const bundle = await loadBundle(dir, registry);
 * const connector = sourceConnectors({ log: logger }).get(bundle.connectors[0].plugin); // e.g. 'datagen'
 * const sink = sinkConnectors({ baseDir: dir }).get('file-sink');
 * ```
 * @module
 */
import { Registry } from '../config/registry.ts';
import { converterDefs } from '../data/converter-configs.ts';
import type { SinkConnector } from '../spi/sink.ts';
import type { SourceConnector } from '../spi/source.ts';
import { datagenDef } from './datagen/config.ts';
import { datagenConnector } from './datagen/connector.ts';
import { dynamodbSinkConnector, dynamodbSinkDef } from './dynamodb/index.ts';
import { dynamoDbStreamsDef } from './dynamodb-streams/config.ts';
import { dynamoDbStreamsConnector } from './dynamodb-streams/source-connector.ts';
import { fileSinkDef, fileSourceDef } from './file/config.ts';
import { fileSinkConnector } from './file/sink-connector.ts';
import { fileSourceConnector } from './file/source-connector.ts';
import { processWarningLog, type TaskLog } from './task-log.ts';

/** A frozen registry of the built-in plugins. */
export function builtinRegistry(): Registry {
  const registry = new Registry()
    .connector(fileSourceDef)
    .connector(fileSinkDef)
    .connector(datagenDef)
    .connector(dynamodbSinkDef)
    .connector(dynamoDbStreamsDef);
  for (const def of converterDefs) registry.converter(def);
  return registry.freeze();
}

export interface SourceConnectorOptions {
  /** Where tasks report warnings (a missing input file, ...); default: `process.emitWarning`. */
  readonly log?: TaskLog;
  /** The bundle directory: relative paths in connector configs (the file connectors' `file`) are below it. */
  readonly baseDir?: string;
}

/** The built-in source connectors by canonical name (`datagen`, `file-source`). */
export function sourceConnectors(options: SourceConnectorOptions = {}): ReadonlyMap<string, SourceConnector> {
  const log = options.log ?? processWarningLog;
  return new Map<string, SourceConnector>([
    [datagenDef.name, datagenConnector],
    [fileSourceDef.name, fileSourceConnector(log, options.baseDir)],
    [dynamoDbStreamsDef.name, dynamoDbStreamsConnector({ log })],
  ]);
}

/** What sink connectors are built with: the same as for sources (the file sink has no warnings to log). */
export type SinkConnectorOptions = SourceConnectorOptions;

/** The built-in sink connectors by canonical name (`file-sink`, `dynamodb-sink`). */
export function sinkConnectors(options: SinkConnectorOptions = {}): ReadonlyMap<string, SinkConnector> {
  return new Map<string, SinkConnector>([
    [fileSinkDef.name, fileSinkConnector(options.baseDir)],
    [dynamodbSinkDef.name, dynamodbSinkConnector({ log: options.log ?? processWarningLog })],
  ]);
}
