/**
 * Retry with jittered exponential backoff, bounded by Connect's `errors.retry.timeout` and by the
 * invocation deadline. Only errors marked `retriable` are retried; programmer errors never are.
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isRetriable } from '../errors.ts';
import type { Clock } from './ports.ts';

export interface RetryPolicy {
  /** Connect's `errors.retry.timeout`: 0 = no retries, -1 = until the deadline. */
  readonly retryTimeoutMs: number;
  /** Connect's `errors.retry.delay.max.ms`. */
  readonly maxDelayMs: number;
  readonly deadlineMs: number;
  readonly clock: Clock;
  /** In [0, 1); injected so tests are deterministic. */
  readonly random?: () => number;
}

const FIRST_DELAY_MS = 100;

/** Runs `attempt` until it succeeds, a non-retriable error, or the policy's time runs out. */
export async function withRetry<T>(attempt: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  const startMs = policy.clock.nowMs();
  const untilMs =
    policy.retryTimeoutMs < 0
      ? policy.deadlineMs
      : Math.min(policy.deadlineMs, startMs + policy.retryTimeoutMs);
  const random = policy.random ?? Math.random;
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      const ceilingMs = Math.min(policy.maxDelayMs, FIRST_DELAY_MS * 2 ** n);
      const delayMs = Math.round(ceilingMs / 2 + (random() * ceilingMs) / 2);
      if (!isRetriable(err) || policy.clock.nowMs() + delayMs >= untilMs) throw err;
      await policy.clock.sleep(delayMs);
    }
  }
}

/** The real clock: `Date.now()` and a timer, cancelled (with an AbortError) when `signal` aborts. */
export const systemClock: Clock = Object.freeze({
  nowMs: () => Date.now(),
  sleep: async (ms: number, signal?: AbortSignal) => {
    await sleep(ms, undefined, signal === undefined ? undefined : { signal });
  },
});
