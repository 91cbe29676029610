/**
 * The part of a sink invocation that scheduled and triggered sinks share: Kafka records → convert →
 * `put` (retried within the budget when the task says the failure is retriable) → `preCommit` (by default
 * `flush`) → commit what the task says is safe.
 *
 * Batches are pipelined one deep: the caller fetches and converts batch n+1 while batch n is put and
 * committed; batch n+1 is put only once batch n's commit has completed. So at most one batch is put and
 * not yet committed at any moment — what an invocation killed then delivers again.
 * @module
 */
import {
  ConnectFnError,
  type ConnectFnErrorOptions,
  ConversionError,
  SinkTargetError,
  Stage,
} from '../errors.ts';
import type { RecordHeader } from '../spi/records.ts';
import type {
  ErrantRecordReporter,
  SinkRecord,
  SinkTask,
  TopicPartition,
  TopicPartitionOffset,
} from '../spi/sink.ts';
import type { Clock, FetchedRecord } from './ports.ts';
import type { RecordConverters } from './record-converter.ts';
import { withRetry } from './retry.ts';
import type { CycleLog, ErrorPolicy } from './source-cycle.ts';

/** The task's `put` failed (after retries, for a retriable failure). */
export class TaskPutError extends ConnectFnError {
  readonly code = 'CONNECT_FN_TASK_PUT';
}

/** The task's `preCommit` / `flush` failed, or returned an offset past what was put. */
export class TaskFlushError extends ConnectFnError {
  readonly code = 'CONNECT_FN_TASK_FLUSH';
}

/** A record of a batch could not be converted: `offset` names it (the records before it converted). */
export class RecordConversionError extends ConversionError {
  readonly offset: number;

  constructor(message: string, offset: number, options: ConnectFnErrorOptions = {}) {
    super(message, options);
    this.offset = offset;
  }
}

/** Records of one partition, in offset order, converted and ready for `put`. */
export interface SinkBatch {
  readonly topic: string;
  readonly partition: number;
  /** Offset of the first Kafka record of the batch (skipped ones included). */
  readonly firstOffset: number;
  /** The offset after the last Kafka record of the batch: where this partition stands once it is put. */
  readonly nextOffset: number;
  readonly records: readonly SinkRecord[];
  /** Kafka records read (skipped ones included). */
  readonly count: number;
  /** Key and value bytes of the Kafka records, for the budget and the summary. */
  readonly bytes: number;
}

export interface ConvertOptions {
  readonly converters: RecordConverters;
  readonly errors: ErrorPolicy;
  readonly log?: CycleLog;
}

/** Kafka record bytes as the budget counts them: key, value, header keys and values. */
export function fetchedBytes(record: FetchedRecord): number {
  let bytes = (record.key?.byteLength ?? 0) + (record.value?.byteLength ?? 0);
  for (const header of record.headers) bytes += header.key.length + (header.value?.byteLength ?? 0);
  return bytes;
}

/**
 * Converts Kafka records of one partition (offset order) into a batch. A record that fails conversion
 * fails the batch (a `ConversionError` naming topic, partition and offset), or under
 * `errors.tolerance=all` is skipped and logged (its offset still counts, as in Connect).
 */
export function convertRecords(
  records: readonly FetchedRecord[],
  options: ConvertOptions,
  onSkipped: () => void,
): SinkBatch {
  const first = records[0];
  if (first === undefined) throw new RangeError('a sink batch needs at least one record');
  const out: SinkRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    bytes += fetchedBytes(record);
    try {
      out.push(toSinkRecord(record, options.converters));
    } catch (err) {
      const at = `${record.topic}-${record.partition}@${record.offset}`;
      if (options.errors.tolerance !== 'all') {
        const stage = err instanceof ConnectFnError ? err.stage : undefined;
        const reason = err instanceof Error ? err.message : String(err);
        throw new RecordConversionError(`${reason} (record ${at})`, record.offset, {
          cause: err,
          ...(stage === undefined ? {} : { stage }),
        });
      }
      onSkipped();
      options.log?.warn('record skipped (errors.tolerance=all)', {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        stage: err instanceof ConnectFnError ? err.stage : undefined,
        reason: err instanceof Error ? err.message : String(err),
      });
    }
  }
  const last = records[records.length - 1]!;
  return {
    topic: first.topic,
    partition: first.partition,
    firstOffset: first.offset,
    nextOffset: last.offset + 1,
    records: out,
    count: records.length,
    bytes,
  };
}

function stageFailure(stage: Stage, err: unknown): ConversionError {
  if (err instanceof ConversionError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new ConversionError(`${stage} failed: ${reason}`, {
    stage,
    cause: err,
  });
}

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

/** Connect's `SinkRecord` for a Kafka record: key, value and headers through the converters. */
export function toSinkRecord(record: FetchedRecord, converters: RecordConverters): SinkRecord {
  const { topic } = record;
  let stage: Stage = Stage.KEY_CONVERTER;
  try {
    const key = converters.key.toConnectData(topic, record.key);
    stage = Stage.VALUE_CONVERTER;
    const value = converters.value.toConnectData(topic, record.value);
    stage = Stage.HEADER_CONVERTER;
    const headers =
      record.headers.length === 0
        ? NO_HEADERS
        : record.headers.map((h) => ({
            key: h.key,
            value: converters.header.toConnectHeader(topic, h.key, h.value),
          }));
    return {
      topic,
      kafkaPartition: record.partition,
      kafkaOffset: record.offset,
      timestamp: record.timestampMs,
      key,
      value,
      headers,
    };
  } catch (err) {
    throw stageFailure(stage, err);
  }
}

export interface PutOptions {
  readonly task: SinkTask;
  readonly errors: ErrorPolicy;
  readonly deadlineMs: number;
  readonly clock: Clock;
}

/**
 * A failure of the target itself ({@link SinkTargetError}): not about a record, so never tolerated, never
 * retried, and it fails the whole invocation (triggered: the whole batch), whatever `errors.tolerance` says.
 */
export function isTargetFailure(err: unknown): err is SinkTargetError {
  return err instanceof SinkTargetError;
}

/**
 * `task.put(records)`, retried while it throws retriable errors, within `errors.retry.timeout` and the
 * deadline. A target failure comes out as it is (it names the target; the batch does not matter).
 */
export async function putBatch(batch: SinkBatch, options: PutOptions): Promise<void> {
  if (batch.records.length === 0) return;
  try {
    await withRetry(() => options.task.put(batch.records), {
      retryTimeoutMs: options.errors.retryTimeoutMs,
      maxDelayMs: options.errors.retryDelayMaxMs,
      deadlineMs: options.deadlineMs,
      clock: options.clock,
    });
  } catch (err) {
    if (isTargetFailure(err)) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new TaskPutError(
      `put failed for ${batch.topic}-${batch.partition} offsets ${batch.firstOffset}..${batch.nextOffset - 1}: ${reason}`,
      { cause: err, stage: Stage.TASK_PUT, retriable: err instanceof ConnectFnError && err.retriable },
    );
  }
}

/**
 * The offsets safe to commit: `task.preCommit(positions)`, or by default `task.flush(positions)` and all
 * of them. An offset past a partition's position (or for a partition not given) is the task's bug and
 * fails: committing it could skip records.
 */
export async function safeOffsets(
  task: SinkTask,
  positions: readonly TopicPartitionOffset[],
): Promise<TopicPartitionOffset[]> {
  let safe: readonly TopicPartitionOffset[];
  try {
    if (task.preCommit !== undefined) {
      safe = await task.preCommit(positions);
    } else {
      await task.flush?.(positions);
      safe = positions;
    }
  } catch (err) {
    if (isTargetFailure(err)) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new TaskFlushError(`${task.preCommit === undefined ? 'flush' : 'preCommit'} failed: ${reason}`, {
      cause: err,
      stage: Stage.TASK_PUT,
      retriable: err instanceof ConnectFnError && err.retriable,
    });
  }
  const limit = new Map(positions.map((p) => [keyOf(p), p.offset]));
  for (const offset of safe) {
    const max = limit.get(keyOf(offset));
    if (max === undefined || offset.offset > max) {
      throw new TaskFlushError(
        `preCommit returned offset ${offset.offset} for ${keyOf(offset)}, past what was put (${max ?? 'nothing'})`,
        { stage: Stage.TASK_PUT },
      );
    }
  }
  return [...safe];
}

/** `topic-partition`, as Kafka names a partition. */
export function keyOf(tp: TopicPartition): string {
  return `${tp.topic}-${tp.partition}`;
}

/** Connect's REST shape of a sink offset, for the summary: `{kafka_topic, kafka_partition}` → `{kafka_offset}`. */
export function sinkOffsetEntry(offset: TopicPartitionOffset) {
  return {
    partition: { kafka_topic: offset.topic, kafka_partition: offset.partition },
    offset: { kafka_offset: offset.offset },
  };
}

/**
 * The errant record reporter a sink task is given (Connect's KIP-610): under `errors.tolerance=all` a
 * record the target refuses is logged (coordinates and reason, never its data) and counted as skipped,
 * and the task goes on; otherwise the report rejects and the task's `put` fails. A target failure
 * ({@link SinkTargetError}) handed over as a record's error is never skipped: the report rejects with it,
 * whatever the tolerance — skipping would commit past every record while the target takes none.
 */
export function errantRecordReporter(
  errors: ErrorPolicy,
  log: CycleLog | undefined,
  onSkipped: () => void,
): ErrantRecordReporter {
  return async (record, error) => {
    if (errors.tolerance !== 'all' || isTargetFailure(error)) throw error;
    onSkipped();
    log?.warn('record skipped (errors.tolerance=all)', {
      topic: record.topic,
      partition: record.kafkaPartition,
      offset: record.kafkaOffset,
      stage: Stage.TASK_PUT,
      reason: error.message,
    });
  };
}
