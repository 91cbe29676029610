/**
 * The `file` sink connector class, as Connect's FileStreamSinkConnector: `tasks.max` copies of the config,
 * so every task appends to the same `file`. Each put is one O_APPEND write of whole lines, so the tasks'
 * lines interleave but never tear (on a local file system; NFS, and so EFS, does not make appends from
 * different clients atomic).
 *
 * @example
 * ```ts
 * const connector = fileSinkConnector(bundleDir);
 * const configs = connector.taskConfigs(config, 2); // two copies of config
 * const task = connector.createTask(configs[0]);
 * ```
 * @module
 */
import { isAbsolute, resolve } from 'node:path';
import type { SinkConnector } from '../../spi/sink.ts';
import type { TaskConfig } from '../../spi/source.ts';
import { readString } from '../task-config.ts';
import { type FileSinkSettings, FileSinkTask } from './sink-task.ts';

/** The typed settings of the task, from its config; a relative `file` is written below `baseDir`. */
export function fileSinkSettings(config: TaskConfig, baseDir?: string): FileSinkSettings {
  const file = readString(config, 'file');
  return {
    file,
    ...(baseDir === undefined || isAbsolute(file) ? {} : { path: resolve(baseDir, file) }),
  };
}

/** The connector; a relative `file` is relative to `baseDir` (the bundle directory), like every bundle path. */
export function fileSinkConnector(baseDir?: string): SinkConnector {
  return {
    taskConfigs: (config: TaskConfig, maxTasks: number): readonly TaskConfig[] =>
      Array.from({ length: maxTasks }, () => config),
    createTask: (config: TaskConfig) => new FileSinkTask(fileSinkSettings(config, baseDir)),
  };
}
