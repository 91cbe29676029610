/**
 * A triggered sink invocation: Lambda's Kafka event source mapping polled the topic and hands over a batch;
 * it owns the consumer group and commits the batch's offsets once the invocation succeeds. The function
 * runs the sink pipeline over the batch and reports what it could not deliver:
 *
 * 0. every topic of the event must be one the connector subscribes to (`topics` / `topics.regex`);
 *    otherwise the whole event is refused before the task starts (see "failing the invocation");
 * 1. `task.start(context)` with the event's partitions as the assignment;
 * 2. per partition, in offset order, in chunks of at most `max.poll.records`: convert → `put` (retried
 *    within the budget when the failure is retriable). The first record a partition cannot deliver (a
 *    conversion failure without `errors.tolerance=all`, a failed put, the deadline) ends that partition:
 *    it and every later record of the partition are reported as failed, nothing before them;
 * 3. `preCommit(offsets)` (by default `flush`) over every partition put: where the task calls less safe
 *    than was put, the failure starts there instead; a failing flush fails everything put;
 * 4. `task.stop()`; the failures become the partial batch response (`src/lambda/kafka-event.ts`).
 *
 * So the mapping re-delivers exactly the records not known to be durable, and the records of other
 * partitions are not held up by one partition's failure.
 *
 * The hard deadline (`hardDeadlineMs`, halfway through the safety margin, as for the scheduled cycles):
 * a `start`, `put` or `preCommit` still running then — I/O that ignores the deadline, a target that does
 * not answer — is abandoned, not awaited, and the invocation answers at once with a partial batch response
 * that reports every partition from its first record: nothing of the event was flushed, so nothing is
 * known durable. No later chunk is put once it is abandoned. `stop` gets the cleanup allowance after that
 * (never past the Lambda deadline). The abandoned call may still complete later, so the retried records
 * can be written twice (at least once, as every failure here).
 *
 * Failing the invocation: a topic outside the subscription (step 0) or a failure of the target itself (a
 * `SinkTargetError` from `start`, `put`, the errant record reporter or `preCommit`: a missing table, a key
 * schema other than the configured one, a file that cannot be written) is not about a record. The result
 * says `failInvocation`: the handler throws, the mapping commits nothing and retries the whole batch, and
 * the function's error metrics show it. A partial batch response would make the invocation a success that
 * retries the same records for ever, and would let other partitions' records through a broken deployment.
 * On a target failure nothing more is put; what was put before it is written again by the retry.
 * @module
 */
import { TopicNotSubscribedError } from '../errors.ts';
import type { SinkTask, TopicPartition, TopicPartitionOffset } from '../spi/sink.ts';
import { beforeHardDeadline, cleanupUntil, DeadlineExceededError, StopReason } from './budget.ts';
import type { Clock, FetchedRecord } from './ports.ts';
import type { RecordConverters } from './record-converter.ts';
import { describeSubscription, type Subscription, subscriptionFilter } from './sink-assignment.ts';
import {
  convertRecords,
  errantRecordReporter,
  isTargetFailure,
  keyOf,
  putBatch,
  RecordConversionError,
  type SinkBatch,
  safeOffsets,
  sinkOffsetEntry,
} from './sink-pipeline.ts';
import type { CycleLog, ErrorPolicy } from './source-cycle.ts';
import { type InvocationSummary, summaryError } from './summary.ts';

/** One partition of the event: its records in increasing offset order. */
export interface TriggeredPartition extends TopicPartition {
  readonly records: readonly FetchedRecord[];
}

export interface TriggeredSinkOptions {
  readonly connector: string;
  readonly taskId: number;
  readonly task: SinkTask;
  readonly converters: RecordConverters;
  readonly partitions: readonly TriggeredPartition[];
  /** The connector's `topics` / `topics.regex`: an event with any other topic is refused. */
  readonly subscription: Subscription;
  /** Connect's `consumer.max.poll.records`: the most records one `put` gets. */
  readonly maxPollRecords: number;
  /** Epoch ms by which delivery must stop (what is not delivered by then is reported failed). */
  readonly deadlineMs: number;
  /**
   * Epoch ms by which the invocation must return whatever the task is still doing (the budget's hard
   * deadline); without it, the task's calls are awaited however long they take.
   */
  readonly hardDeadlineMs?: number;
  /** Epoch ms of the Lambda deadline: the task's `stop` after the hard deadline never runs past it. */
  readonly returnByMs?: number;
  readonly errors: ErrorPolicy;
  readonly clock: Clock;
  readonly log?: CycleLog;
}

export interface TriggeredSinkResult {
  readonly summary: InvocationSummary;
  /**
   * Per failed partition, its first record not delivered: where the mapping must resume. When
   * `failInvocation` is set, every partition of the event from its first record (what the mapping
   * retries after a failed invocation).
   */
  readonly failures: readonly TopicPartitionOffset[];
  /**
   * The event is refused as a whole (a topic outside the subscription, a failure of the target): the
   * handler must fail the invocation instead of answering with a partial batch response. Nothing of the
   * event counts as delivered (`records: 0`, `committed: []`); the summary's `error` says why.
   */
  readonly failInvocation: boolean;
}

/** What a delivery has done so far. */
interface Delivery {
  /** Per partition: where its records stand once put (the offset after the last one put). */
  readonly positions: Map<string, TopicPartitionOffset>;
  /** Per partition: its first record not delivered. */
  readonly failed: Map<string, TopicPartitionOffset>;
  firstError: InvocationSummary['error'];
  skipped: number;
  batches: number;
  /** What the task is doing (for the hard deadline's error). */
  doing: string;
  /** Set at the hard deadline: the task's pending call was abandoned, nothing more is put or flushed. */
  abandoned: boolean;
}

/**
 * Delivers the event's records; never throws for a record it cannot deliver (that is a failure), nor for
 * a refused event or a target failure (`failInvocation`).
 */
export async function runTriggeredSink(options: TriggeredSinkOptions): Promise<TriggeredSinkResult> {
  const startMs = options.clock.nowMs();
  const foreign = foreignTopics(options);
  if (foreign !== undefined) return refused(options, startMs, foreign);
  const delivery: Delivery = {
    positions: new Map(),
    failed: new Map(),
    firstError: undefined,
    skipped: 0,
    batches: 0,
    doing: 'starting the sink task',
    abandoned: false,
  };
  let started = false;
  const work = async () => {
    await options.task.start({
      connector: options.connector,
      taskId: options.taskId,
      assignment: options.partitions.map((p) => ({ topic: p.topic, partition: p.partition })),
      deadlineMs: options.deadlineMs,
      errantRecordReporter: errantRecordReporter(options.errors, options.log, () => delivery.skipped++),
    });
    started = true;
    await deliverPartitions(options, delivery);
    await settle(options, delivery);
  };
  let result: TriggeredSinkResult;
  try {
    await beforeHardDeadline(work(), options.hardDeadlineMs, () => delivery.doing, options.clock);
    result = answer(options, startMs, delivery);
  } catch (err) {
    if (err instanceof DeadlineExceededError) {
      delivery.abandoned = true;
      result = answer(options, startMs, failEverything(options, delivery, err), StopReason.deadline);
    } else if (isTargetFailure(err)) {
      result = refused(options, startMs, err);
    } else {
      // start failed: the whole event is retried.
      result = answer(options, startMs, failEverything(options, delivery, err));
    }
  }
  if (started) await stopTask(options);
  return result;
}

/** The result of a delivery that was not refused: its summary and the partitions to retry. */
function answer(
  options: TriggeredSinkOptions,
  startMs: number,
  delivery: Delivery,
  stopReason?: StopReason,
): TriggeredSinkResult {
  const summary = summaryOf(options, startMs, delivery);
  return {
    summary: stopReason === undefined ? summary : { ...summary, stopReason },
    failures: [...delivery.failed.values()],
    failInvocation: false,
  };
}

/**
 * Every partition failed from its first record, nothing counted as put (start failed, or the hard deadline
 * came before the flush: nothing is known durable). A fresh record of failures: an abandoned call that
 * completes later changes nothing of the answer.
 */
function failEverything(options: TriggeredSinkOptions, delivery: Delivery, err: unknown): Delivery {
  const everything: Delivery = {
    ...delivery,
    positions: new Map(),
    failed: new Map(),
    firstError: undefined,
  };
  for (const partition of options.partitions) {
    const first = partition.records[0];
    if (first !== undefined) fail(options, everything, partition, first.offset, err);
  }
  return everything;
}

/** `task.stop()`, given until the cleanup's end after the hard deadline; its failure changes nothing. */
async function stopTask(options: TriggeredSinkOptions): Promise<void> {
  const untilMs =
    options.hardDeadlineMs === undefined ? undefined : cleanupUntil(options, options.clock.nowMs());
  const stopping = options.task.stop();
  await beforeHardDeadline(stopping, untilMs, () => 'stopping the sink task', options.clock).catch(
    () => undefined,
  );
}

/** The event's topics the connector does not subscribe to, as the error that refuses the event. */
function foreignTopics(options: TriggeredSinkOptions): TopicNotSubscribedError | undefined {
  const subscribes = subscriptionFilter(options.subscription);
  const foreign = [...new Set(options.partitions.map((p) => p.topic))].filter((t) => !subscribes(t));
  if (foreign.length === 0) return undefined;
  const shown = foreign.slice(0, MAX_TOPICS_SHOWN).map((t) => JSON.stringify(t));
  const more = foreign.length > shown.length ? ` and ${foreign.length - shown.length} more` : '';
  return new TopicNotSubscribedError(
    `the event holds records of ${shown.join(', ')}${more}, not among the topics of ${options.connector} (${describeSubscription(options.subscription)}): the event source mapping and the connector disagree; nothing of the event was written`,
  );
}

/** Topics named in a refusal (a name has at most 249 characters). */
const MAX_TOPICS_SHOWN = 5;

/** The result of an event refused as a whole: every partition failed from its first record. */
function refused(options: TriggeredSinkOptions, startMs: number, err: unknown): TriggeredSinkResult {
  const error = summaryError(err);
  options.log?.warn('the event is refused as a whole; the invocation fails', { ...error });
  const failures: TopicPartitionOffset[] = [];
  for (const p of options.partitions) {
    const first = p.records[0];
    if (first !== undefined) failures.push({ topic: p.topic, partition: p.partition, offset: first.offset });
  }
  const summary: InvocationSummary = {
    connector: options.connector,
    task: options.taskId,
    kind: 'sink',
    records: 0,
    bytes: 0,
    batches: 0,
    durationMs: options.clock.nowMs() - startMs,
    stopReason: StopReason.error,
    committed: [],
    error,
  };
  return { summary, failures, failInvocation: true };
}

function fail(
  options: TriggeredSinkOptions,
  delivery: Delivery,
  tp: TopicPartition,
  offset: number,
  err: unknown,
): void {
  delivery.failed.set(keyOf(tp), { topic: tp.topic, partition: tp.partition, offset });
  delivery.firstError ??= summaryError(err);
  options.log?.warn('records not delivered; the event source mapping retries them', {
    topic: tp.topic,
    partition: tp.partition,
    offset,
    ...summaryError(err),
  });
}

/** Step 2: every partition, chunk by chunk, until its first failure. Throws a target failure. */
async function deliverPartitions(options: TriggeredSinkOptions, delivery: Delivery): Promise<void> {
  for (const partition of options.partitions) {
    for (let i = 0; i < partition.records.length; i += options.maxPollRecords) {
      const chunk = partition.records.slice(i, i + options.maxPollRecords);
      const first = chunk[0]!;
      if (delivery.abandoned) return;
      if (options.clock.nowMs() >= options.deadlineMs) {
        const late = new DeadlineExceededError('the invocation reached its deadline', { retriable: true });
        fail(options, delivery, partition, first.offset, late);
        break;
      }
      delivery.doing = `the sink task's put of ${partition.topic}-${partition.partition} from offset ${first.offset}`;
      const delivered = await deliverChunk(chunk, options, () => delivery.skipped++);
      if (isTargetFailure(delivered.error)) throw delivered.error;
      if (delivered.nextOffset !== undefined) {
        delivery.batches++;
        delivery.positions.set(keyOf(partition), {
          topic: partition.topic,
          partition: partition.partition,
          offset: delivered.nextOffset,
        });
      }
      if (delivered.error !== undefined) {
        fail(options, delivery, partition, delivered.failedAt, delivered.error);
        break;
      }
    }
  }
}

/** Step 3: `preCommit` over what was put; where it calls less safe, the failure starts there. */
async function settle(options: TriggeredSinkOptions, delivery: Delivery): Promise<void> {
  const { positions, failed } = delivery;
  if (positions.size === 0 || delivery.abandoned) return;
  const put = [...positions.values()];
  delivery.doing = "the sink task's preCommit (flush)";
  try {
    for (const safe of await safeOffsets(options.task, put)) positions.set(keyOf(safe), safe);
    for (const p of put) {
      const safe = positions.get(keyOf(p))!;
      if (safe.offset < p.offset && !failed.has(keyOf(p))) failed.set(keyOf(p), safe);
    }
  } catch (err) {
    if (isTargetFailure(err)) throw err;
    // Nothing put is known to be durable: every partition put is retried from its first record.
    for (const partition of options.partitions) {
      if (positions.has(keyOf(partition))) {
        fail(options, delivery, partition, partition.records[0]!.offset, err);
      }
    }
    positions.clear();
  }
}

function summaryOf(options: TriggeredSinkOptions, startMs: number, delivery: Delivery): InvocationSummary {
  let records = 0;
  let bytes = 0;
  const delivered: TopicPartitionOffset[] = [];
  for (const partition of options.partitions) {
    const key = keyOf(partition);
    const until = delivery.failed.get(key)?.offset ?? delivery.positions.get(key)?.offset;
    if (until === undefined) continue;
    const done = partition.records.filter((r) => r.offset < until);
    if (done.length === 0) continue;
    records += done.length;
    for (const r of done) bytes += (r.key?.byteLength ?? 0) + (r.value?.byteLength ?? 0);
    delivered.push({ topic: partition.topic, partition: partition.partition, offset: until });
  }
  const failed = delivery.failed.size > 0;
  return {
    connector: options.connector,
    task: options.taskId,
    kind: 'sink',
    records,
    bytes,
    batches: delivery.batches,
    durationMs: options.clock.nowMs() - startMs,
    stopReason: failed ? StopReason.error : StopReason.idle,
    committed: delivered.map(sinkOffsetEntry),
    ...(delivery.skipped > 0 ? { skipped: delivery.skipped } : {}),
    ...(delivery.firstError === undefined || !failed ? {} : { error: delivery.firstError }),
  };
}

/**
 * Converts and puts `chunk`. When a record fails conversion, the records before it are still put, and the
 * failure starts at it; when `put` fails, at the chunk's first record.
 */
async function deliverChunk(
  chunk: readonly FetchedRecord[],
  options: TriggeredSinkOptions,
  onSkipped: () => void,
): Promise<{ nextOffset?: number; error?: unknown; failedAt: number }> {
  const first = chunk[0]!.offset;
  let batch: SinkBatch;
  let conversion: RecordConversionError | undefined;
  try {
    batch = convertRecords(chunk, options, onSkipped);
  } catch (err) {
    if (!(err instanceof RecordConversionError)) return { error: err, failedAt: first };
    conversion = err;
    const before = chunk.filter((r) => r.offset < err.offset);
    if (before.length === 0) return { error: err, failedAt: first };
    batch = convertRecords(before, options, onSkipped);
  }
  try {
    await putBatch(batch, options);
  } catch (err) {
    return { error: err, failedAt: first };
  }
  return conversion === undefined
    ? { nextOffset: batch.nextOffset, failedAt: batch.nextOffset }
    : { nextOffset: batch.nextOffset, error: conversion, failedAt: conversion.offset };
}
