/**
 * `offset.storage=dynamodb`: offsets in a DynamoDB table (`offset.storage.table`, shape in
 * ./dynamodb-table.ts), one item per source partition: `pk` = connector, `sk` = the partition as compact
 * JSON (the same bytes as in the Kafka key), `offset` = the offset map as compact JSON, `updatedAtMs`.
 *
 * Each session holds its task's lease (./dynamodb-lease.ts: the newest invocation wins) and every commit
 * is one TransactWriteItems: a ConditionCheck that the session still holds the lease, plus up to 99
 * offset puts/deletes. A session whose lease was taken over gets `FencedError` and writes nothing. A
 * commit of more than 99 partitions is split into several transactions, each fenced on its own: if the
 * lease is lost between two, the earlier ones stay committed. That is safe for at-least-once, because
 * every entry of a commit is already acknowledged on its own.
 *
 * Limits: a partition's JSON is a sort key, so at most 1024 bytes of UTF-8.
 * @module
 */
import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { FencedError } from '../errors.ts';
import type { Clock, OffsetStore } from '../runtime/ports.ts';
import type { SourceOffset } from '../spi/records.ts';
import { decodeValue, utf8 } from './connect-format.ts';
import {
  acquireLease,
  HOLDS_LEASE,
  HOLDS_LEASE_NAMES,
  holdsLeaseValues,
  type LeaseGrant,
  type LeaseLocation,
  leaseKey,
  releaseLease,
} from './dynamodb-lease.ts';
import { ensureOffsetsTable } from './dynamodb-table.ts';
import { OffsetFormatError, OffsetStorageError } from './errors.ts';
import { type EncodedEntry, type EncodedPartition, StoredOffsetSession } from './stored-session.ts';
import { systemClock } from './system-clock.ts';

/** TransactWriteItems takes 100 actions; one is the lease check. */
const ENTRIES_PER_TRANSACTION = 99;
/** BatchGetItem takes 100 keys. */
const KEYS_PER_BATCH_GET = 100;
/** DynamoDB's limit for a sort key. */
const MAX_SORT_KEY_BYTES = 1024;
/** Lambda's longest timeout: a holder cannot live longer. */
const DEFAULT_LEASE_DURATION_MS = 15 * 60_000;
/** Attempts for throttled batch reads and conflicting transactions, with doubling pauses from 50 ms. */
const MAX_ATTEMPTS = 6;
const FIRST_PAUSE_MS = 50;

export interface DynamoDbOffsetStoreOptions {
  /** One client per cold start, e.g. `new DynamoDBClient(dynamoDbClientConfig(...))`. */
  readonly client: DynamoDBClient;
  /** `offset.storage.table`. */
  readonly table: string;
  /** Create the table on first use (local runs); in the cloud the infrastructure creates it. */
  readonly createIfMissing?: boolean;
  /** How long a lease counts as live; default 15 min, Lambda's longest timeout. */
  readonly leaseDurationMs?: number;
  readonly clock?: Clock;
  /** A unique id per session; default `randomUUID`. */
  readonly newOwnerId?: () => string;
}

/**
 * The DynamoDB offset store.
 *
 * @example
 * ```ts
 * const store = new DynamoDbOffsetStore({ client, table: 'connect-fn-offsets', createIfMissing: true });
 * const session = await store.open('orders', 0); // takes task 0's lease
 * const [offset] = await session.read([{ table: 'orders' }]);
 * await session.commit([{ partition: { table: 'orders' }, offset: { id: 42 } }]); // FencedError if taken over
 * await session.close(); // releases the lease if still held
 * ```
 */
export class DynamoDbOffsetStore implements OffsetStore {
  private readonly options: Required<DynamoDbOffsetStoreOptions>;
  private tableReady: Promise<void> | undefined;

  constructor(options: DynamoDbOffsetStoreOptions) {
    this.options = {
      createIfMissing: false,
      leaseDurationMs: DEFAULT_LEASE_DURATION_MS,
      clock: systemClock,
      newOwnerId: randomUUID,
      ...options,
    };
  }

  async open(connector: string, taskId: number): Promise<DynamoDbOffsetSession> {
    const { client, table, clock, leaseDurationMs, newOwnerId } = this.options;
    if (this.options.createIfMissing) {
      this.tableReady ??= ensureOffsetsTable(client, table).catch((err: unknown) => {
        this.tableReady = undefined;
        throw err;
      });
      await this.tableReady;
    }
    const where = { client, table, connector, taskId };
    const grant = await acquireLease(where, newOwnerId(), clock.nowMs(), leaseDurationMs);
    return new DynamoDbOffsetSession(where, grant, clock);
  }
}

/** A task's session: holds the lease in {@link DynamoDbOffsetSession.lease}. */
export class DynamoDbOffsetSession extends StoredOffsetSession {
  private fenced: FencedError | undefined;
  private closed = false;

  constructor(
    private readonly where: LeaseLocation,
    readonly lease: LeaseGrant,
    private readonly clock: Clock,
  ) {
    super(where.connector, where.taskId);
  }

  protected async readStored(partitions: readonly EncodedPartition[]): Promise<Map<string, SourceOffset>> {
    const byPartition = new Map(partitions.map((p) => [p.partitionJson, p.keyJson]));
    const found = new Map<string, SourceOffset>();
    for (let i = 0; i < partitions.length; i += KEYS_PER_BATCH_GET) {
      const keys = partitions.slice(i, i + KEYS_PER_BATCH_GET).map((p) => this.itemKey(p));
      for (const item of await this.batchGet(keys)) {
        const offset = decodeValue(item.offset?.S ?? null);
        const keyJson = byPartition.get(item.sk?.S ?? '');
        if (offset !== null && keyJson !== undefined) found.set(keyJson, offset);
      }
    }
    return found;
  }

  protected async writeStored(entries: readonly EncodedEntry[]): Promise<void> {
    for (const entry of entries) this.itemKey(entry);
    for (let i = 0; i < entries.length; i += ENTRIES_PER_TRANSACTION) {
      await this.commitChunk(entries.slice(i, i + ENTRIES_PER_TRANSACTION));
    }
  }

  async close(): Promise<void> {
    if (this.closed || this.fenced !== undefined) return;
    this.closed = true;
    await releaseLease(this.where, this.lease, this.clock.nowMs());
  }

  /** One fenced transaction: the lease check first, so its cancellation reason is at index 0. */
  private async commitChunk(entries: readonly EncodedEntry[]): Promise<void> {
    if (this.fenced !== undefined) throw this.fenced;
    const { table } = this.where;
    const updatedAtMs = { N: String(this.clock.nowMs()) };
    const items: TransactWriteItem[] = [
      {
        ConditionCheck: {
          TableName: table,
          Key: leaseKey(this.connector, this.taskId),
          ConditionExpression: HOLDS_LEASE,
          ExpressionAttributeNames: HOLDS_LEASE_NAMES,
          ExpressionAttributeValues: holdsLeaseValues(this.lease),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      ...entries.map(
        (e): TransactWriteItem =>
          e.valueJson === null
            ? { Delete: { TableName: table, Key: this.itemKey(e) } }
            : {
                Put: {
                  TableName: table,
                  Item: { ...this.itemKey(e), offset: { S: e.valueJson }, updatedAtMs },
                },
              },
      ),
    ];
    for (let attempt = 1; ; attempt++) {
      try {
        await this.where.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
        return;
      } catch (err) {
        const reasons = err instanceof TransactionCanceledException ? (err.CancellationReasons ?? []) : [];
        if (reasons[0]?.Code === 'ConditionalCheckFailed') throw this.fence(reasons[0].Item);
        // A conflict with a concurrent acquisition: trying again gives a clear answer (commit or fence).
        const conflict = reasons.some((r) => r.Code === 'TransactionConflict');
        if (!conflict || attempt >= MAX_ATTEMPTS) throw this.storageError('commit offsets', err, conflict);
        await this.clock.sleep(FIRST_PAUSE_MS * 2 ** (attempt - 1));
      }
    }
  }

  private async batchGet(keys: Record<string, AttributeValue>[]): Promise<Record<string, AttributeValue>[]> {
    const { client, table } = this.where;
    const items: Record<string, AttributeValue>[] = [];
    let pending = keys;
    for (let attempt = 1; pending.length > 0; attempt++) {
      let response: BatchGetItemCommandOutput;
      try {
        response = await client.send(
          new BatchGetItemCommand({
            RequestItems: {
              [table]: {
                Keys: pending,
                ConsistentRead: true,
                ProjectionExpression: 'sk, #offset',
                ExpressionAttributeNames: { '#offset': 'offset' },
              },
            },
          }),
        );
      } catch (err) {
        throw this.storageError('read offsets', err, true);
      }
      items.push(...(response.Responses?.[table] ?? []));
      pending = response.UnprocessedKeys?.[table]?.Keys ?? [];
      if (pending.length === 0) break;
      if (attempt >= MAX_ATTEMPTS) {
        throw new OffsetStorageError(
          `DynamoDB left ${pending.length} offsets unread after ${attempt} attempts`,
          {
            retriable: true,
          },
        );
      }
      await this.clock.sleep(FIRST_PAUSE_MS * 2 ** (attempt - 1));
    }
    return items;
  }

  private itemKey(partition: EncodedPartition): Record<string, AttributeValue> {
    if (utf8(partition.partitionJson).length > MAX_SORT_KEY_BYTES) {
      throw new OffsetFormatError(
        `a source partition is stored as a DynamoDB sort key, at most ${MAX_SORT_KEY_BYTES} bytes, ` +
          `but ${partition.partitionJson.slice(0, 60)}... is longer`,
      );
    }
    return { pk: { S: this.connector }, sk: { S: partition.partitionJson } };
  }

  private fence(holder: Record<string, AttributeValue> | undefined): FencedError {
    const epoch = holder?.epoch?.N;
    const now = holder?.owner?.S === undefined ? 'released' : `held at epoch ${epoch}`;
    this.fenced = new FencedError(
      `task ${this.taskId} of ${this.connector}: the offsets lease (epoch ${this.lease.epoch}) was taken over ` +
        `by a newer invocation (now ${now}); nothing was committed`,
    );
    return this.fenced;
  }

  private storageError(what: string, err: unknown, retriable: boolean): OffsetStorageError {
    const name = err instanceof Error ? err.name : 'Error';
    const isRetriable = retriable || !['ValidationException', 'ResourceNotFoundException'].includes(name);
    return new OffsetStorageError(
      `cannot ${what} of task ${this.taskId} of ${this.connector} in table ${this.where.table}: ` +
        `${name}: ${(err as Error).message}`,
      { cause: err, retriable: isRetriable },
    );
  }
}
