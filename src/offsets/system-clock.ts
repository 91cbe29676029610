/**
 * The real clock, the stores' default when the composition root injects none.
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../runtime/ports.ts';

/**
 * `Date.now()` and a timer.
 *
 * @example
 * ```ts
 * new DynamoDbOffsetStore({ client, table, clock: systemClock });
 * ```
 */
export const systemClock: Clock = Object.freeze({
  nowMs: () => Date.now(),
  sleep: async (ms: number) => {
    await sleep(ms);
  },
});
