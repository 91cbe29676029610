/**
 * The exactly-once write of one partition's records: TransactWriteItems, each transaction holding the
 * item writes of a run of consecutive records and a conditional update of the partition's offset item.
 *
 * The offset item (DESIGN.md §4's key layout, kept apart from the lease-guarded sink offsets by its `sk`):
 * `pk` = connector name, `sk` = `#eos#{"kafka_topic":"t","kafka_partition":0}`, `kafka_offset` (N) = the
 * offset after the last record applied, `updatedAtMs` (N). A transaction's offset action requires
 * `kafka_offset` to equal the offset the writer expects (or the attribute not to exist, for the first) and
 * sets it to the offset after the transaction's last record. So the items and the offset move together,
 * and a transaction built on a stale offset — a replayed batch, a zombie invocation, a retry of a
 * transaction whose answer was lost — is refused as a whole: nothing of it is applied twice.
 *
 * - Chunks: at most {@link TRANSACT_MAX_ITEMS} distinct items + the offset action (DynamoDB's 100), and at
 *   most {@link TRANSACT_SIZE_BUDGET} bytes of items by {@link estimateItemSize} (DynamoDB's 4 MB, less a
 *   margin for the estimate). A transaction cannot touch an item twice: of several records writing one
 *   item in a chunk, the last one's write is sent (what writing them in order would leave).
 * - Refused by the condition (TransactionCanceledException, the offset action's reason
 *   ConditionalCheckFailed): the stored offset comes back with `ReturnValuesOnConditionCheckFailure:
 *   ALL_OLD` (or, when it does not, a consistent read); records below it are already applied and are
 *   dropped, the rest are sent again expecting the stored offset.
 * - Throttling, TransactionConflict, server faults, lost connections: retried with jittered backoff until
 *   the deadline (batch-writer.ts's helpers), then a retriable error. Retrying after a lost answer is
 *   safe: if the first attempt was applied, the condition refuses the second and the records are dropped.
 * - An item DynamoDB refuses (ValidationException, or a ValidationError reason): the chunk is sent again
 *   one record's write per transaction, so the refused record is found, handed to `refuse` (which throws
 *   unless it is tolerated) and passed over by the offset; the others are applied. A refusal for the
 *   table's key, a missing table, access denied are target failures (target-failures.ts): they throw a
 *   `SinkTargetError`, never reach `refuse`.
 *
 * @example
 * ```ts
 * const state = { expected: await readEosOffset(tp, options) };
 * await writePartition(tp, planned.filter((r) => r.offset >= (state.expected ?? 0)), state, options);
 * ```
 * @module
 */
import {
  type AttributeValue,
  type CancellationReason,
  type DynamoDBClient,
  GetItemCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import type { TopicPartition } from '../../spi/sink.ts';
import {
  backoff,
  DynamoDbWriteError,
  deadlineFailure,
  errorName,
  isTransientFailure,
  type RetryOptions,
  requestFailure,
  withinDeadline,
} from './batch-writer.ts';
import type { ItemWrite } from './item-mapping.ts';
import { isKeySchemaRefusal, keySchemaChanged } from './target-failures.ts';

/** TransactWriteItems' limit on actions. */
export const TRANSACT_MAX_ACTIONS = 100;
/** Item actions per transaction: one action is the offset update. */
export const TRANSACT_MAX_ITEMS = TRANSACT_MAX_ACTIONS - 1;
/** TransactWriteItems' limit on the aggregate size of its items. */
export const TRANSACT_MAX_BYTES = 4 * 1024 * 1024;
/** What the chunker fills a transaction to, by {@link estimateItemSize}: 4 MB less 128 KiB of margin. */
export const TRANSACT_SIZE_BUDGET = TRANSACT_MAX_BYTES - 128 * 1024;
/** What each action adds to the estimate besides its item (table name, key, expression overhead). */
const ACTION_OVERHEAD_BYTES = 100;

/** The attribute of the offset item that holds the offset. */
export const EOS_OFFSET_ATTRIBUTE = 'kafka_offset';
/** The prefix of the offset items' `sk`. */
export const EOS_SK_PREFIX = '#eos#';

/** The key of a partition's offset item. */
export function eosOffsetKey(connector: string, tp: TopicPartition): Record<string, AttributeValue> {
  const partition = JSON.stringify({ kafka_topic: tp.topic, kafka_partition: tp.partition });
  return { pk: { S: connector }, sk: { S: `${EOS_SK_PREFIX}${partition}` } };
}

/** One record of a partition, mapped: its write, or none (an ignored tombstone, a reported record). */
export interface PlannedRecord {
  readonly offset: number;
  readonly write: ItemWrite | undefined;
}

/** One transaction's worth of consecutive records. */
export interface TransactionChunk {
  /** The item writes, at most one per item. */
  readonly writes: readonly ItemWrite[];
  /** How many of the records (from the first) it covers. */
  readonly count: number;
  /** The offset after its last record: what the offset item is set to. */
  readonly nextOffset: number;
}

/** DynamoDB's item size, approximately: attribute names and values in bytes (numbers by their digits). */
export function estimateItemSize(item: Record<string, AttributeValue>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return value.N.length;
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((n, s) => n + s.length, 0);
  if (value.BS !== undefined) return value.BS.reduce((n, b) => n + b.byteLength, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((n, v) => n + 1 + valueSize(v), 0);
  if (value.M !== undefined) return 3 + estimateItemSize(value.M) + Object.keys(value.M).length;
  return 1;
}

function writeSize(write: ItemWrite): number {
  const item = write.request.PutRequest?.Item ?? write.request.DeleteRequest?.Key ?? {};
  return ACTION_OVERHEAD_BYTES + Buffer.byteLength(write.table) + estimateItemSize(item);
}

export interface ChunkLimits {
  readonly maxItems: number;
  readonly maxBytes: number;
  /** Stop before a second write (even of the same item): to find the record DynamoDB refuses. */
  readonly oneWrite?: boolean;
}

const DEFAULT_LIMITS: ChunkLimits = { maxItems: TRANSACT_MAX_ITEMS, maxBytes: TRANSACT_SIZE_BUDGET };

/**
 * The longest run of `records` (non-empty, in offset order) from the first that fits one transaction
 * (see the module doc); at least one record, whatever its size.
 */
export function planChunk(
  records: readonly PlannedRecord[],
  limits: ChunkLimits = DEFAULT_LIMITS,
): TransactionChunk {
  const writes = new Map<string, { write: ItemWrite; size: number }>();
  let bytes = 0;
  let count = 0;
  let writesSeen = 0;
  for (const record of records) {
    const write = record.write;
    if (write !== undefined) {
      if (limits.oneWrite === true && writesSeen > 0) break;
      const size = writeSize(write);
      const earlier = writes.get(write.identity);
      const items = writes.size + (earlier === undefined ? 1 : 0);
      const total = bytes - (earlier?.size ?? 0) + size;
      if (count > 0 && (items > limits.maxItems || total > limits.maxBytes)) break;
      writes.delete(write.identity);
      writes.set(write.identity, { write, size });
      bytes = total;
      writesSeen++;
    }
    count++;
  }
  const last = records[count - 1];
  if (last === undefined) throw new TypeError('planChunk: no records');
  return { writes: [...writes.values()].map((w) => w.write), count, nextOffset: last.offset + 1 };
}

export interface TransactionWriterOptions extends RetryOptions {
  readonly client: DynamoDBClient;
  /** The table of the offset items (`exactly.once.offsets.table`). */
  readonly offsetsTable: string;
  readonly connector: string;
  /** A record DynamoDB refused: resolves when tolerated (it is passed over), rejects otherwise. */
  readonly refuse: (write: ItemWrite, reason: string) => Promise<void>;
}

/** Where a partition stands: the offset its offset item holds (undefined: no item yet). */
export interface PartitionState {
  expected: number | undefined;
}

/** What {@link writePartition} did. */
export interface PartitionOutcome {
  /** Transactions committed. */
  readonly transactions: number;
  /** Records found already applied (below the stored offset) after a refused condition. */
  readonly skipped: number;
}

/** The stored offset of `tp` (a consistent read), retried within the deadline. */
export async function readEosOffset(
  tp: TopicPartition,
  options: TransactionWriterOptions,
): Promise<number | undefined> {
  const command = new GetItemCommand({
    TableName: options.offsetsTable,
    Key: eosOffsetKey(options.connector, tp),
    ConsistentRead: true,
    ProjectionExpression: EOS_OFFSET_ATTRIBUTE,
  });
  for (let attempt = 0; ; attempt++) {
    try {
      const out = await withinDeadline(options, (abortSignal) =>
        options.client.send(command, { abortSignal }),
      );
      return storedOffset(out.Item);
    } catch (err) {
      if (err instanceof DynamoDbWriteError) throw err;
      if (!isTransientFailure(err)) {
        throw requestFailure('GetItem', err, [{ table: options.offsetsTable }]);
      }
      await backoff(options, attempt, errorName(err), [tp], err);
    }
  }
}

function storedOffset(item: Record<string, AttributeValue> | undefined): number | undefined {
  const n = item?.[EOS_OFFSET_ATTRIBUTE]?.N;
  return n === undefined ? undefined : Number(n);
}

/**
 * Applies `records` (one partition's, in offset order, none below `state.expected`) exactly once, moving
 * `state.expected` with every committed transaction (see the module doc).
 */
export async function writePartition(
  tp: TopicPartition,
  records: readonly PlannedRecord[],
  state: PartitionState,
  options: TransactionWriterOptions,
): Promise<PartitionOutcome> {
  let pending: PlannedRecord[] = [...records];
  let transactions = 0;
  let skipped = 0;
  // While below this offset, one write per transaction (after DynamoDB refused an item of a chunk).
  let oneByOneUntil = Number.NEGATIVE_INFINITY;
  let attempt = 0;
  while (pending.length > 0) {
    const first = pending[0]!;
    const oneWrite = first.offset < oneByOneUntil;
    const chunk = planChunk(pending, oneWrite ? { ...DEFAULT_LIMITS, oneWrite } : DEFAULT_LIMITS);
    const outcome = await sendChunk(tp, chunk, state.expected, options);
    switch (outcome.kind) {
      case 'committed':
        transactions++;
        attempt = 0;
        state.expected = chunk.nextOffset;
        pending = pending.slice(chunk.count);
        break;
      case 'stale': {
        // Someone (an earlier attempt, a zombie, a replay's original) moved the offset: what is below it
        // is applied; the rest goes again, expecting what is stored.
        const stored = outcome.stored === null ? await readEosOffset(tp, options) : outcome.stored;
        state.expected = stored;
        const keep = stored === undefined ? 0 : pending.findIndex((r) => r.offset >= stored);
        const drop = keep < 0 ? pending.length : keep;
        skipped += drop;
        pending = pending.slice(drop);
        if (options.clock.nowMs() >= options.deadlineMs) {
          throw deadlineFailure('the invocation deadline passed while the offset item kept moving');
        }
        break;
      }
      case 'refused': {
        if (!oneWrite && chunk.writes.length > 0) {
          oneByOneUntil = chunk.nextOffset;
          break;
        }
        const refusedAt = pending.findIndex((r) => r.write !== undefined && chunk.writes.includes(r.write));
        const record = pending[refusedAt];
        if (record?.write === undefined) {
          throw requestFailure('TransactWriteItems', outcome.error, chunk.writes);
        }
        await options.refuse(record.write, outcome.reason);
        pending[refusedAt] = { offset: record.offset, write: undefined };
        break;
      }
      case 'retry':
        await backoff(options, attempt++, outcome.reason, chunk.writes, outcome.error);
        break;
    }
  }
  return { transactions, skipped };
}

type ChunkOutcome =
  | { readonly kind: 'committed' }
  /** The condition refused it; `stored` is the offset item's (undefined: none), null when not returned. */
  | { readonly kind: 'stale'; readonly stored: number | undefined | null }
  | { readonly kind: 'refused'; readonly reason: string; readonly error: unknown }
  | { readonly kind: 'retry'; readonly reason: string; readonly error: unknown };

const RETRIED_REASONS = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
  'InternalServerError',
]);

async function sendChunk(
  tp: TopicPartition,
  chunk: TransactionChunk,
  expected: number | undefined,
  options: TransactionWriterOptions,
): Promise<ChunkOutcome> {
  const command = new TransactWriteItemsCommand({
    TransactItems: [...chunk.writes.map(itemAction), offsetAction(tp, chunk.nextOffset, expected, options)],
  });
  try {
    await withinDeadline(options, (abortSignal) => options.client.send(command, { abortSignal }));
    return { kind: 'committed' };
  } catch (err) {
    if (err instanceof DynamoDbWriteError) throw err;
    const name = err instanceof Error ? err.name : undefined;
    if (name === 'ValidationException') {
      const message = (err as Error).message;
      if (isKeySchemaRefusal(message)) throw keySchemaChanged(tablesOf(chunk), message);
      return { kind: 'refused', reason: `DynamoDB refused the item: ${message}`, error: err };
    }
    if (name === 'TransactionCanceledException') {
      const reasons: readonly CancellationReason[] =
        (err as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
      const offsetReason = reasons[chunk.writes.length];
      if (offsetReason?.Code === 'ConditionalCheckFailed') {
        return {
          kind: 'stale',
          stored: offsetReason.Item === undefined ? null : storedOffset(offsetReason.Item),
        };
      }
      const invalid = reasons.find((r) => r.Code === 'ValidationError');
      if (invalid !== undefined && isKeySchemaRefusal(invalid.Message ?? '')) {
        throw keySchemaChanged(tablesOf(chunk), invalid.Message ?? '');
      }
      if (invalid !== undefined) {
        return {
          kind: 'refused',
          reason: `DynamoDB refused the item: ${invalid.Message ?? 'ValidationError'}`,
          error: err,
        };
      }
      const codes = reasons.map((r) => r.Code ?? 'None').filter((c) => c !== 'None');
      if (codes.length === 0 || codes.every((c) => RETRIED_REASONS.has(c))) {
        return { kind: 'retry', reason: `TransactionCanceledException [${codes.join(', ')}]`, error: err };
      }
      throw requestFailure('TransactWriteItems', err, chunk.writes);
    }
    if (isTransientFailure(err)) return { kind: 'retry', reason: errorName(err), error: err };
    throw requestFailure('TransactWriteItems', err, chunk.writes);
  }
}

/** The tables a chunk writes, for messages. */
function tablesOf(chunk: TransactionChunk): string {
  return [...new Set(chunk.writes.map((w) => w.table))].join(', ');
}

function itemAction(write: ItemWrite): TransactWriteItem {
  const { PutRequest, DeleteRequest } = write.request;
  if (PutRequest?.Item !== undefined) return { Put: { TableName: write.table, Item: PutRequest.Item } };
  return { Delete: { TableName: write.table, Key: DeleteRequest?.Key } };
}

function offsetAction(
  tp: TopicPartition,
  nextOffset: number,
  expected: number | undefined,
  options: TransactionWriterOptions,
): TransactWriteItem {
  return {
    Update: {
      TableName: options.offsetsTable,
      Key: eosOffsetKey(options.connector, tp),
      UpdateExpression: 'SET #offset = :next, updatedAtMs = :now',
      ConditionExpression: expected === undefined ? 'attribute_not_exists(#offset)' : '#offset = :expected',
      ExpressionAttributeNames: { '#offset': EOS_OFFSET_ATTRIBUTE },
      ExpressionAttributeValues: {
        ':next': { N: String(nextOffset) },
        ':now': { N: String(Math.round(options.clock.nowMs())) },
        ...(expected === undefined ? {} : { ':expected': { N: String(expected) } }),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}
