/**
 * The `datagen` connector class: `tasks.max` tasks, task `i` owning source partition `{"task": i}` and
 * an even share of `iterations` (the first `iterations % tasks.max` tasks generate one more).
 *
 * @example
 * ```ts
 * datagenConnector.taskConfigs({ ...config, iterations: 10 }, 3).map((c) => c['task.iterations']); // [4, 3, 3]
 * ```
 * @module
 */
import type { SourceConnector, TaskConfig } from '../../spi/source.ts';
import { readInteger, readOptionalInteger, readString } from '../task-config.ts';
import { QUICKSTARTS, type Quickstart } from './config.ts';
import { DatagenTask, type DatagenTaskSettings } from './task.ts';

/** Keys `taskConfigs` adds to the connector's own. */
export const TASK_ID = 'task.id';
export const TASK_COUNT = 'task.count';
export const TASK_ITERATIONS = 'task.iterations';

/** Task `task`'s share of `iterations` records over `taskCount` tasks; -1 (unlimited) stays -1. */
export function iterationShare(iterations: number, task: number, taskCount: number): number {
  if (iterations < 1) return -1;
  return Math.floor(iterations / taskCount) + (task < iterations % taskCount ? 1 : 0);
}

function readQuickstart(config: TaskConfig): Quickstart {
  const name = readString(config, 'quickstart');
  const quickstart = QUICKSTARTS.find((q) => q === name);
  if (quickstart === undefined) throw new TypeError(`task config key quickstart: unknown quickstart ${name}`);
  return quickstart;
}

/** The typed settings of one task, from a config `taskConfigs` returned. */
export function datagenTaskSettings(config: TaskConfig): DatagenTaskSettings {
  return {
    topic: readString(config, 'kafka.topic'),
    quickstart: readQuickstart(config),
    seed: readOptionalInteger(config, 'seed') ?? readOptionalInteger(config, 'random.seed') ?? 0,
    task: readInteger(config, TASK_ID),
    taskCount: readInteger(config, TASK_COUNT),
    maxIntervalMs: readInteger(config, 'max.interval'),
    recordBytes: readInteger(config, 'record.bytes'),
    iterations: readInteger(config, TASK_ITERATIONS),
    batchSize: readInteger(config, 'batch.size'),
  };
}

export const datagenConnector: SourceConnector = {
  taskConfigs(config: TaskConfig, maxTasks: number): readonly TaskConfig[] {
    const iterations = readInteger(config, 'iterations');
    return Array.from({ length: maxTasks }, (_, task) => ({
      ...config,
      [TASK_ID]: task,
      [TASK_COUNT]: maxTasks,
      [TASK_ITERATIONS]: iterationShare(iterations, task, maxTasks),
    }));
  },
  createTask(config: TaskConfig): DatagenTask {
    return new DatagenTask(datagenTaskSettings(config));
  },
};
