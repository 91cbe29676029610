/**
 * The real clock, the stores' default when the composition root injects none: the runtime's one clock.
 *
 * @example
 * ```ts
 * new DynamoDbOffsetStore({ client, table, clock: systemClock });
 * ```
 * @module
 */
export { systemClock } from '../runtime/retry.ts';
