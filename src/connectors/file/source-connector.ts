/**
 * The `file` source connector class: one task, as Connect's FileStreamSourceConnector (a file has one
 * reader), whatever `tasks.max` says.
 *
 * @example
 * ```ts
 * const connector = fileSourceConnector(logger);
 * const [taskConfig] = connector.taskConfigs(config, 4); // one config
 * const task = connector.createTask(taskConfig);
 * ```
 * @module
 */
import { isAbsolute, resolve } from 'node:path';
import type { SourceConnector, TaskConfig } from '../../spi/source.ts';
import { readInteger, readOptionalInteger, readString } from '../task-config.ts';
import { processWarningLog, type TaskLog } from '../task-log.ts';
import { DEFAULT_LINE_MAX_BYTES } from './config.ts';
import { type FileSourceSettings, FileSourceTask } from './source-task.ts';

/** The typed settings of the task, from its config; a relative `file` is read below `baseDir`. */
export function fileSourceSettings(config: TaskConfig, baseDir?: string): FileSourceSettings {
  const file = readString(config, 'file');
  return {
    file,
    ...(baseDir === undefined || isAbsolute(file) ? {} : { path: resolve(baseDir, file) }),
    topic: readString(config, 'topic'),
    batchSize: readInteger(config, 'batch.size'),
    maxLineBytes: readOptionalInteger(config, 'line.max.bytes') ?? DEFAULT_LINE_MAX_BYTES,
  };
}

/**
 * The connector; its tasks report warnings (missing or truncated file) to `log`. A relative `file` is
 * relative to `baseDir` (the bundle directory), like every other path in a bundle.
 */
export function fileSourceConnector(log: TaskLog = processWarningLog, baseDir?: string): SourceConnector {
  return {
    taskConfigs: (config: TaskConfig, _maxTasks: number): readonly TaskConfig[] => [config],
    createTask: (config: TaskConfig) => new FileSourceTask(fileSourceSettings(config, baseDir), log),
  };
}
