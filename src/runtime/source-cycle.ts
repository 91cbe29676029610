/**
 * The bounded source cycle (DESIGN.md §3): one invocation of one source task.
 *
 * 1. open the offsets session (the DynamoDB store takes the task's lease here); with exactly-once, open
 *    the first transaction too — that fences every older invocation of the task — *before* reading;
 * 2. `task.start(context)`: the task reads its committed offsets (read_committed) and positions itself;
 * 3. per batch, until the budget is spent or the task is idle: `poll` → convert → deliver and commit:
 *    - at-least-once: send every record, await every acknowledgement, then commit the batch's offsets;
 *    - exactly-once: the records and their offset records in one transaction;
 *    pipelined one deep: the next batch is polled and converted while this one is delivered, and is sent
 *    only once this one's commit has completed; the cycle waits for the last commit before it stops;
 * 4. `task.stop()`, close the session, return the summary.
 *
 * An offset is never committed past a record that was not acknowledged. A fenced invocation stops with
 * `stopReason: "fenced"` and commits nothing more; it is not an error.
 * @module
 */
import { ConnectFnError, Stage } from '../errors.ts';
import type { SourceRecord } from '../spi/records.ts';
import type { SourceTask } from '../spi/source.ts';
import { type BudgetLimits, InvocationBudget, runWithinDeadline, StopReason } from './budget.ts';
import { type DeliverBatch, type Delivery, type OpenDelivery, openDelivery } from './delivery.ts';
import { OffsetTracker } from './offset-tracker.ts';
import type { Clock, KafkaRecord, OffsetSession, OffsetStore } from './ports.ts';
import { type RecordConverters, recordBytes, toKafkaRecord } from './record-converter.ts';
import { type SourceCoordinates, withSourceCoordinates } from './record-coordinates.ts';
import { withRetry } from './retry.ts';
import { type InvocationSummary, summaryError } from './summary.ts';

export type { Delivery } from './delivery.ts';

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

/** What the invocation has committed (records, bytes and batches count committed batches only). */
interface Progress {
  records: number;
  bytes: number;
  batches: number;
  skipped: number;
  readonly committed: OffsetTracker;
}

/** Records converted between two yields to the event loop (see {@link convertBatch}). */
const CONVERT_CHUNK = 100;

/** Lets pending I/O callbacks run (a send's acknowledgement, a commit's answer) before more CPU work. */
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Converts a batch; under `errors.tolerance=all` a record that fails conversion is skipped (its offset
 * still counts). The previous batch is usually in flight meanwhile: every {@link CONVERT_CHUNK} records
 * the conversion yields, so its acknowledgement is handled (and its commit issued) without waiting for
 * the whole batch to be converted.
 */
async function convertBatch(
  records: readonly SourceRecord[],
  options: SourceCycleOptions,
  progress: Progress,
): Promise<{ records: KafkaRecord[]; sources: SourceCoordinates[] }> {
  const out: KafkaRecord[] = [];
  const sources: SourceCoordinates[] = [];
  for (let i = 0; i < records.length; i++) {
    if (i > 0 && i % CONVERT_CHUNK === 0) await yieldToIo();
    const record = records[i]!;
    try {
      out.push(toKafkaRecord(record, options.converters));
      sources.push({ sourcePartition: record.sourcePartition, sourceOffset: record.sourceOffset });
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
  return { records: out, sources };
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

/** A polled batch, converted: what delivery needs of it (the source records themselves are let go). */
interface ConvertedBatch {
  readonly records: readonly KafkaRecord[];
  /** Where each of `records` came from, for errors that name one. */
  readonly sources: readonly SourceCoordinates[];
  /** Records polled (skipped ones included). */
  readonly count: number;
  /** Budget bytes of the converted records. */
  readonly bytes: number;
  readonly offsets: OffsetTracker;
}

/**
 * Polls and converts the next batch, and counts it against the budget; undefined when the budget is
 * spent (see `stop`) or the task has nothing now.
 */
async function nextBatch(
  options: SourceCycleOptions,
  budget: InvocationBudget,
  delivery: OpenDelivery,
  progress: Progress,
  stop: { reason?: StopReason },
): Promise<ConvertedBatch | undefined> {
  // After a failed commit nothing more is polled.
  delivery.check();
  const spent = budget.exhausted();
  if (spent !== undefined) {
    stop.reason = spent;
    return undefined;
  }
  const polled = await pollOnce(options, budget);
  if (polled.length === 0) {
    stop.reason = StopReason.idle;
    return undefined;
  }
  const { records, sources } = await convertBatch(polled, options, progress);
  const offsets = new OffsetTracker();
  for (const record of polled) offsets.advance(record.sourcePartition, record.sourceOffset);
  let bytes = 0;
  for (const record of records) bytes += recordBytes(record);
  // Counted now, not once delivered: the next batch is polled while this one is in flight.
  budget.spend(polled.length, bytes);
  return { records, sources, count: polled.length, bytes, offsets };
}

/**
 * The batches, one after another: batch n+1 is polled and converted while batch n is sent (and, once
 * it is acknowledged, committed). Delivery keeps the order of sends and commits; a batch prepared when
 * the one before it fails is dropped (it was not sent, and its offsets are not committed).
 */
async function runBatches(
  options: SourceCycleOptions,
  budget: InvocationBudget,
  delivery: OpenDelivery,
  deliver: DeliverBatch,
  progress: Progress,
): Promise<StopReason> {
  const stop: { reason?: StopReason } = {};
  const ignore = () => undefined;
  let sending: Promise<void> | undefined;
  let upcoming: Promise<ConvertedBatch | undefined> | undefined;
  try {
    let batch = await nextBatch(options, budget, delivery, progress, stop);
    while (batch !== undefined) {
      const { count, bytes, offsets, sources } = batch;
      sending = deliver(batch.records, offsets, () => {
        progress.records += count;
        progress.bytes += bytes;
        progress.batches++;
        progress.committed.merge(offsets.entries());
      }).catch((err: unknown) => {
        throw withSourceCoordinates(err, sources);
      });
      batch = undefined;
      // Each settles while the other runs, and is awaited below, in order: no rejection goes unseen.
      sending.catch(ignore);
      // Let the send go out before the CPU work of the next batch.
      await yieldToIo();
      upcoming = nextBatch(options, budget, delivery, progress, stop);
      upcoming.catch(ignore);
      await sending;
      sending = undefined;
      batch = await upcoming;
      upcoming = undefined;
    }
    await delivery.settle();
    return stop.reason ?? StopReason.idle;
  } finally {
    // After a failure, what is still in flight settles before the invocation returns: a send, the next
    // batch's poll, and a commit (so the summary says what was committed). The first failure is reported.
    await sending?.catch(ignore);
    await upcoming?.catch(ignore);
    await delivery.settle().catch(ignore);
  }
}

/** Runs one invocation of a source task and returns its summary. Never throws for fencing. */
export async function runSourceCycle(options: SourceCycleOptions): Promise<InvocationSummary> {
  const startMs = options.clock.nowMs();
  const budget = new InvocationBudget(options.limits, options.clock);
  const progress: Progress = { records: 0, bytes: 0, batches: 0, skipped: 0, committed: new OffsetTracker() };
  let session: OffsetSession | undefined;
  let started = false;
  const delivery = openDelivery(options.delivery, options.connector);
  let phase = 'opening the offsets store';
  const run = async (): Promise<StopReason> => {
    session = await options.offsets.open(options.connector, options.taskId, options.limits.deadlineMs);
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
    return runBatches(options, budget, delivery, deliver, progress);
  };
  const to = options.target === undefined ? '' : ` (to ${options.target})`;
  const end = await runWithinDeadline(
    run,
    options.limits,
    () => `${phase}${to}`,
    [() => (started ? options.task.stop() : undefined), () => delivery.finish(), () => session?.close()],
    options.clock,
  );
  return {
    connector: options.connector,
    task: options.taskId,
    kind: 'source',
    records: progress.records,
    bytes: progress.bytes,
    batches: progress.batches,
    durationMs: options.clock.nowMs() - startMs,
    stopReason: end.stopReason,
    committed: progress.committed.entries(),
    ...(progress.skipped > 0 ? { skipped: progress.skipped } : {}),
    ...(end.error === undefined ? {} : { error: summaryError(end.error) }),
  };
}
