/**
 * The sink connector SPI, with Kafka Connect's semantics.
 *
 * Lifecycle of one invocation of a sink task (the runtime drives it; a task never sees Kafka):
 * 1. the runtime opens the offsets session (fencing any older invocation of the same task), computes the
 *    task's partitions and reads their committed offsets;
 * 2. `start(context)`: the task opens what it writes to. `context.assignment` lists its partitions;
 * 3. `put(records)`, repeatedly: records of one partition arrive in offset order. `put` may buffer, or write
 *    at once. It may throw an error with `retriable: true` (Connect's `RetriableException`): the same
 *    records are put again within the invocation's budget (`errors.retry.timeout`). Any other error fails
 *    the batch: nothing after the last commit is committed, and the invocation fails;
 * 4. before each commit, `preCommit(offsets)` (default: `flush(offsets)`, then commit all of `offsets`):
 *    `offsets` maps each partition to the offset after the last record put (Kafka's convention: the
 *    next offset to read). It returns the offsets that are safe to commit: everything `put` so far must be
 *    durable up to them. A task may return less (it still buffers), never more;
 * 5. `stop()`: releases what `start` acquired. Called once, also after a failure.
 *
 * Connect's `flush(offsets)` is optional here: a task that writes durably in `put` needs none.
 *
 * Record errors and target failures — two different things, whatever `errors.tolerance` says:
 * - a *record* the target refuses for itself (an item too large, a key value of the wrong type) goes to
 *   `context.errantRecordReporter` (which skips it under `errors.tolerance=all`, or rejects);
 * - a failure of the *target* (`SinkTargetError`, `CONNECT_FN_SINK_TARGET` in `errors.ts`: the table or
 *   file does not exist or cannot be written, its key schema is not the one configured, access denied) is
 *   thrown from `start`, `put` or `flush`/`preCommit`, never reported as a record's error: the runtime
 *   fails the invocation (triggered: the whole batch) and commits nothing more. Handed to the reporter, it
 *   is rejected all the same: the runtime cannot turn it into a skipped record.
 *
 * @example
 * ```ts
 * const connector: SinkConnector = {
 *   taskConfigs: (config, maxTasks) => Array.from({ length: maxTasks }, () => config),
 *   createTask: () => new LinesSinkTask(),
 * };
 * ```
 * @module
 */
import type { RecordHeader } from './records.ts';
import type { TaskConfig } from './source.ts';

/** One partition of a topic. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** A position in a partition: `offset` is the next offset to read (what Kafka and Connect commit). */
export interface TopicPartitionOffset extends TopicPartition {
  readonly offset: number;
}

/** A record as a sink task sees it (Connect's `SinkRecord`): converted from the Kafka record's bytes. */
export interface SinkRecord {
  readonly topic: string;
  readonly kafkaPartition: number;
  readonly kafkaOffset: number;
  /** Epoch ms. */
  readonly timestamp: number;
  /** The key after the key converter (a string, bytes, a JSON-like value, or null). */
  readonly key: unknown;
  /** The value after the value converter; null for a tombstone. */
  readonly value: unknown;
  readonly headers: readonly RecordHeader[];
}

/**
 * Connect's `ErrantRecordReporter` (KIP-610): a task hands over a record it cannot write (an item the
 * target refuses) instead of failing the batch. The runtime applies the connector's `errors.tolerance`:
 * under `all` it logs (later: dead-letters) the record and resolves, and the task goes on without it;
 * under `none` it rejects with `error` (or an error caused by it), which the task lets fail the `put`.
 * Only for what is about the record: a `SinkTargetError` handed over is rejected under any tolerance.
 */
export type ErrantRecordReporter = (record: SinkRecord, error: Error) => Promise<void>;

/** What a sink task may use while it runs. */
export interface SinkTaskContext {
  readonly connector: string;
  readonly taskId: number;
  /** The partitions this invocation reads (scheduled), or the partitions of the event (triggered). */
  readonly assignment: readonly TopicPartition[];
  /**
   * Epoch ms by which `put`, `flush` and `preCommit` should have returned: the invocation budget's
   * deadline (the one the runtime bounds `put` retries by). A task that retries on its own (throttling)
   * stops there and throws a retriable error. Absent when the runtime sets none (tests, local tools): the
   * task then bounds its retries itself.
   */
  readonly deadlineMs?: number;
  /**
   * Where records the target refuses go (see {@link ErrantRecordReporter}). Absent: such a record fails
   * the `put`, as under `errors.tolerance=none`.
   */
  readonly errantRecordReporter?: ErrantRecordReporter;
  /**
   * Scheduled invocations only (Connect's `SinkTaskContext.offset`): called from `start`, it sets where
   * this invocation reads the given partitions of its assignment instead of their committed offsets. For a
   * task that keeps its own offsets in the target, atomically with what it writes (the exactly-once
   * DynamoDB sink): its offsets, not the consumer group's, say what is written. Absent when the task is
   * handed records (triggered: the event source mapping decides what comes).
   */
  readonly offset?: (positions: readonly TopicPartitionOffset[]) => void;
}

export interface SinkTask {
  start(context: SinkTaskContext): Promise<void>;
  /** Writes (or buffers) `records`; see the module doc for retriable errors. */
  put(records: readonly SinkRecord[]): Promise<void>;
  /** Makes everything put so far durable (Connect's `flush`). Called by the default `preCommit`. */
  flush?(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  /**
   * The offsets safe to commit, given the offsets after everything put (default: `flush(offsets)` and all
   * of `offsets`). Returning a partition's offset promises that every record before it is durable.
   */
  preCommit?(offsets: readonly TopicPartitionOffset[]): Promise<readonly TopicPartitionOffset[]>;
  stop(): Promise<void>;
}

/** A sink connector class: splits its work into task configs and creates tasks. */
export interface SinkConnector {
  /**
   * At most `maxTasks` task configs; task `i` runs with the `i`-th. Which partitions a task reads is the
   * runtime's choice (sorted topic-partitions, round robin over `tasks.max`), not the connector's.
   */
  taskConfigs(config: TaskConfig, maxTasks: number): readonly TaskConfig[];
  createTask(config: TaskConfig): SinkTask;
}
