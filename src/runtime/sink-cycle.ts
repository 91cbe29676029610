/**
 * The bounded scheduled sink cycle (DESIGN.md §3): one invocation of one sink task, reading Kafka itself
 * without joining a consumer group.
 *
 * 1. open the offsets session: it fences every older invocation of the task (their commits are refused);
 * 2. compute the task's partitions from metadata, read their committed offsets; a partition without one
 *    starts at `consumer.auto.offset.reset` (`earliest` by default, as Connect's sinks); a start at
 *    `latest` is committed at once, so the next invocation does not skip what arrives in between;
 * 3. `task.start(context)`; a task that keeps its own offsets may move where partitions start
 *    (`context.offset`, as in Connect): its positions replace the committed ones (records read again
 *    below a committed offset are logged as a warning);
 * 4. per batch (at most `max.poll.records` records of one partition, partitions taken in turn), until the
 *    budget is spent or every partition is read up to where it ended when the invocation began: read
 *    (read_committed) → convert → `put` → `preCommit`/`flush` → commit (after every batch by default;
 *    with `offset.flush.interval.ms`, at most that often and at the end). Pipelined one deep: the next
 *    batch is read and converted while this one is put and committed, and is put only once a commit in
 *    flight has completed. An offset out of range is reset per `auto.offset.reset` and logged;
 * 5. `task.stop()`, close the session, return the summary.
 *
 * An offset is never committed past a record that `put` did not take and `preCommit` did not call safe.
 * A fenced invocation stops with `stopReason: "fenced"` and commits nothing more; it is not an error.
 * @module
 */
import { ConnectFnError, Stage } from '../errors.ts';
import type { OffsetEntry } from '../spi/records.ts';
import type { SinkTask, TopicPartition, TopicPartitionOffset } from '../spi/sink.ts';
import { type BudgetLimits, InvocationBudget, runWithinDeadline, StopReason } from './budget.ts';
import type {
  Clock,
  FetchedRecord,
  PartitionRead,
  PartitionReader,
  PositionedBatch,
  SinkOffsetSession,
  SinkOffsetStore,
} from './ports.ts';
import type { RecordConverters } from './record-converter.ts';
import {
  convertRecords,
  errantRecordReporter,
  keyOf,
  putBatch,
  type SinkBatch,
  safeOffsets,
  sinkOffsetEntry,
} from './sink-pipeline.ts';
import type { CycleLog, ErrorPolicy } from './source-cycle.ts';
import { type InvocationSummary, summaryError } from './summary.ts';

export type AutoOffsetReset = 'earliest' | 'latest' | 'none';

/** The reader a scheduled sink needs: the group-less reader, with the start of each partition too. */
export interface SinkPartitionReader extends PartitionReader {
  /** The log start offset of each partition: where `auto.offset.reset=earliest` starts. */
  startOffsets(topic: string, partitions: readonly number[]): Promise<ReadonlyMap<number, number>>;
  /** Batches with their positions: a sink commits past transaction markers too, as a consumer does. */
  readPositioned(request: PartitionRead): AsyncIterable<PositionedBatch>;
}

export interface SinkCycleOptions {
  readonly connector: string;
  readonly taskId: number;
  readonly task: SinkTask;
  readonly converters: RecordConverters;
  readonly offsets: SinkOffsetStore;
  readonly reader: SinkPartitionReader;
  /** The task's partitions, computed after the session is open (see `assignPartitions`). */
  readonly assignment: () => Promise<readonly TopicPartition[]>;
  readonly autoOffsetReset: AutoOffsetReset;
  /** Connect's `consumer.max.poll.records`: the most records one `put` gets. */
  readonly maxPollRecords: number;
  /**
   * Connect's `offset.flush.interval.ms`: flush and commit at most this often, and at the end of the
   * invocation; 0 (the default) = after every batch.
   */
  readonly commitIntervalMs?: number;
  readonly limits: BudgetLimits;
  readonly errors: ErrorPolicy;
  readonly clock: Clock;
  readonly log?: CycleLog;
  /** Where records come from, for errors (e.g. `broker 10.0.0.1:9092 over SASL_SSL`); never a secret. */
  readonly source?: string;
}

/** A partition has no committed offset and `auto.offset.reset=none`, or its offset is out of range then. */
export class NoValidOffsetError extends ConnectFnError {
  readonly code = 'CONNECT_FN_SINK_NO_OFFSET';
}

/** What the invocation has committed. */
interface Progress {
  records: number;
  bytes: number;
  batches: number;
  skipped: number;
  /** The last committed offset of each partition, in first-commit order. */
  readonly committed: Map<string, TopicPartitionOffset>;
}

/** An offset-out-of-range failure from the reader (its adapter's error, recognised by shape). */
interface OutOfRange {
  readonly code: 'CONNECT_FN_KAFKA_OFFSET_OUT_OF_RANGE';
  readonly range: { readonly startOffset: number; readonly endOffset: number };
}

function isOutOfRange(err: unknown): err is OutOfRange {
  return (
    err instanceof ConnectFnError &&
    err.code === 'CONNECT_FN_KAFKA_OFFSET_OUT_OF_RANGE' &&
    typeof (err as { range?: unknown }).range === 'object'
  );
}

/** One partition being read: its reader's batches, and what it has read but not yet handed out. */
interface PartitionCursor {
  readonly tp: TopicPartition;
  /** The next offset to hand out. */
  position: number;
  batches: AsyncIterator<PositionedBatch>;
  pending: FetchedRecord[];
  /** The position once `pending` is handed out: past the fetch's control records too. */
  pendingEnd: number;
  /** Resets after an offset out of range, in this invocation. */
  resets: number;
}

/** Resets of one partition per invocation before an offset out of range fails it. */
const MAX_RESETS = 2;

/** Records of one partition, handed out in turn, and the partition's position after them. */
interface RotationBatch {
  readonly tp: TopicPartition;
  /** May be empty: only transaction markers (or aborted or compacted batches) moved the position. */
  readonly records: readonly FetchedRecord[];
  readonly nextOffset: number;
}

/** Hands out batches of the task's partitions, one partition after another in turn. */
class PartitionRotation {
  readonly #cursors: PartitionCursor[];
  readonly #options: SinkCycleOptions;
  readonly #budget: InvocationBudget;
  #turn = 0;

  constructor(
    positions: readonly TopicPartitionOffset[],
    options: SinkCycleOptions,
    budget: InvocationBudget,
  ) {
    this.#options = options;
    this.#budget = budget;
    this.#cursors = positions.map((p) => ({
      tp: { topic: p.topic, partition: p.partition },
      position: p.offset,
      batches: this.#read(p),
      pending: [],
      pendingEnd: p.offset,
      resets: 0,
    }));
  }

  /** The next up-to-`max` records of one partition, or undefined once every partition is read to its end. */
  async next(max: number): Promise<RotationBatch | undefined> {
    while (this.#cursors.length > 0) {
      const index = this.#turn % this.#cursors.length;
      const cursor = this.#cursors[index]!;
      if (cursor.pending.length === 0) {
        const fetched = await this.#fetch(cursor);
        if (fetched === undefined) {
          this.#cursors.splice(index, 1);
          continue;
        }
        cursor.pending = [...fetched.records];
        cursor.pendingEnd = fetched.nextOffset;
      }
      this.#turn = index + 1;
      const records = cursor.pending.splice(0, max);
      const nextOffset =
        cursor.pending.length > 0 ? records[records.length - 1]!.offset + 1 : cursor.pendingEnd;
      if (records.length === 0 && nextOffset === cursor.position) continue;
      cursor.position = nextOffset;
      return { tp: cursor.tp, records, nextOffset };
    }
    return undefined;
  }

  async close(): Promise<void> {
    for (const cursor of this.#cursors) await cursor.batches.return?.().catch(() => undefined);
  }

  #read(from: TopicPartitionOffset): AsyncIterator<PositionedBatch> {
    return this.#options.reader
      .readPositioned({
        topic: from.topic,
        partition: from.partition,
        fromOffset: from.offset,
        deadlineMs: this.#budget.deadlineMs,
      })
      [Symbol.asyncIterator]();
  }

  /**
   * The cursor's next fetched records. An offset out of range is reset per `auto.offset.reset` (and
   * logged); the reset position comes back as a batch of no records, so it is committed even if nothing
   * follows it — the next invocation must not reset again (to a later end, skipping what arrived).
   */
  async #fetch(cursor: PartitionCursor): Promise<PositionedBatch | undefined> {
    try {
      const result = await cursor.batches.next();
      return result.done === true ? undefined : result.value;
    } catch (err) {
      // A partition that is out of range again right after a reset is not reset in a loop.
      if (!isOutOfRange(err) || cursor.resets >= MAX_RESETS) throw err;
      cursor.resets++;
      const policy = this.#options.autoOffsetReset;
      const at = `${keyOf(cursor.tp)} offset ${cursor.position}`;
      if (policy === 'none') {
        throw new NoValidOffsetError(
          `${at} is out of range (${err.range.startOffset}..${err.range.endOffset}) and consumer.auto.offset.reset is none`,
          { cause: err, stage: Stage.KAFKA_CONSUME },
        );
      }
      const to = policy === 'earliest' ? err.range.startOffset : err.range.endOffset;
      this.#options.log?.warn('offset out of range: reset per consumer.auto.offset.reset', {
        topic: cursor.tp.topic,
        partition: cursor.tp.partition,
        offset: cursor.position,
        startOffset: err.range.startOffset,
        endOffset: err.range.endOffset,
        resetTo: to,
        policy,
      });
      cursor.batches = this.#read({ ...cursor.tp, offset: to });
      return { records: [], nextOffset: to };
    }
  }
}

/**
 * Where each partition starts: its committed offset, or `auto.offset.reset` where none is committed
 * (`reset`: those partitions).
 */
async function startPositions(
  assignment: readonly TopicPartition[],
  session: SinkOffsetSession,
  options: SinkCycleOptions,
): Promise<{ positions: TopicPartitionOffset[]; reset: TopicPartitionOffset[] }> {
  const committed = await session.read(assignment);
  const missing = assignment.filter((_, i) => committed[i] === undefined);
  const resets = new Map<string, number>();
  if (missing.length > 0 && options.autoOffsetReset === 'none') {
    throw new NoValidOffsetError(
      `no committed offset for ${missing.map(keyOf).join(', ')} and consumer.auto.offset.reset is none`,
      { stage: Stage.KAFKA_CONSUME },
    );
  }
  const byTopic = new Map<string, number[]>();
  for (const tp of missing) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
  for (const [topic, partitions] of byTopic) {
    const offsets =
      options.autoOffsetReset === 'earliest'
        ? await options.reader.startOffsets(topic, partitions)
        : await options.reader.endOffsets(topic, partitions);
    for (const p of partitions) resets.set(keyOf({ topic, partition: p }), offsets.get(p) ?? 0);
  }
  const positions = assignment.map((tp, i) => ({
    ...tp,
    offset: committed[i] ?? resets.get(keyOf(tp)) ?? 0,
  }));
  return { positions, reset: positions.filter((_, i) => committed[i] === undefined) };
}

const ignore = () => undefined;

/** A batch of no records that moves a partition's position (past transaction markers). */
function emptyBatch(tp: TopicPartition, nextOffset: number): SinkBatch {
  return { ...tp, firstOffset: nextOffset, nextOffset, records: [], count: 0, bytes: 0 };
}

/** The batches, pipelined one deep (see the module doc); returns why reading stopped. */
async function runBatches(
  rotation: PartitionRotation,
  session: SinkOffsetSession,
  options: SinkCycleOptions,
  budget: InvocationBudget,
  progress: Progress,
  behind: Map<string, number> = new Map(),
): Promise<StopReason> {
  // Where each partition stands once everything put so far is flushed: what preCommit is offered.
  const positions = new Map<string, TopicPartitionOffset>();
  let stop: StopReason | undefined;
  const nextBatch = async (): Promise<SinkBatch | undefined> => {
    for (;;) {
      const spent = budget.exhausted();
      if (spent !== undefined) {
        stop = spent;
        return undefined;
      }
      const max = Math.min(options.maxPollRecords, budget.remainingRecords);
      const next = await rotation.next(max);
      if (next === undefined) {
        stop = StopReason.idle;
        return undefined;
      }
      const committed = behind.get(keyOf(next.tp));
      const first = next.records[0];
      if (committed !== undefined && first !== undefined) {
        behind.delete(keyOf(next.tp));
        if (first.offset < committed) {
          options.log?.warn("reading records again from the task's own offset, behind the committed offset", {
            ...next.tp,
            committed,
            from: first.offset,
          });
        }
      }
      const batch =
        next.records.length === 0
          ? emptyBatch(next.tp, next.nextOffset)
          : {
              ...convertRecords(next.records, options, () => progress.skipped++),
              nextOffset: next.nextOffset,
            };
      // Counted now, not once committed: the next batch is read while this one is in flight.
      budget.spend(batch.count, batch.bytes);
      return batch;
    }
  };
  let committing: Promise<void> = Promise.resolve();
  let lastCommitMs = Number.NEGATIVE_INFINITY;
  /** What was put since the last commit was issued: counted in the summary once that commit completes. */
  let put = { records: 0, bytes: 0, batches: 0 };
  const commit = () => {
    const offered = [...positions.values()];
    const counted = put;
    put = { records: 0, bytes: 0, batches: 0 };
    lastCommitMs = options.clock.nowMs();
    committing = (async () => {
      const safe = await safeOffsets(options.task, offered);
      const changed = safe.filter((o) => progress.committed.get(keyOf(o))?.offset !== o.offset);
      if (changed.length > 0) await session.commit(changed);
      for (const o of changed) progress.committed.set(keyOf(o), o);
      progress.records += counted.records;
      progress.bytes += counted.bytes;
      progress.batches += counted.batches;
    })();
    committing.catch(ignore);
  };
  let upcoming = nextBatch();
  try {
    for (;;) {
      const batch = await upcoming;
      if (batch === undefined) break;
      upcoming = nextBatch();
      upcoming.catch(ignore);
      await committing;
      // Read one step ahead, before the deadline; put now, it would only fail at the target for want of
      // time (a slow put on a loaded machine). Dropped unput and uncommitted: the next invocation reads it.
      if (options.clock.nowMs() >= budget.deadlineMs) {
        stop = StopReason.deadline;
        break;
      }
      await putBatch(batch, { ...options, deadlineMs: budget.deadlineMs });
      const position = { topic: batch.topic, partition: batch.partition, offset: batch.nextOffset };
      positions.set(keyOf(position), position);
      put = { records: put.records + batch.count, bytes: put.bytes + batch.bytes, batches: put.batches + 1 };
      if (options.clock.nowMs() - lastCommitMs >= (options.commitIntervalMs ?? 0)) commit();
    }
    await committing;
    if (put.batches > 0) commit();
    await committing;
    return stop ?? StopReason.idle;
  } finally {
    await upcoming.catch(ignore);
    await committing.catch(ignore);
  }
}

/**
 * The start positions once the task has moved some (`context.offset`), and the partitions moved back
 * behind their committed offsets (by key: the committed offset). A move forward is routine (the task
 * wrote a batch whose commit did not happen); so is a move back over transaction markers only (the
 * committed position is past them, the task's own offset may not be). Records read again below the
 * committed offset mean the committed offsets ran ahead of what the task holds (e.g. its offsets restored
 * from a backup): {@link runBatches} logs a warning when the first one comes.
 */
function startAt(
  positions: readonly TopicPartitionOffset[],
  moved: ReadonlyMap<string, TopicPartitionOffset>,
): { start: TopicPartitionOffset[]; behind: Map<string, number> } {
  const behind = new Map<string, number>();
  const start = positions.map((p) => {
    const to = moved.get(keyOf(p));
    if (to === undefined || to.offset === p.offset) return p;
    if (to.offset < p.offset) behind.set(keyOf(p), p.offset);
    return { topic: p.topic, partition: p.partition, offset: to.offset };
  });
  return { start, behind };
}

/** Runs one invocation of a scheduled sink task and returns its summary. Never throws for fencing. */
export async function runSinkCycle(options: SinkCycleOptions): Promise<InvocationSummary> {
  const startMs = options.clock.nowMs();
  const budget = new InvocationBudget(options.limits, options.clock);
  const progress: Progress = { records: 0, bytes: 0, batches: 0, skipped: 0, committed: new Map() };
  let session: SinkOffsetSession | undefined;
  let rotation: PartitionRotation | undefined;
  let started = false;
  let phase = 'opening the offsets store';
  const run = async (): Promise<StopReason> => {
    session = await options.offsets.open(options.connector, options.taskId);
    phase = 'assigning partitions';
    const assignment = await options.assignment();
    phase = 'reading committed offsets';
    const { positions, reset } = await startPositions(assignment, session, options);
    if (options.autoOffsetReset === 'latest' && reset.length > 0) {
      // A consumer keeps its reset position in memory; an invocation ends, so it commits it: otherwise the
      // next invocation would reset to a later end and skip whatever arrived in between.
      phase = 'committing the offsets reset to latest';
      await session.commit(reset);
      for (const o of reset) progress.committed.set(keyOf(o), o);
    }
    phase = 'starting the task';
    const moved = new Map<string, TopicPartitionOffset>();
    await options.task.start({
      connector: options.connector,
      taskId: options.taskId,
      assignment,
      deadlineMs: budget.deadlineMs,
      errantRecordReporter: errantRecordReporter(options.errors, options.log, () => progress.skipped++),
      offset: (to) => {
        for (const p of to) {
          if (!positions.some((q) => keyOf(q) === keyOf(p))) {
            throw new TypeError(`sink task: context.offset for ${keyOf(p)}, not in its assignment`);
          }
          moved.set(keyOf(p), p);
        }
      },
    });
    started = true;
    phase = 'reading and delivering a batch';
    const { start, behind } = startAt(positions, moved);
    rotation = new PartitionRotation(start, options, budget);
    return runBatches(rotation, session, options, budget, progress, behind);
  };
  const from = options.source === undefined ? '' : ` (from ${options.source})`;
  const end = await runWithinDeadline(
    run,
    options.limits,
    () => `${phase}${from}`,
    [() => (started ? options.task.stop() : undefined), () => rotation?.close(), () => session?.close()],
    options.clock,
  );
  const committed: OffsetEntry[] = [...progress.committed.values()].map(sinkOffsetEntry);
  return {
    connector: options.connector,
    task: options.taskId,
    kind: 'sink',
    records: progress.records,
    bytes: progress.bytes,
    batches: progress.batches,
    durationMs: options.clock.nowMs() - startMs,
    stopReason: end.stopReason,
    committed,
    ...(progress.skipped > 0 ? { skipped: progress.skipped } : {}),
    ...(end.error === undefined ? {} : { error: summaryError(end.error) }),
  };
}
