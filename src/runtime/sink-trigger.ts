/**
 * A triggered sink invocation: Lambda's Kafka event source mapping polled the topic and hands over a batch;
 * it owns the consumer group and commits the batch's offsets once the invocation succeeds. The function
 * runs the sink pipeline over the batch and reports what it could not deliver:
 *
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
 * @module
 */
import { ConnectFnError } from '../errors.ts';
import type { SinkTask, TopicPartition, TopicPartitionOffset } from '../spi/sink.ts';
import { StopReason } from './budget.ts';
import type { Clock, FetchedRecord } from './ports.ts';
import type { RecordConverters } from './record-converter.ts';
import {
  convertRecords,
  errantRecordReporter,
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
  /** Connect's `consumer.max.poll.records`: the most records one `put` gets. */
  readonly maxPollRecords: number;
  /** Epoch ms by which delivery must stop (what is not delivered by then is reported failed). */
  readonly deadlineMs: number;
  readonly errors: ErrorPolicy;
  readonly clock: Clock;
  readonly log?: CycleLog;
}

export interface TriggeredSinkResult {
  readonly summary: InvocationSummary;
  /** Per failed partition, its first record not delivered: where the mapping must resume. */
  readonly failures: readonly TopicPartitionOffset[];
}

/** The deadline passed before a partition was delivered. */
class DeliveryDeadlineError extends ConnectFnError {
  readonly code = 'CONNECT_FN_DEADLINE_EXCEEDED';
}

/** Delivers the event's records; never throws for a record it cannot deliver (that is a failure). */
export async function runTriggeredSink(options: TriggeredSinkOptions): Promise<TriggeredSinkResult> {
  const startMs = options.clock.nowMs();
  /** Per partition: where its records stand once put (the offset after the last one put). */
  const positions = new Map<string, TopicPartitionOffset>();
  /** Per partition: its first record not delivered. */
  const failed = new Map<string, TopicPartitionOffset>();
  let firstError: InvocationSummary['error'];
  let skipped = 0;
  let batches = 0;
  const fail = (tp: TopicPartition, offset: number, err: unknown) => {
    failed.set(keyOf(tp), { topic: tp.topic, partition: tp.partition, offset });
    firstError ??= summaryError(err);
    options.log?.warn('records not delivered; the event source mapping retries them', {
      topic: tp.topic,
      partition: tp.partition,
      offset,
      ...summaryError(err),
    });
  };

  let started = false;
  try {
    await options.task.start({
      connector: options.connector,
      taskId: options.taskId,
      assignment: options.partitions.map((p) => ({ topic: p.topic, partition: p.partition })),
      deadlineMs: options.deadlineMs,
      errantRecordReporter: errantRecordReporter(options.errors, options.log, () => skipped++),
    });
    started = true;
    for (const partition of options.partitions) {
      for (let i = 0; i < partition.records.length; i += options.maxPollRecords) {
        const chunk = partition.records.slice(i, i + options.maxPollRecords);
        const first = chunk[0]!;
        if (options.clock.nowMs() >= options.deadlineMs) {
          fail(partition, first.offset, new DeliveryDeadlineError('the invocation reached its deadline'));
          break;
        }
        const delivered = await deliverChunk(chunk, options, () => skipped++);
        if (delivered.nextOffset !== undefined) {
          batches++;
          positions.set(keyOf(partition), {
            topic: partition.topic,
            partition: partition.partition,
            offset: delivered.nextOffset,
          });
        }
        if (delivered.error !== undefined) {
          fail(partition, delivered.failedAt, delivered.error);
          break;
        }
      }
    }
    if (positions.size > 0) {
      const put = [...positions.values()];
      try {
        for (const safe of await safeOffsets(options.task, put)) positions.set(keyOf(safe), safe);
        for (const p of put) {
          const safe = positions.get(keyOf(p))!;
          if (safe.offset < p.offset && !failed.has(keyOf(p))) {
            failed.set(keyOf(p), safe);
          }
        }
      } catch (err) {
        // Nothing put is known to be durable: every partition put is retried from its first record.
        for (const partition of options.partitions) {
          if (positions.has(keyOf(partition))) fail(partition, partition.records[0]!.offset, err);
        }
        positions.clear();
      }
    }
  } catch (err) {
    // start failed: the whole event is retried.
    for (const partition of options.partitions) {
      const first = partition.records[0];
      if (first !== undefined) fail(partition, first.offset, err);
    }
    positions.clear();
  } finally {
    if (started) await options.task.stop().catch(() => undefined);
  }

  let records = 0;
  let bytes = 0;
  const delivered: TopicPartitionOffset[] = [];
  for (const partition of options.partitions) {
    const until = failed.get(keyOf(partition))?.offset ?? positions.get(keyOf(partition))?.offset;
    if (until === undefined) continue;
    const done = partition.records.filter((r) => r.offset < until);
    if (done.length === 0) continue;
    records += done.length;
    for (const r of done) bytes += (r.key?.byteLength ?? 0) + (r.value?.byteLength ?? 0);
    delivered.push({ topic: partition.topic, partition: partition.partition, offset: until });
  }
  const failures = [...failed.values()];
  const summary: InvocationSummary = {
    connector: options.connector,
    task: options.taskId,
    kind: 'sink',
    records,
    bytes,
    batches,
    durationMs: options.clock.nowMs() - startMs,
    stopReason: failures.length > 0 ? StopReason.error : StopReason.idle,
    committed: delivered.map(sinkOffsetEntry),
    ...(skipped > 0 ? { skipped } : {}),
    ...(firstError === undefined || failures.length === 0 ? {} : { error: firstError }),
  };
  return { summary, failures };
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
