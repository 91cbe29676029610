/**
 * The `dynamodb-streams` source task: one invocation of reading a table's stream.
 *
 * `start`: resolves the stream (the configured ARN, or the table's LatestStreamArn), lists its shards
 * (DescribeStream, every page), reads the committed offsets of every listed shard (a task needs its
 * parents' and children's offsets too, to keep lineage order), and builds the {@link StreamReader} of
 * the shards this task owns. `poll`: the next changes of one shard, at most min(`batch.size`,
 * `budget.maxRecords`); `[]` (idle) once every readable shard is caught up or finished.
 *
 * Source partition `{"table": <table>, "shard": <shard id>}`, offset `{"sequence": <sequence number>}`
 * (a string: sequence numbers have up to 40 digits).
 *
 * @example
 * ```ts
 * const task = new DynamoDbStreamsTask(settings, api, logger);
 * await task.start(context); // positions every owned shard after its committed sequence number
 * await task.poll({ maxRecords: 500, deadlineMs }); // changes of one shard, in stream order
 * ```
 * @module
 */
import { ConversionError, Stage } from '../../errors.ts';
import type { SourceRecord } from '../../spi/records.ts';
import type { PollBudget, SourceTask, SourceTaskContext } from '../../spi/source.ts';
import type { TaskLog } from '../task-log.ts';
import { shardPartition } from './change-record.ts';
import type { StreamPosition, TrimmedPolicy } from './config.ts';
import { listShards, ShardLineage } from './shard-lineage.ts';
import { type StreamsApi, StreamUnavailableError } from './stream-api.ts';
import { committedSequence, StreamReader } from './stream-reader.ts';

export interface DynamoDbStreamsTaskSettings {
  /** The table: it names the source partitions and fills `${table}`. */
  readonly table: string;
  /** A fixed stream; absent: the table's current stream. */
  readonly streamArn?: string;
  readonly topic: string;
  readonly position: StreamPosition;
  readonly trimmedPolicy: TrimmedPolicy;
  readonly batchSize: number;
  readonly taskId: number;
  readonly taskCount: number;
  /** The clock the poll deadline is measured with; default `Date.now`. */
  readonly nowMs?: () => number;
}

export class DynamoDbStreamsTask implements SourceTask {
  readonly #settings: DynamoDbStreamsTaskSettings;
  readonly #api: StreamsApi;
  readonly #log: TaskLog;
  #reader: StreamReader | undefined;

  constructor(settings: DynamoDbStreamsTaskSettings, api: StreamsApi, log: TaskLog) {
    this.#settings = settings;
    this.#api = api;
    this.#log = log;
  }

  /** The shards this invocation reads (after `start`), parents first. */
  get ownedShards(): readonly string[] {
    return this.#reader?.ownedShards ?? [];
  }

  async start(context: SourceTaskContext): Promise<void> {
    const { table, topic, position, trimmedPolicy, taskId, taskCount } = this.#settings;
    const streamArn = this.#settings.streamArn ?? (await this.#latestStream());
    const listing = await listShards(this.#api, streamArn);
    if (listing.tableName !== undefined && listing.tableName !== table) {
      throw new StreamUnavailableError(
        `dynamodb-streams: stream ${streamArn} belongs to table ${listing.tableName}, not ${table}`,
      );
    }
    const lineage = new ShardLineage(listing.shards);
    const shards = lineage.shards;
    const offsets = await context.offsets(shards.map((s) => shardPartition(table, s.shardId)));
    const committed = new Map<string, string>();
    shards.forEach((shard, i) => {
      const offset = offsets[i];
      if (offset === undefined) return;
      const sequence = committedSequence(offset);
      if (sequence === undefined) {
        throw new ConversionError(
          `dynamodb-streams: the committed offset of shard ${shard.shardId} must be {"sequence": "<digits>"}`,
          { stage: Stage.TASK_START },
        );
      }
      committed.set(shard.shardId, sequence);
    });
    this.#reader = new StreamReader(
      this.#api,
      {
        streamArn,
        table,
        topic,
        keyAttributes: listing.keyAttributes,
        position,
        trimmedPolicy,
        taskId,
        taskCount,
      },
      lineage,
      committed,
      this.#log,
    );
  }

  async poll(budget: PollBudget): Promise<readonly SourceRecord[]> {
    const reader = this.#reader;
    if (reader === undefined) throw new Error('dynamodb-streams: poll before start');
    const limit = Math.min(this.#settings.batchSize, budget.maxRecords);
    if (limit < 1) return [];
    return reader.next(limit, budget.deadlineMs, this.#settings.nowMs ?? Date.now);
  }

  async stop(): Promise<void> {
    // Iterators need no release; the clients belong to the connector (one per cold start). A page read
    // ahead is dropped (never returned, so never committed).
    const reader = this.#reader;
    this.#reader = undefined;
    await reader?.close();
  }

  async #latestStream(): Promise<string> {
    const { table } = this.#settings;
    const arn = await this.#api.latestStreamArn(table);
    if (arn === undefined) {
      throw new StreamUnavailableError(
        `dynamodb-streams: table ${table} has no stream; enable one (StreamSpecification: StreamEnabled=true, StreamViewType=NEW_AND_OLD_IMAGES)`,
      );
    }
    return arn;
  }
}
