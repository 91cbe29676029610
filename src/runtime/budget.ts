/**
 * The invocation budget (DESIGN.md §3): an invocation stops reading at the first of `maxRecords`,
 * `maxBytes`, or its deadline — `now + remaining Lambda time - invocation.safety.margin.ms` — and then
 * flushes and commits within the margin.
 * @module
 */
import { ConnectFnError, FencedError } from '../errors.ts';
import type { Clock } from './ports.ts';

export const StopReason = {
  maxRecords: 'max-records',
  maxBytes: 'max-bytes',
  deadline: 'deadline',
  idle: 'idle',
  fenced: 'fenced',
  error: 'error',
} as const;
export type StopReason = (typeof StopReason)[keyof typeof StopReason];

export interface BudgetLimits {
  readonly maxRecords: number;
  readonly maxBytes: number;
  /** Epoch ms by which reading must stop. */
  readonly deadlineMs: number;
  /**
   * Epoch ms by which the invocation must have returned, whatever a client library is still retrying:
   * halfway through the safety margin, leaving the other half to stop, log and return the summary.
   */
  readonly hardDeadlineMs?: number;
  /** Epoch ms of the Lambda deadline itself: nothing of the invocation may run past it. */
  readonly returnByMs?: number;
}

/** The invocation ran into its hard deadline (a broker or store that does not answer). Nothing more is committed. */
export class DeadlineExceededError extends ConnectFnError {
  readonly code = 'CONNECT_FN_DEADLINE_EXCEEDED';
}

/**
 * `work`, or a {@link DeadlineExceededError} when it has not settled by `hardDeadlineMs` on `clock` (the
 * safety net for I/O that ignores the budget, not part of the budget's own accounting). `work` is then
 * abandoned, not awaited: whatever it still does (a client library retrying a dead broker) cannot hold the
 * invocation past its deadline. The deadline's sleep is cancelled as soon as `work` settles, so no timer is
 * left to keep a local process alive.
 */
export async function beforeHardDeadline<T>(
  work: Promise<T>,
  hardDeadlineMs: number | undefined,
  what: () => string,
  clock: Clock,
): Promise<T> {
  if (hardDeadlineMs === undefined) return work;
  const settled = new AbortController();
  const expired = clock.sleep(Math.max(0, hardDeadlineMs - clock.nowMs()), settled.signal).then(() => {
    throw new DeadlineExceededError(`${what()} did not finish before the invocation's deadline`, {
      retriable: true,
    });
  });
  // Cancelled (work settled first): nobody waits for it any more.
  expired.catch(() => undefined);
  try {
    return await Promise.race([work, expired]);
  } finally {
    settled.abort();
  }
}

/** Derives the limits from the connector's `invocation.*` keys and the time the invocation has left. */
export function budgetLimits(
  config: {
    readonly 'invocation.max.records': number;
    readonly 'invocation.max.bytes': number;
    readonly 'invocation.safety.margin.ms': number;
  },
  remainingMs: number,
  nowMs: number,
): BudgetLimits {
  const marginMs = config['invocation.safety.margin.ms'];
  return {
    maxRecords: config['invocation.max.records'],
    maxBytes: config['invocation.max.bytes'],
    deadlineMs: nowMs + remainingMs - marginMs,
    hardDeadlineMs: nowMs + remainingMs - Math.floor(marginMs / 2),
    returnByMs: nowMs + remainingMs,
  };
}

/** Counts what an invocation used and says when it must stop. */
export class InvocationBudget {
  records = 0;
  bytes = 0;
  readonly #limits: BudgetLimits;
  readonly #clock: Clock;

  constructor(limits: BudgetLimits, clock: Clock) {
    this.#limits = limits;
    this.#clock = clock;
  }

  get deadlineMs(): number {
    return this.#limits.deadlineMs;
  }

  /** Records that may still be read. */
  get remainingRecords(): number {
    return Math.max(0, this.#limits.maxRecords - this.records);
  }

  /** Why reading must stop now, or undefined while there is budget left. */
  exhausted(): StopReason | undefined {
    if (this.records >= this.#limits.maxRecords) return StopReason.maxRecords;
    if (this.bytes >= this.#limits.maxBytes) return StopReason.maxBytes;
    if (this.#clock.nowMs() >= this.#limits.deadlineMs) return StopReason.deadline;
    return undefined;
  }

  spend(records: number, bytes: number): void {
    this.records += records;
    this.bytes += bytes;
  }
}

/**
 * Cleanup after the hard deadline still gets this long (abort a transaction, release a lease) — but never
 * more than half of what is left between the hard deadline and the Lambda deadline (a safety margin under
 * ~2 s leaves less than 500 ms there), so the summary is still returned in time.
 */
const CLEANUP_MIN_MS = 500;

/** Until when a cycle's cleanup may run (see {@link CLEANUP_MIN_MS}). */
export function cleanupUntil(
  limits: Pick<BudgetLimits, 'hardDeadlineMs' | 'returnByMs'>,
  nowMs: number,
): number {
  const wanted = Math.max(nowMs + CLEANUP_MIN_MS, limits.hardDeadlineMs ?? 0);
  if (limits.returnByMs === undefined || limits.hardDeadlineMs === undefined) return wanted;
  const lastMs = limits.hardDeadlineMs + Math.floor((limits.returnByMs - limits.hardDeadlineMs) / 2);
  return Math.min(wanted, lastMs);
}

/** How a cycle ended: its stop reason, and the error that ended it (fenced, or failed). */
export interface CycleEnd {
  readonly stopReason: StopReason;
  readonly error?: unknown;
}

/**
 * Runs a cycle's `work` within the hard deadline (`describe` names what it was doing, for the deadline's
 * error), then its cleanup `steps` in order, within what is left of the hard deadline plus a moment. A
 * fenced cycle ends `fenced`, a failed one `error`; a failing cleanup step never hides the outcome (the next
 * invocation starts from what was committed).
 */
export async function runWithinDeadline(
  work: () => Promise<StopReason>,
  limits: BudgetLimits,
  describe: () => string,
  steps: readonly (() => Promise<unknown> | undefined)[],
  clock: Clock,
): Promise<CycleEnd> {
  let end: CycleEnd;
  try {
    end = { stopReason: await beforeHardDeadline(work(), limits.hardDeadlineMs, describe, clock) };
  } catch (error) {
    end = { stopReason: error instanceof FencedError ? StopReason.fenced : StopReason.error, error };
  }
  const cleanup = async () => {
    for (const step of steps) {
      try {
        await step();
      } catch {
        // The outcome is decided; see above.
      }
    }
  };
  const untilMs = cleanupUntil(limits, clock.nowMs());
  await beforeHardDeadline(cleanup(), untilMs, () => 'cleanup', clock).catch(() => undefined);
  return end;
}
