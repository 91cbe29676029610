/**
 * A DynamoDB behind SDK middleware, for the DynamoDB sink's unit tests: a real `DynamoDBClient` whose
 * `initialize` step answers BatchWriteItem, PutItem and DeleteItem from an in-memory table instead of the
 * network. Faults are scripted per BatchWriteItem call: throw an error, or leave some items unprocessed.
 * TransactWriteItems and GetItem are answered too (for exactly-once): a transaction is checked as DynamoDB
 * does (≤ 100 actions, ≤ 4 MB, one action per item, the conditions of the sink's offset updates) and
 * applied as a whole or not at all; `transactFaults` throw instead of the next calls.
 */
import {
  type AttributeValue,
  type CancellationReason,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
  type TransactWriteItem,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { SinkRecord } from '../../../src/spi/sink.ts';

type Item = Record<string, AttributeValue>;

/** What one BatchWriteItem call does instead of writing everything. */
export type BatchFault =
  | { readonly throw: Error }
  /** Writes the requests not chosen; returns the chosen ones as UnprocessedItems. */
  | { readonly unprocessed: (requests: readonly WriteRequest[]) => readonly WriteRequest[] };

export const throttled = () =>
  new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} });

/** What DynamoDB answers to an item it cannot take (the SDK has no class for it: it is not modelled). */
export const validation = (message: string) =>
  Object.assign(new Error(message), { name: 'ValidationException', $fault: 'client', $metadata: {} });

export class FakeDynamoDb {
  /** Items by table, then by rendered key. */
  readonly tables = new Map<string, Map<string, Item>>();
  /** Every BatchWriteItem call's request count. */
  readonly batchSizes: number[] = [];
  /** PutItem / DeleteItem calls. */
  singleWrites = 0;
  /** Faults for the next BatchWriteItem calls, in order. */
  readonly faults: BatchFault[] = [];
  /** Items refused by every write (e.g. "too large"): a predicate on the item. */
  refuse: ((item: Item) => string | undefined) | undefined;
  readonly client: DynamoDBClient;
  /** Key attributes of tables other than the default `keyAttributes` (e.g. the offsets table: pk, sk). */
  readonly tableKeys = new Map<string, readonly string[]>();
  /** Every committed transaction's actions, in order. */
  readonly transactions: TransactWriteItem[][] = [];
  /** TransactWriteItems calls, committed or not. */
  transactCalls = 0;
  /** GetItem calls. */
  reads = 0;
  /** Errors thrown by the next TransactWriteItems calls, in order (instead of answering). */
  readonly transactFaults: Error[] = [];
  /** Called before each TransactWriteItems is answered (e.g. to move an offset item, as a zombie would). */
  beforeTransact: (() => void) | undefined;
  /** DescribeTable calls, by table. */
  readonly describes: string[] = [];
  /** Errors thrown by the next DescribeTable calls, in order (instead of answering). */
  readonly describeFaults: Error[] = [];
  /** Key attribute types (default: N for `partition`, `offset` and `kafka_offset`, S for any other). */
  readonly keyTypes = new Map<string, 'S' | 'N' | 'B'>();

  constructor(readonly keyAttributes: readonly string[] = ['partition', 'offset']) {
    this.client = new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    this.client.middlewareStack.add(
      (_next, context) => async (args) => {
        const input = args.input as Record<string, unknown>;
        if (context.commandName === 'DescribeTableCommand') {
          return { output: this.#describe(String(input.TableName)) as never, response: {} };
        }
        const output =
          context.commandName === 'TransactWriteItemsCommand'
            ? this.#transact(input.TransactItems as TransactWriteItem[])
            : context.commandName === 'GetItemCommand'
              ? this.#get(input)
              : this.#answer(input);
        return { output: output as never, response: {} };
      },
      { step: 'initialize', name: 'fakeDynamoDb' },
    );
  }

  items(table: string): Item[] {
    return [...(this.tables.get(table)?.values() ?? [])];
  }

  /** The item of `table` with the key of `item` (or a key). */
  item(table: string, key: Item): Item | undefined {
    return this.tables.get(table)?.get(this.#rowKey(table, key));
  }

  /** Writes an item directly (test setup, a zombie's write). */
  putItem(table: string, item: Item): void {
    const rows = this.tables.get(table) ?? new Map<string, Item>();
    this.tables.set(table, rows);
    rows.set(this.#rowKey(table, item), item);
  }

  #rowKey(table: string, item: Item): string {
    return (this.tableKeys.get(table) ?? this.keyAttributes).map((a) => JSON.stringify(item[a])).join('|');
  }

  /** DescribeTable: the key of the table (`tableKeys`, else `keyAttributes`), hash then sort. */
  #describe(table: string): unknown {
    this.describes.push(table);
    const fault = this.describeFaults.shift();
    if (fault !== undefined) throw fault;
    const keys = this.tableKeys.get(table) ?? this.keyAttributes;
    const typeOf = (name: string) =>
      this.keyTypes.get(name) ?? (['partition', 'offset', 'kafka_offset'].includes(name) ? 'N' : 'S');
    return {
      Table: {
        TableName: table,
        KeySchema: keys.map((name, i) => ({ AttributeName: name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
        AttributeDefinitions: keys.map((name) => ({ AttributeName: name, AttributeType: typeOf(name) })),
      },
      $metadata: {},
    };
  }

  #get(input: Record<string, unknown>): unknown {
    this.reads++;
    const item = this.item(String(input.TableName), input.Key as Item);
    return { ...(item === undefined ? {} : { Item: item }), $metadata: {} };
  }

  #transact(actions: TransactWriteItem[]): unknown {
    this.transactCalls++;
    this.beforeTransact?.();
    const fault = this.transactFaults.shift();
    if (fault !== undefined) throw fault;
    if (actions.length > 100) throw validation('Member must have length less than or equal to 100');
    if (JSON.stringify(actions).length > 4 * 1024 * 1024) throw validation('Transaction request too large');
    const seen = new Set<string>();
    for (const action of actions) {
      const table = String((action.Put ?? action.Delete ?? action.Update)?.TableName);
      const key = action.Put?.Item ?? action.Delete?.Key ?? action.Update?.Key ?? {};
      const id = `${table}|${this.#rowKey(table, key)}`;
      if (seen.has(id)) {
        throw validation('Transaction request cannot include multiple operations on one item');
      }
      seen.add(id);
      const reason = action.Put?.Item ? this.refuse?.(action.Put.Item) : undefined;
      if (reason !== undefined) throw validation(reason);
    }
    const reasons: CancellationReason[] = actions.map((action) => {
      const update = action.Update;
      if (update?.ConditionExpression === undefined) return { Code: 'None' };
      const old = this.item(update.TableName ?? '', update.Key ?? {});
      const attr = update.ExpressionAttributeNames?.['#offset'] ?? 'kafka_offset';
      const expected = update.ExpressionAttributeValues?.[':expected']?.N;
      const ok = update.ConditionExpression.startsWith('attribute_not_exists')
        ? old?.[attr] === undefined
        : old?.[attr]?.N === expected;
      if (ok) return { Code: 'None' };
      return {
        Code: 'ConditionalCheckFailed',
        Message: 'The conditional request failed',
        ...(old !== undefined && update.ReturnValuesOnConditionCheckFailure === 'ALL_OLD'
          ? { Item: old }
          : {}),
      };
    });
    if (reasons.some((r) => r.Code !== 'None')) {
      throw new TransactionCanceledException({
        message: 'Transaction cancelled',
        $metadata: {},
        CancellationReasons: reasons,
      });
    }
    for (const action of actions) {
      if (action.Put) this.putItem(String(action.Put.TableName), action.Put.Item ?? {});
      else if (action.Delete)
        this.#apply(String(action.Delete.TableName), { DeleteRequest: { Key: action.Delete.Key ?? {} } });
      else if (action.Update) {
        const table = String(action.Update.TableName);
        const key = action.Update.Key ?? {};
        const values = action.Update.ExpressionAttributeValues ?? {};
        const attr = action.Update.ExpressionAttributeNames?.['#offset'] ?? 'kafka_offset';
        this.putItem(table, {
          ...this.item(table, key),
          ...key,
          [attr]: values[':next'] ?? { NULL: true },
          updatedAtMs: values[':now'] ?? { NULL: true },
        });
      }
    }
    this.transactions.push(actions);
    return { $metadata: {} };
  }

  #answer(input: Record<string, unknown>): unknown {
    if ('RequestItems' in input) return this.#batch(input.RequestItems as Record<string, WriteRequest[]>);
    this.singleWrites++;
    const table = String(input.TableName);
    if ('Item' in input) this.#apply(table, { PutRequest: { Item: input.Item as Item } });
    else this.#apply(table, { DeleteRequest: { Key: input.Key as Item } });
    return { $metadata: {} };
  }

  #batch(requestItems: Record<string, WriteRequest[]>): unknown {
    const all = Object.values(requestItems).flat();
    this.batchSizes.push(all.length);
    if (all.length > 25) throw validation('Too many items requested for the BatchWriteItem call');
    for (const request of all) {
      const reason = request.PutRequest?.Item ? this.refuse?.(request.PutRequest.Item) : undefined;
      if (reason !== undefined) throw validation(reason);
    }
    const fault = this.faults.shift();
    if (fault !== undefined && 'throw' in fault) throw fault.throw;
    const unprocessed: Record<string, WriteRequest[]> = {};
    for (const [table, requests] of Object.entries(requestItems)) {
      const left = fault === undefined ? [] : fault.unprocessed(requests);
      for (const request of requests) if (!left.includes(request)) this.#apply(table, request);
      if (left.length > 0) unprocessed[table] = [...left];
    }
    return { UnprocessedItems: unprocessed, $metadata: {} };
  }

  #apply(table: string, request: WriteRequest): void {
    const refused = request.PutRequest?.Item ? this.refuse?.(request.PutRequest.Item) : undefined;
    if (refused !== undefined) throw validation(refused);
    const rows = this.tables.get(table) ?? new Map<string, Item>();
    this.tables.set(table, rows);
    const source = request.PutRequest?.Item ?? request.DeleteRequest?.Key ?? {};
    const key = this.#rowKey(table, source);
    if (request.PutRequest?.Item) rows.set(key, request.PutRequest.Item);
    else rows.delete(key);
  }
}

/** A clock that only moves when slept on. */
export class FakeClock {
  nowMs_ = 1_000_000;
  readonly sleeps: number[] = [];
  nowMs(): number {
    return this.nowMs_;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.nowMs_ += ms;
  }
}

export function sinkRecord(offset: number, value: unknown, extra: Partial<SinkRecord> = {}): SinkRecord {
  return {
    topic: 'orders',
    kafkaPartition: 0,
    kafkaOffset: offset,
    timestamp: 0,
    key: null,
    value,
    headers: [],
    ...extra,
  };
}
