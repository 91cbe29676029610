import { describe, expect, it } from 'vitest';
import {
  beforeHardDeadline,
  budgetLimits,
  cleanupUntil,
  DeadlineExceededError,
} from '../../../src/runtime/budget.ts';
import { ManualClock } from '../../support/manual-clock.ts';

const never = () => new Promise<never>(() => {});

describe('the hard deadline', () => {
  it('runs on the injected clock: work that ignores it is abandoned when that clock says the time is up', async () => {
    // Prepare
    const clock = new ManualClock();
    const guarded = beforeHardDeadline(never(), 1_500, () => 'opening the offsets store', clock);
    // Act
    expect(clock.sleeps.map((s) => s.ms)).toEqual([500]);
    clock.sleeps[0]!.wake();
    // Assess
    const err = await guarded.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlineExceededError);
    expect(err).toMatchObject({
      code: 'CONNECT_FN_DEADLINE_EXCEEDED',
      retriable: true,
      message: "opening the offsets store did not finish before the invocation's deadline",
    });
  });

  it('cancels its sleep once the work settles, so no timer is left behind', async () => {
    const clock = new ManualClock();
    await expect(beforeHardDeadline(Promise.resolve(7), 2_000, () => 'x', clock)).resolves.toBe(7);
    await expect(
      beforeHardDeadline(Promise.reject(new Error('refused')), 2_000, () => 'x', clock),
    ).rejects.toThrow('refused');
    expect(clock.sleeps.map((s) => s.signal?.aborted)).toEqual([true, true]);
  });

  it('has passed already: the deadline wins at once over work still pending', async () => {
    const clock = new ManualClock();
    const guarded = beforeHardDeadline(never(), 900, () => 'closing a client', clock);
    expect(clock.sleeps.map((s) => s.ms)).toEqual([0]);
    clock.sleeps[0]!.wake();
    await expect(guarded).rejects.toBeInstanceOf(DeadlineExceededError);
  });
});

describe("a cycle's cleanup after the hard deadline", () => {
  const limitsOf = (marginMs: number) => budgetLimits(config(marginMs), 60_000, 0);
  const config = (marginMs: number) => ({
    'invocation.max.records': 10,
    'invocation.max.bytes': 1_000,
    'invocation.safety.margin.ms': marginMs,
  });

  it('gets until the hard deadline, or 500 ms more when that has passed', () => {
    const limits = limitsOf(5_000);
    expect(limits.hardDeadlineMs).toBe(57_500);
    expect(cleanupUntil(limits, 10_000)).toBe(57_500);
    expect(cleanupUntil(limits, 57_500)).toBe(58_000);
  });

  it('never runs into the last half of what is left before the Lambda deadline (a small margin)', () => {
    const limits = limitsOf(400);
    expect(limits.hardDeadlineMs).toBe(59_800);
    expect(cleanupUntil(limits, 59_800)).toBe(59_900);
    expect(cleanupUntil(limits, 59_950)).toBe(59_900); // past it already: abandoned at once
  });
});
