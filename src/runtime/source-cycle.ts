/**
 * The bounded source cycle (DESIGN.md §3): one invocation of one source task.
 *
 * 1. open the offsets session (the DynamoDB store takes the task's lease here); with exactly-once, open
 *    the first transaction too — that fences every older invocation of the task — *before* reading;
 * 2. `task.start(context)`: the task reads its committed offsets (read_committed) and positions itself;
 * 3. per batch, until the budget is spent or the task is idle: `poll` → convert → deliver and commit:
 *    - at-least-once: send every record, await every acknowledgement, then commit the batch's offsets;
 *    - exactly-once: the records and their offset records in one transaction;
 * 4. `task.stop()`, close the session, return the summary.
 *
 * An offset is never committed past a record that was not acknowledged. A fenced invocation stops with
 * `stopReason: "fenced"` and commits nothing more; it is not an error.
 * @module
 */
import { ConnectFnError, FencedError, Stage } from '../errors.ts';
import type { SourceRecord } from '../spi/records.ts';
import type { SourceTask } from '../spi/source.ts';
import { type BudgetLimits, beforeHardDeadline, InvocationBudget, StopReason } from './budget.ts';
import { type Delivery, openDelivery } from './delivery.ts';
import { OffsetTracker } from './offset-tracker.ts';
import type { Clock, KafkaRecord, OffsetSession, OffsetStore } from './ports.ts';
import { type RecordConverters, recordBytes, toKafkaRecord } from './record-converter.ts';
import { withRetry } from './retry.ts';
import type { InvocationSummary } from './summary.ts';

export type { Delivery } from './delivery.ts';

/** Cleanup after the hard deadline still gets this long (abort a transaction, release a lease). */
const CLEANUP_MIN_MS = 500;

/** Connect's `errors.*` keys as the cycle uses them. */
export interface ErrorPolicy {
  readonly tolerance: 'none' | 'all';
  readonly retryTimeoutMs: number;
  readonly retryDelayMaxMs: number;
}

/** Where the cycle reports what it skipped; never given record data. */
export interface CycleLog {
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

export interface SourceCycleOptions {
  readonly connector: string;
  readonly taskId: number;
  readonly task: SourceTask;
  readonly converters: RecordConverters;
  readonly offsets: OffsetStore;
  readonly delivery: Delivery;
  readonly limits: BudgetLimits;
  readonly errors: ErrorPolicy;
  readonly clock: Clock;
  readonly log?: CycleLog;
  /** Where records go, for errors (e.g. `broker 10.0.0.1:9092 over SASL_SSL`); never holds a secret. */
  readonly target?: string;
}

interface Progress {
  batches: number;
  skipped: number;
  readonly committed: OffsetTracker;
}

/** Converts a batch; under `errors.tolerance=all` a record that fails conversion is skipped (its offset still counts). */
function convertBatch(
  records: readonly SourceRecord[],
  options: SourceCycleOptions,
  progress: Progress,
): KafkaRecord[] {
  const out: KafkaRecord[] = [];
  for (const record of records) {
    try {
      out.push(toKafkaRecord(record, options.converters));
    } catch (err) {
      if (options.errors.tolerance !== 'all') throw err;
      progress.skipped++;
      options.log?.warn('skipped a record that could not be converted', {
        topic: record.topic,
        stage: err instanceof ConnectFnError ? err.stage : undefined,
        sourcePartition: record.sourcePartition,
        sourceOffset: record.sourceOffset,
      });
    }
  }
  return out;
}

async function pollOnce(
  options: SourceCycleOptions,
  budget: InvocationBudget,
): Promise<readonly SourceRecord[]> {
  const poll = () =>
    options.task.poll({ maxRecords: budget.remainingRecords, deadlineMs: budget.deadlineMs });
  try {
    return await withRetry(poll, {
      retryTimeoutMs: options.errors.retryTimeoutMs,
      maxDelayMs: options.errors.retryDelayMaxMs,
      deadlineMs: budget.deadlineMs,
      clock: options.clock,
    });
  } catch (err) {
    if (err instanceof ConnectFnError && err.stage !== undefined) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new TaskPollError(`poll failed: ${reason}`, { cause: err, stage: Stage.TASK_POLL });
  }
}

/** The task's `poll` failed (after retries, for a retriable failure). */
export class TaskPollError extends ConnectFnError {
  readonly code = 'CONNECT_FN_TASK_POLL';
}

async function runBatches(
  options: SourceCycleOptions,
  budget: InvocationBudget,
  deliver: (records: readonly KafkaRecord[], offsets: OffsetTracker) => Promise<void>,
  progress: Progress,
): Promise<StopReason> {
  for (;;) {
    const spent = budget.exhausted();
    if (spent !== undefined) return spent;
    const polled = await pollOnce(options, budget);
    if (polled.length === 0) return StopReason.idle;
    const converted = convertBatch(polled, options, progress);
    const batchOffsets = new OffsetTracker();
    for (const record of polled) batchOffsets.advance(record.sourcePartition, record.sourceOffset);
    await deliver(converted, batchOffsets);
    budget.spend(
      polled.length,
      converted.reduce((n, r) => n + recordBytes(r), 0),
    );
    progress.batches++;
    progress.committed.merge(batchOffsets.entries());
  }
}

function errorSummary(err: unknown): InvocationSummary['error'] {
  if (err instanceof ConnectFnError) {
    return { code: err.code, message: err.message, ...(err.stage === undefined ? {} : { stage: err.stage }) };
  }
  return { code: 'CONNECT_FN_UNEXPECTED', message: err instanceof Error ? err.message : String(err) };
}

/** Runs one invocation of a source task and returns its summary. Never throws for fencing. */
export async function runSourceCycle(options: SourceCycleOptions): Promise<InvocationSummary> {
  const startMs = options.clock.nowMs();
  const budget = new InvocationBudget(options.limits, options.clock);
  const progress: Progress = { batches: 0, skipped: 0, committed: new OffsetTracker() };
  let session: OffsetSession | undefined;
  let started = false;
  let stopReason: StopReason;
  let error: InvocationSummary['error'];
  const delivery = openDelivery(options.delivery, options.connector);
  let phase = 'opening the offsets store';
  const run = async (): Promise<StopReason> => {
    session = await options.offsets.open(options.connector, options.taskId);
    phase = 'opening the first transaction';
    const deliver = await delivery.prepare(session);
    const openSession = session;
    phase = 'starting the task';
    await options.task.start({
      connector: options.connector,
      taskId: options.taskId,
      offsets: (partitions) => openSession.read(partitions),
    });
    started = true;
    phase = 'delivering a batch';
    return runBatches(options, budget, deliver, progress);
  };
  const to = options.target === undefined ? '' : ` (to ${options.target})`;
  try {
    stopReason = await beforeHardDeadline(run(), options.limits.hardDeadlineMs, () => `${phase}${to}`);
  } catch (err) {
    stopReason = err instanceof FencedError ? StopReason.fenced : StopReason.error;
    error = errorSummary(err);
  } finally {
    // Cleanup gets what is left of the hard deadline plus a moment; it must not hold the summary back.
    const cleanupUntilMs = Math.max(Date.now() + CLEANUP_MIN_MS, options.limits.hardDeadlineMs ?? 0);
    await beforeHardDeadline(
      closeAll(started ? options.task : undefined, delivery, session),
      cleanupUntilMs,
      () => 'cleanup',
    ).catch(() => undefined);
  }
  return {
    connector: options.connector,
    task: options.taskId,
    kind: 'source',
    records: budget.records,
    bytes: budget.bytes,
    batches: progress.batches,
    durationMs: options.clock.nowMs() - startMs,
    stopReason,
    committed: progress.committed.entries(),
    ...(progress.skipped > 0 ? { skipped: progress.skipped } : {}),
    ...(error === undefined ? {} : { error }),
  };
}

/** Stops the task, aborts an open transaction, closes the session; a failing cleanup never hides the outcome. */
async function closeAll(
  task: SourceTask | undefined,
  delivery: { finish(): Promise<void> },
  session: OffsetSession | undefined,
): Promise<void> {
  const steps = [() => task?.stop(), () => delivery.finish(), () => session?.close()];
  for (const step of steps) {
    try {
      await step();
    } catch {
      // Cleanup after the outcome is decided: the next invocation starts from what was committed.
    }
  }
}
