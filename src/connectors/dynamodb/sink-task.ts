/**
 * The `dynamodb-sink` task. With `delivery.guarantee=exactly-once`, `put` writes each partition's records
 * with TransactWriteItems instead (transaction-writer.ts): every transaction holds its items and a
 * conditional update of the partition's offset item, so a record is applied in exactly one transaction.
 * Scheduled, `start` reads the offset item of every assigned partition and starts reading there
 * (`context.offset`): the table, not the consumer group, says what is written, so a group offset ahead of
 * the offset item (an offsets table restored from a backup) skips nothing. Otherwise (triggered), on the
 * first put of a partition in the task's life, the offset item is read (consistently). Either way records
 * below it — applied before, by this task's earlier life, a zombie, or the batch a retried trigger
 * replays — are dropped; a transaction refused by the offset's condition drops what the stored offset
 * covers and sends the rest. Records refused or ignored are passed over by the offset like the others.
 * `preCommit` stays the default (everything put): the offset item, not the runtime's commit, is what
 * keeps a record from being applied twice.
 *
 * Before the first write to a table (at `start` for the tables of the assigned topics), the task checks
 * with DescribeTable that it exists and has the key the connector writes (table-schema.ts): a missing
 * table, a different key schema, access denied are `SinkTargetError`s — failures of the target, which the
 * runtime never tolerates as record errors — and nothing is written.
 *
 * At least once: `put` turns each record into one item write (item-mapping.ts) and writes them all with
 * BatchWriteItem (batch-writer.ts) before it returns, so what `put` took is in the table and the runtime's
 * default `preCommit` may commit every offset put; there is no `flush`. It first finds every record's
 * key (cheap), then marshals each chunk of 25 items when a writer takes it, so the first request leaves
 * before the whole batch is marshalled and the rest is marshalled while requests are in flight.
 *
 * - One write per item and put: of several records with the same key (the same item), the last one in
 *   offset order wins — what writing them one after another would leave — and the others are not sent
 *   (BatchWriteItem refuses two writes of one item in a request).
 * - Deterministic keys: a record's key comes from its coordinates or contents only, so writing it again
 *   (a replay after a failure, a second delivery by the event source mapping) overwrites the same item
 *   with the same value.
 * - A record the table cannot take — it has no DynamoDB form, its key is missing, empty or of another
 *   type than the table's, the item is over 400 KB — is a {@link DynamoDbRecordError} naming topic,
 *   partition, offset and reason. It
 *   goes to the context's errant record reporter (which skips and logs it under `errors.tolerance=all`,
 *   and fails the put under `none`); without a reporter it fails the put. A key is refused before anything
 *   is written; a value when its chunk is marshalled (if that fails the put, it fails once the requests
 *   in flight have settled); an item DynamoDB refuses once every other write of the put is made.
 * - Throttling and unprocessed items are retried until the context's `deadlineMs` (or, without one,
 *   {@link DEFAULT_PUT_WINDOW_MS} after the put began); then the put fails with a retriable error.
 *
 * @example
 * ```ts
 * const task = new DynamoDbSinkTask(settings, { client });
 * await task.start({ connector: 'orders', taskId: 0, assignment, deadlineMs });
 * await task.put(records); // every item written (or reported) when this resolves
 * await task.stop();
 * ```
 * @module
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SinkTargetError } from '../../errors.ts';
import type {
  ErrantRecordReporter,
  SinkRecord,
  SinkTask,
  SinkTaskContext,
  TopicPartitionOffset,
} from '../../spi/sink.ts';
import type { TaskLog } from '../task-log.ts';
import {
  BATCH_WRITE_MAX_ITEMS,
  type ChunkSource,
  type RetryOptions,
  type WriterClock,
  writeChunks,
} from './batch-writer.ts';
import type { DeliveryGuarantee } from './config.ts';
import {
  DynamoDbRecordError,
  type ItemKey,
  type ItemMapping,
  type ItemMappingSettings,
  type ItemWrite,
  itemMapping,
  toItemKey,
  toItemWrite,
  toKeyedWrite,
} from './item-mapping.ts';
import { KeySchemaCache } from './table-schema.ts';
import { TargetTables } from './target-tables.ts';
import {
  type PartitionState,
  type PlannedRecord,
  readEosOffset,
  type TransactionWriterOptions,
  writePartition,
} from './transaction-writer.ts';

/** How long a put retries when the runtime gives no deadline (tests, local tools). */
export const DEFAULT_PUT_WINDOW_MS = 30_000;

export interface DynamoDbSinkSettings extends ItemMappingSettings {
  /** Default at-least-once. */
  readonly delivery?: DeliveryGuarantee;
  /** `exactly.once.offsets.table`: required with exactly-once. */
  readonly offsetsTable?: string | undefined;
}

export interface DynamoDbSinkTaskDeps {
  /** One client per cold start, created with `maxAttempts: 1` (the task retries, within the deadline). */
  readonly client: DynamoDBClient;
  readonly clock?: WriterClock;
  /** In [0, 1): the backoff jitter. */
  readonly random?: () => number;
  readonly log?: TaskLog;
  /** DescribeTable's answers, shared by the tasks of a process (default: this task's own). */
  readonly schemas?: KeySchemaCache;
}

const realClock: WriterClock = {
  nowMs: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

const isTargetFailure = (err: unknown) => err instanceof SinkTargetError;

const partitionId = (topic: string, partition: number) => JSON.stringify([topic, partition]);

export class DynamoDbSinkTask implements SinkTask {
  readonly #mapping: ItemMapping;
  readonly #deps: DynamoDbSinkTaskDeps;
  readonly #clock: WriterClock;
  readonly #offsetsTable: string | undefined;
  readonly #tables: TargetTables;
  #deadlineMs: number | undefined;
  #reporter: ErrantRecordReporter | undefined;
  #connector = '';
  #started = false;
  /** Exactly-once: where each partition's offset item stands, once read in this task's life. */
  readonly #partitions = new Map<string, PartitionState>();

  constructor(settings: DynamoDbSinkSettings, deps: DynamoDbSinkTaskDeps) {
    this.#mapping = itemMapping(settings);
    if (settings.delivery === 'exactly-once') {
      if (settings.offsetsTable === undefined || settings.offsetsTable === '') {
        throw new TypeError('dynamodb sink: exactly-once needs exactly.once.offsets.table');
      }
      this.#offsetsTable = settings.offsetsTable;
    }
    this.#deps = deps;
    this.#clock = deps.clock ?? realClock;
    const schemas = deps.schemas ?? new KeySchemaCache();
    this.#tables = new TargetTables(deps.client, schemas, this.#mapping, this.#offsetsTable);
  }

  async start(context: SinkTaskContext): Promise<void> {
    this.#deadlineMs = context.deadlineMs;
    this.#reporter = context.errantRecordReporter;
    this.#connector = context.connector;
    this.#partitions.clear();
    this.#started = true;
    const deadlineMs = this.#putDeadlineMs();
    // No time left (a budget spent before the task started): the runtime reads and puts nothing, so there
    // is nothing to check or position, and the reads would only fail the invocation instead of ending it
    // `deadline`. (A put would check its tables first.)
    if (this.#clock.nowMs() >= deadlineMs) return;
    // Before anything is written or read: every table exists with the key the connector writes.
    await this.#guard(() =>
      this.#tables.verify(
        context.assignment.map((tp) => tp.topic),
        this.#retryOptions(deadlineMs),
      ),
    );
    const { offset } = context;
    if (this.#offsetsTable === undefined || offset === undefined) return;
    const options = this.#transactionOptions(this.#offsetsTable, deadlineMs);
    const stored = await Promise.all(context.assignment.map((tp) => readEosOffset(tp, options)));
    const positions: TopicPartitionOffset[] = [];
    for (const [i, tp] of context.assignment.entries()) {
      const expected = stored[i];
      this.#partitions.set(partitionId(tp.topic, tp.partition), { expected });
      if (expected !== undefined)
        positions.push({ topic: tp.topic, partition: tp.partition, offset: expected });
    }
    offset(positions);
  }

  #putDeadlineMs(): number {
    return this.#deadlineMs ?? this.#clock.nowMs() + DEFAULT_PUT_WINDOW_MS;
  }

  async put(records: readonly SinkRecord[]): Promise<void> {
    if (!this.#started) throw new Error('dynamodb sink: put before start or after stop');
    if (records.length === 0) return;
    const deadlineMs = this.#putDeadlineMs();
    await this.#guard(async () => {
      const topics = new Set(records.map((r) => r.topic));
      await this.#tables.verify(topics, this.#retryOptions(deadlineMs));
      if (this.#offsetsTable === undefined) await this.#putAtLeastOnce(records, deadlineMs);
      else await this.#putExactlyOnce(records, this.#offsetsTable, deadlineMs);
    });
  }

  /** Runs `work`; after a failure of the target, the tables are described again by the next task. */
  async #guard(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      if (isTargetFailure(err)) this.#tables.forget();
      throw err;
    }
  }

  #retryOptions(deadlineMs: number): RetryOptions {
    return {
      deadlineMs,
      clock: this.#clock,
      ...(this.#deps.random === undefined ? {} : { random: this.#deps.random }),
    };
  }

  async #putAtLeastOnce(records: readonly SinkRecord[], deadlineMs: number): Promise<void> {
    // Keys first (cheap): refusals of keys are reported before anything is written, and of several
    // records of one item the last one's write takes the place of the others.
    const keys = new Map<string, ItemKey>();
    for (const record of records) {
      let key: ItemKey | undefined;
      try {
        key = this.#tables.checkKey(toItemKey(record, this.#mapping));
      } catch (err) {
        if (!(err instanceof DynamoDbRecordError)) throw err;
        await this.#refuse(record, err);
      }
      if (key === undefined) continue;
      keys.delete(key.identity);
      keys.set(key.identity, key);
    }
    const refused = await writeChunks(this.#marshalledChunks([...keys.values()]), {
      client: this.#deps.client,
      keyAttributes: this.#keyAttributes(),
      ...this.#retryOptions(deadlineMs),
      onRetry: (reason, attempt, delayMs) =>
        attempt === 1 || attempt % 10 === 0
          ? this.#deps.log?.warn('dynamodb sink: retrying a write', { reason, attempt, delayMs })
          : undefined,
    });
    for (const { write, reason } of refused)
      await this.#refuse(write.record, new DynamoDbRecordError(write.record, reason));
  }

  /**
   * The writes of `keys` in chunks, each marshalled when a writer takes it (while the chunks before it are
   * in flight); a value with no DynamoDB form is reported then, and left out.
   */
  #marshalledChunks(keys: readonly ItemKey[]): ChunkSource {
    let next = 0;
    return async () => {
      if (next >= keys.length) return undefined;
      const taken = keys.slice(next, next + BATCH_WRITE_MAX_ITEMS);
      next += taken.length;
      const chunk: ItemWrite[] = [];
      for (const key of taken) {
        try {
          chunk.push(toKeyedWrite(key, this.#mapping));
        } catch (err) {
          if (!(err instanceof DynamoDbRecordError)) throw err;
          await this.#refuse(key.record, err);
        }
      }
      return chunk;
    };
  }

  #transactionOptions(offsetsTable: string, deadlineMs: number): TransactionWriterOptions {
    return {
      client: this.#deps.client,
      offsetsTable,
      connector: this.#connector,
      deadlineMs,
      clock: this.#clock,
      ...(this.#deps.random === undefined ? {} : { random: this.#deps.random }),
      onRetry: (reason, attempt, delayMs) =>
        attempt === 1 || attempt % 10 === 0
          ? this.#deps.log?.warn('dynamodb sink: retrying a transaction', { reason, attempt, delayMs })
          : undefined,
      refuse: (write, reason) => this.#refuse(write.record, new DynamoDbRecordError(write.record, reason)),
    };
  }

  async #putExactlyOnce(records: readonly SinkRecord[], offsetsTable: string, deadlineMs: number) {
    const options = this.#transactionOptions(offsetsTable, deadlineMs);
    const byPartition = new Map<string, SinkRecord[]>();
    for (const record of records) {
      const id = partitionId(record.topic, record.kafkaPartition);
      const list = byPartition.get(id) ?? [];
      list.push(record);
      byPartition.set(id, list);
    }
    // First the offsets, then the mapping (reporting records with no item before anything is written),
    // then the transactions, partition by partition.
    const work: { tp: { topic: string; partition: number }; state: PartitionState; records: SinkRecord[] }[] =
      [];
    for (const [id, list] of byPartition) {
      const tp = { topic: list[0]!.topic, partition: list[0]!.kafkaPartition };
      let state = this.#partitions.get(id);
      if (state === undefined) {
        state = { expected: await readEosOffset(tp, options) };
        this.#partitions.set(id, state);
      }
      const from = state.expected;
      work.push({
        tp,
        state,
        records: from === undefined ? list : list.filter((r) => r.kafkaOffset >= from),
      });
    }
    const planned: PlannedRecord[][] = [];
    for (const { records: list } of work) {
      const out: PlannedRecord[] = [];
      for (const record of list) {
        out.push({ offset: record.kafkaOffset, write: await this.#writeOf(record) });
      }
      planned.push(out);
    }
    for (const [i, { tp, state }] of work.entries()) {
      const list = planned[i]!;
      if (list.length > 0) await writePartition(tp, list, state, options);
    }
  }

  async stop(): Promise<void> {
    this.#started = false;
  }

  #keyAttributes(): string[] {
    const { hash, sort } = this.#mapping;
    return sort === undefined ? [hash.attribute] : [hash.attribute, sort.attribute];
  }

  /** The record's item write; undefined for a record that writes nothing, or one the table cannot take (reported). */
  async #writeOf(record: SinkRecord): Promise<ItemWrite | undefined> {
    try {
      return this.#tables.checkWrite(toItemWrite(record, this.#mapping));
    } catch (err) {
      if (!(err instanceof DynamoDbRecordError)) throw err;
      await this.#refuse(record, err);
      return undefined;
    }
  }

  async #refuse(record: SinkRecord, error: DynamoDbRecordError): Promise<void> {
    if (this.#reporter === undefined) throw error;
    await this.#reporter(record, error);
  }
}
