/**
 * A test clock for the hard deadline: time moves only when the test says so.
 */
import type { Clock } from '../../src/runtime/ports.ts';

/** A clock whose sleeps end only when the test says so; it keeps what each sleep was given. */
export class ManualClock implements Clock {
  now = 1_000;
  readonly sleeps: { ms: number; signal: AbortSignal | undefined; wake: () => void }[] = [];
  nowMs(): number {
    return this.now;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      this.sleeps.push({ ms, signal, wake: resolve });
    });
  }
}
