import { describe, expect, it } from 'vitest';
import { releaseWithinDeadline } from '../../../src/app/function-common.ts';
import type { Clock } from '../../../src/runtime/ports.ts';

/** A clock whose sleeps end only when the test says so. */
function manualClock(nowMs: number) {
  const sleeps: { ms: number; wake: () => void }[] = [];
  const clock: Clock = {
    nowMs: () => nowMs,
    sleep: (ms) => new Promise((resolve) => sleeps.push({ ms, wake: resolve })),
  };
  return { clock, sleeps };
}

const limits = { maxRecords: 10, maxBytes: 1_000, deadlineMs: 5_000, hardDeadlineMs: 7_000 };

describe("closing an invocation's clients", () => {
  it('abandons a close still hanging at the hard deadline (a disconnect from a broker that is gone)', async () => {
    const { clock, sleeps } = manualClock(6_000);
    let settled = false;
    const released = releaseWithinDeadline(() => new Promise<void>(() => {}), limits, clock).then(() => {
      settled = true;
    });
    expect(sleeps.map((s) => s.ms)).toEqual([1_000]);
    await Promise.resolve();
    expect(settled).toBe(false);
    sleeps[0]!.wake();
    await released;
    expect(settled).toBe(true);
  });

  it('waits for a close that finishes in time, and never throws', async () => {
    const { clock } = manualClock(6_000);
    let closed = false;
    await releaseWithinDeadline(
      async () => {
        closed = true;
      },
      limits,
      clock,
    );
    expect(closed).toBe(true);
    await expect(
      releaseWithinDeadline(() => Promise.reject(new Error('socket closed')), limits, clock),
    ).resolves.toBeUndefined();
  });
});
