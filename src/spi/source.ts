/**
 * The source connector SPI, with Kafka Connect's semantics.
 *
 * Lifecycle of one invocation of a source task (the runtime drives it; a task never sees Kafka):
 * 1. the runtime opens the offsets session (fencing any older invocation of the same task, when the
 *    guarantee is exactly-once, before anything is read);
 * 2. `start(context)`: the task reads the committed offsets of the source partitions it will read through
 *    `context.offsets(...)` and positions itself after them;
 * 3. `poll(budget)`, repeatedly: returns the next records, at most `budget.maxRecords`, returning before
 *    `budget.deadlineMs`; an empty array means "nothing now" and ends the invocation as idle. Records of
 *    one source partition are returned in offset order; the runtime commits a record's `sourceOffset`
 *    only once it and every record before it were acknowledged by Kafka;
 * 4. `stop()`: releases what `start` acquired. Called once, also after a failure.
 *
 * A task may throw from `poll`: an error with `retriable: true` is retried within the budget
 * (`errors.retry.timeout`), any other fails the invocation; offsets already committed stay committed.
 *
 * @example
 * ```ts
 * const connector: SourceConnector = {
 *   taskConfigs: (config, maxTasks) => [config],
 *   createTask: () => new LinesTask(),
 * };
 * ```
 * @module
 */
import type { SourceOffset, SourcePartition, SourceRecord } from './records.ts';

/** The configuration of one task: the connector's own keys (typed by its schema) plus task-specific keys. */
export type TaskConfig = Readonly<Record<string, unknown>>;

/** What a task may use while it runs. */
export interface SourceTaskContext {
  readonly connector: string;
  readonly taskId: number;
  /**
   * The committed offsets of `partitions`, in the same order (undefined where nothing is committed).
   * Reads what was committed before this invocation; never what this invocation is writing.
   */
  offsets(partitions: readonly SourcePartition[]): Promise<readonly (SourceOffset | undefined)[]>;
}

/** What one `poll` may use. */
export interface PollBudget {
  /** Return at most this many records. */
  readonly maxRecords: number;
  /** Return by this epoch ms (the runtime's clock). */
  readonly deadlineMs: number;
}

export interface SourceTask {
  start(context: SourceTaskContext): Promise<void>;
  poll(budget: PollBudget): Promise<readonly SourceRecord[]>;
  stop(): Promise<void>;
}

/** A connector class: splits its work into task configs and creates tasks. */
export interface SourceConnector {
  /**
   * At most `maxTasks` task configs (Connect's `taskConfigs`); task `i` runs with the `i`-th. Must be
   * deterministic: every invocation recomputes it, and task `i` must read the same partitions each time.
   */
  taskConfigs(config: TaskConfig, maxTasks: number): readonly TaskConfig[];
  createTask(config: TaskConfig): SourceTask;
}
