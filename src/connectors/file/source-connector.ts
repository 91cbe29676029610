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
import type { SourceConnector, TaskConfig } from '../../spi/source.ts';
import { readInteger, readString } from '../task-config.ts';
import { processWarningLog, type TaskLog } from '../task-log.ts';
import { type FileSourceSettings, FileSourceTask } from './source-task.ts';

/** The typed settings of the task, from its config. */
export function fileSourceSettings(config: TaskConfig): FileSourceSettings {
  return {
    file: readString(config, 'file'),
    topic: readString(config, 'topic'),
    batchSize: readInteger(config, 'batch.size'),
  };
}

/** The connector; its tasks report warnings (missing or truncated file) to `log`. */
export function fileSourceConnector(log: TaskLog = processWarningLog): SourceConnector {
  return {
    taskConfigs: (config: TaskConfig, _maxTasks: number): readonly TaskConfig[] => [config],
    createTask: (config: TaskConfig) => new FileSourceTask(fileSourceSettings(config), log),
  };
}
