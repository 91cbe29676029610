/**
 * A DynamoDB behind SDK middleware, for the DynamoDB sink's unit tests: a real `DynamoDBClient` whose
 * `initialize` step answers BatchWriteItem, PutItem and DeleteItem from an in-memory table instead of the
 * network. Faults are scripted per BatchWriteItem call: throw an error, or leave some items unprocessed.
 */
import {
  type AttributeValue,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
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

  constructor(readonly keyAttributes: readonly string[] = ['partition', 'offset']) {
    this.client = new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    this.client.middlewareStack.add(
      () => async (args) => {
        const input = args.input as Record<string, unknown>;
        return { output: this.#answer(input) as never, response: {} };
      },
      { step: 'initialize', name: 'fakeDynamoDb' },
    );
  }

  items(table: string): Item[] {
    return [...(this.tables.get(table)?.values() ?? [])];
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
    const key = this.keyAttributes.map((a) => JSON.stringify(source[a])).join('|');
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
