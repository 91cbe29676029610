import { describe, expect, it } from 'vitest';
import {
  InvocationTimedOutError,
  lambdaTimeout,
  withinLambdaTimeout,
} from '../../../src/lambda/invocation-timeout.ts';
import type { Clock } from '../../../src/runtime/ports.ts';

/** A clock whose sleeps end only when the test says so. */
function manualClock() {
  const sleeps: { ms: number; signal: AbortSignal | undefined; wake: () => void }[] = [];
  const clock: Clock = {
    nowMs: () => 0,
    sleep: (ms, signal) => new Promise((resolve) => sleeps.push({ ms, signal, wake: resolve })),
  };
  return { clock, sleeps };
}

describe('a local run ends an invocation at its timeout, as Lambda does', () => {
  it('fails with CONNECT_FN_INVOCATION_TIMED_OUT when the handler has not returned by then', async () => {
    const { clock, sleeps } = manualClock();
    const run = withinLambdaTimeout(new Promise(() => {}), 8_000, clock, 'orders/0');
    expect(sleeps.map((s) => s.ms)).toEqual([8_000]);
    sleeps[0]!.wake();
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvocationTimedOutError);
    expect(err).toMatchObject({ code: 'CONNECT_FN_INVOCATION_TIMED_OUT' });
    expect((err as Error).message).toMatch(
      /^orders\/0: after 8000 ms the invocation timed out before the handler returned/,
    );
  });

  it("returns the handler's result, and cancels the timer, when the handler returns in time", async () => {
    const { clock, sleeps } = manualClock();
    await expect(withinLambdaTimeout(Promise.resolve('summary'), 8_000, clock, 'orders/0')).resolves.toBe(
      'summary',
    );
    expect(sleeps[0]?.signal?.aborted).toBe(true);
  });
});

describe("the handlers' middy timeout", () => {
  it("fails the invocation with the coded error, not middy's uncoded TimeoutError", () => {
    expect(() => lambdaTimeout.timeoutEarlyResponse()).toThrow(InvocationTimedOutError);
  });
});
