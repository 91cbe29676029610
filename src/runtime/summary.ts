/**
 * The invocation summary (DESIGN.md §3): what the handler returns, what `connect-fn run --json` prints
 * (one line per invocation) and what feeds the status endpoint and metrics.
 * @module
 */

import { ConnectFnError } from '../errors.ts';
import type { OffsetEntry } from '../spi/records.ts';
import type { StopReason } from './budget.ts';

export interface InvocationSummary {
  readonly connector: string;
  readonly task: number;
  readonly kind: 'source' | 'sink';
  readonly records: number;
  readonly bytes: number;
  readonly batches: number;
  readonly durationMs: number;
  readonly stopReason: StopReason;
  /** The last offset committed for each partition by this invocation. */
  readonly committed: readonly OffsetEntry[];
  /** Records skipped under `errors.tolerance=all` (their offsets are committed, as in Connect). */
  readonly skipped?: number;
  /** Set when `stopReason` is `error` (and, for information, `fenced`). Never holds record data. */
  readonly error?: {
    readonly code: string;
    readonly message: string;
    readonly stage?: string;
    /** Whether the next invocation may succeed as it is (a connection lost, a throttle, a timeout). */
    readonly retriable: boolean;
  };
}

/** The summary's `error` for `err`: its stable code, message, stage and retriability; never record data. */
export function summaryError(err: unknown): NonNullable<InvocationSummary['error']> {
  return err instanceof ConnectFnError
    ? {
        code: err.code,
        message: err.message,
        ...(err.stage === undefined ? {} : { stage: err.stage }),
        retriable: err.retriable,
      }
    : {
        code: 'CONNECT_FN_UNEXPECTED',
        message: err instanceof Error ? err.message : String(err),
        retriable: false,
      };
}
