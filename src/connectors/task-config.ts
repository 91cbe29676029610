/**
 * Reads a task's typed settings back out of its `TaskConfig` (the connector's validated keys plus what
 * `taskConfigs` added). The values were typed by the connector's schema, so a mismatch here is a bug in
 * the caller, reported as a `TypeError` that names the key.
 *
 * @example
 * ```ts
 * const topic = readString(config, 'topic');
 * const batchSize = readInteger(config, 'batch.size');
 * ```
 * @module
 */
import type { TaskConfig } from '../spi/source.ts';

function mismatch(key: string, expected: string, value: unknown): TypeError {
  return new TypeError(`task config key ${key}: expected ${expected}, got ${typeof value}`);
}

/** The string at `key`; throws a `TypeError` when it is not one. */
export function readString(config: TaskConfig, key: string): string {
  const value = config[key];
  if (typeof value !== 'string') throw mismatch(key, 'a string', value);
  return value;
}

/** The safe integer at `key`; throws a `TypeError` when it is not one. */
export function readInteger(config: TaskConfig, key: string): number {
  const value = config[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw mismatch(key, 'an integer', value);
  return value;
}

/** The safe integer at `key`, or `undefined` when the key is unset. */
export function readOptionalInteger(config: TaskConfig, key: string): number | undefined {
  return config[key] === undefined ? undefined : readInteger(config, key);
}
