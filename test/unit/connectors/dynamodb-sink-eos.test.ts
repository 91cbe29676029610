/**
 * The DynamoDB sink with delivery.guarantee=exactly-once, without a network: TransactWriteItems chunks
 * (≤ 100 actions, ≤ 4 MB, one action per item), the conditional offset item, resuming from it, a replay or
 * a zombie's stale transaction refused by the condition and skipped, and injected
 * TransactionCanceledException / throttling retried within the deadline.
 */
import { TransactionCanceledException, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbWriteError } from '../../../src/connectors/dynamodb/batch-writer.ts';
import type { DynamoDbRecordError } from '../../../src/connectors/dynamodb/item-mapping.ts';
import { dynamodbSinkConnector } from '../../../src/connectors/dynamodb/sink-connector.ts';
import { type DynamoDbSinkSettings, DynamoDbSinkTask } from '../../../src/connectors/dynamodb/sink-task.ts';
import {
  eosOffsetKey,
  estimateItemSize,
  planChunk,
  TRANSACT_SIZE_BUDGET,
} from '../../../src/connectors/dynamodb/transaction-writer.ts';
import type { SinkRecord, SinkTaskContext } from '../../../src/spi/sink.ts';
import { FakeClock, FakeDynamoDb, sinkRecord, throttled, validation } from './dynamodb-sink-fake.ts';

const OFFSETS = 'connect-fn-offsets';
const CONNECTOR = 'orders-ddb';
const TP = { topic: 'orders', partition: 0 };

const SETTINGS: DynamoDbSinkSettings = {
  tableFormat: '${topic}',
  hash: 'partition',
  sort: 'offset',
  onNull: 'ignore',
  delivery: 'exactly-once',
  offsetsTable: OFFSETS,
};

const context = (extra: Partial<SinkTaskContext> = {}): SinkTaskContext => ({
  connector: CONNECTOR,
  taskId: 0,
  assignment: [TP],
  deadlineMs: Number.MAX_SAFE_INTEGER,
  ...extra,
});

function fakeDb(keyAttributes = ['partition', 'offset']) {
  const db = new FakeDynamoDb(keyAttributes);
  db.tableKeys.set(OFFSETS, ['pk', 'sk']);
  return db;
}

function newTask(db: FakeDynamoDb, settings: Partial<DynamoDbSinkSettings> = {}, clock = new FakeClock()) {
  return new DynamoDbSinkTask({ ...SETTINGS, ...settings }, { client: db.client, clock, random: () => 0.5 });
}

const records = (n: number, from = 0, value: (o: number) => unknown = (o) => ({ i: o })): SinkRecord[] =>
  Array.from({ length: n }, (_, i) => sinkRecord(from + i, value(from + i)));

const storedOffset = (db: FakeDynamoDb, tp = TP) =>
  db.item(OFFSETS, eosOffsetKey(CONNECTOR, tp))?.kafka_offset?.N;

const offsetsOf = (db: FakeDynamoDb, table = 'orders') =>
  db
    .items(table)
    .map((item) => Number(item.offset?.N))
    .sort((a, b) => a - b);

/** The Kafka offsets a committed transaction covers: [expected, next) of its offset update. */
function coveredRange(actions: readonly TransactWriteItem[]): [number, number] {
  const update = actions[actions.length - 1]?.Update;
  const values = update?.ExpressionAttributeValues ?? {};
  return [Number(values[':expected']?.N ?? 0), Number(values[':next']?.N)];
}

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

describe('exactly-once chunking', () => {
  it('puts at most 99 items and the offset update in one transaction', async () => {
    const db = fakeDb();
    const task = newTask(db);
    await task.start(context());
    await task.put(records(250));
    expect(db.transactions.map((t) => t.length)).toEqual([100, 100, 53]);
    expect(db.transactions.map(coveredRange)).toEqual([
      [0, 99],
      [99, 198],
      [198, 250],
    ]);
    expect(offsetsOf(db)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(storedOffset(db)).toBe('250');
  });

  it('keeps a transaction under 4 MB by the size estimate', async () => {
    const db = fakeDb();
    const task = newTask(db);
    await task.start(context());
    await task.put(records(30, 0, (o) => ({ i: o, blob: 'x'.repeat(300 * 1024) })));
    expect(db.transactions.length).toBeGreaterThan(2);
    for (const actions of db.transactions) {
      const bytes = actions.reduce((n, a) => n + estimateItemSize(a.Put?.Item ?? {}), 0);
      expect(bytes).toBeLessThanOrEqual(TRANSACT_SIZE_BUDGET);
      expect(JSON.stringify(actions).length).toBeLessThan(4 * 1024 * 1024);
    }
    expect(offsetsOf(db)).toHaveLength(30);
  });

  it('sends one action per item in a transaction: the last write of an item wins', async () => {
    const db = fakeDb(['id']);
    const task = newTask(db, { hash: 'key:id', sort: '', onNull: 'delete' });
    await task.start(context());
    await task.put([
      sinkRecord(0, { v: 'a0' }, { key: 'a' }),
      sinkRecord(1, { v: 'b1' }, { key: 'b' }),
      sinkRecord(2, { v: 'a2' }, { key: 'a' }),
      sinkRecord(3, null, { key: 'b' }),
      sinkRecord(4, { v: 'c4' }, { key: 'c' }),
      sinkRecord(5, { v: 'a5' }, { key: 'a' }),
    ]);
    expect(db.transactions).toHaveLength(1);
    expect(db.transactions[0]).toHaveLength(4); // a, b, c + the offset
    expect(
      db
        .items('orders')
        .map((i) => `${i.id?.S}=${i.v?.S}`)
        .sort(),
    ).toEqual(['a=a5', 'c=c4']);
    expect(storedOffset(db)).toBe('6');
  });

  it('plans chunks by distinct items: a repeated item does not count twice', () => {
    const write = (offset: number, id: string) => ({
      offset,
      write: {
        record: sinkRecord(offset, {}),
        table: 't',
        identity: id,
        request: { PutRequest: { Item: { id: { S: id } } } },
      },
    });
    const planned = [
      write(0, 'a'),
      write(1, 'b'),
      write(2, 'a'),
      { offset: 3, write: undefined },
      write(4, 'c'),
    ];
    expect(planChunk(planned, { maxItems: 2, maxBytes: 1e9 })).toMatchObject({ count: 4, nextOffset: 4 });
    expect(
      planChunk(planned, { maxItems: 2, maxBytes: 1e9 }).writes.map((w) => w.record.kafkaOffset),
    ).toEqual([1, 2]);
    expect(planChunk(planned, { maxItems: 99, maxBytes: 1e9, oneWrite: true })).toMatchObject({ count: 1 });
  });
});

describe('exactly-once offsets', () => {
  it('writes the offset item under #eos# with a condition on the previous offset', async () => {
    const db = fakeDb();
    const task = newTask(db);
    await task.start(context());
    await task.put(records(3));
    await task.put(records(2, 3));
    const [first, second] = db.transactions.map((t) => t[t.length - 1]?.Update);
    expect(first).toMatchObject({
      TableName: OFFSETS,
      Key: { pk: { S: CONNECTOR }, sk: { S: '#eos#{"kafka_topic":"orders","kafka_partition":0}' } },
      ConditionExpression: 'attribute_not_exists(#offset)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(second).toMatchObject({
      ConditionExpression: '#offset = :expected',
      ExpressionAttributeValues: { ':expected': { N: '3' }, ':next': { N: '5' } },
    });
    expect(db.reads).toBe(1); // read once per partition in the task's life
  });

  it('resumes from the stored offset: records below it are not written again', async () => {
    const db = fakeDb();
    db.putItem(OFFSETS, { ...eosOffsetKey(CONNECTOR, TP), kafka_offset: { N: '5' } });
    const task = newTask(db);
    await task.start(context());
    await task.put(records(10));
    expect(offsetsOf(db)).toEqual([5, 6, 7, 8, 9]);
    expect(db.transactions.map(coveredRange)).toEqual([[5, 10]]);
    await task.put(records(10)); // the runtime puts the same batch again: dropped without a transaction
    expect(db.transactCalls).toBe(1);
  });

  it('scheduled: start reads every assigned offset item and moves the start there (context.offset)', async () => {
    const db = fakeDb();
    const other = { topic: 'orders', partition: 1 };
    db.putItem(OFFSETS, { ...eosOffsetKey(CONNECTOR, TP), kafka_offset: { N: '7' } });
    const moved: unknown[] = [];
    const task = newTask(db);
    await task.start(context({ assignment: [TP, other], offset: (positions) => moved.push(...positions) }));
    // Only partition 0 has an offset item: partition 1 starts where the runtime says
    expect(moved).toEqual([{ topic: 'orders', partition: 0, offset: 7 }]);
    expect(db.reads).toBe(2);
    await task.put([...records(3, 7), { ...sinkRecord(0, { i: 0 }), kafkaPartition: 1 }]);
    expect(db.reads).toBe(2); // known from start: not read again
    expect(storedOffset(db)).toBe('10');
    expect(storedOffset(db, other)).toBe('1');
  });

  it('scheduled, started with no time left: reads nothing and does not fail (the invocation ends at its deadline)', async () => {
    const db = fakeDb();
    const clock = new FakeClock();
    const moved: unknown[] = [];
    const task = newTask(db, {}, clock);
    await task.start(context({ deadlineMs: clock.nowMs(), offset: (positions) => moved.push(...positions) }));
    expect(db.reads).toBe(0);
    expect(moved).toEqual([]);
  });

  it('triggered (no context.offset): start reads nothing; the first put of a partition reads its offset item', async () => {
    const db = fakeDb();
    const task = newTask(db);
    await task.start(context());
    expect(db.reads).toBe(0);
    await task.put(records(2));
    expect(db.reads).toBe(1);
  });

  it('skips a replayed batch refused by the condition, leaving the items unchanged', async () => {
    // Prepare: the newer invocation applied 0..9 with values "new"
    const db = fakeDb();
    const zombie = newTask(db);
    await zombie.start(context());
    await zombie.put(records(5, 0, () => ({ v: 'zombie' }))); // offset 5, before the newer one started
    const newer = newTask(db);
    await newer.start(context());
    await newer.put(records(10, 0, () => ({ v: 'new' }))); // reads 5, applies 5..9
    const before = structuredClone(db.items('orders'));
    // Act: the zombie goes on with 5..9 expecting 5
    await zombie.put(records(5, 5, () => ({ v: 'zombie' })));
    // Assess: refused by the condition, nothing applied, the stored offset learnt (the next put is dropped)
    expect(db.transactCalls).toBe(3);
    expect(db.transactions).toHaveLength(2);
    expect(db.items('orders')).toEqual(before);
    expect(db.items('orders').map((i) => i.v?.S)).toEqual([
      ...Array(5).fill('zombie'),
      ...Array(5).fill('new'),
    ]);
    await zombie.put(records(3, 7));
    expect(db.transactCalls).toBe(3);
    expect(storedOffset(db)).toBe('10');
  });

  it('applies the records past the stored offset after a refusal, expecting the stored offset', async () => {
    const db = fakeDb();
    const task = newTask(db);
    await task.start(context());
    await task.put(records(4)); // offset 4
    // Someone else applies 4..6 meanwhile (as a zombie would)
    db.beforeTransact = () => {
      db.beforeTransact = undefined;
      db.putItem(OFFSETS, { ...eosOffsetKey(CONNECTOR, TP), kafka_offset: { N: '7' } });
    };
    await task.put(records(6, 4));
    expect(db.transactions.map(coveredRange)).toEqual([
      [0, 4],
      [7, 10],
    ]);
    expect(offsetsOf(db)).toEqual([0, 1, 2, 3, 7, 8, 9]);
    expect(storedOffset(db)).toBe('10');
  });

  it('keeps partitions apart: one offset item each', async () => {
    const db = fakeDb();
    const task = newTask(db);
    await task.start(context({ assignment: [TP, { topic: 'orders', partition: 1 }] }));
    await task.put([...records(3), ...records(2, 10).map((r) => ({ ...r, kafkaPartition: 1 }))]);
    expect(storedOffset(db)).toBe('3');
    expect(storedOffset(db, { topic: 'orders', partition: 1 })).toBe('12');
    expect(db.transactions).toHaveLength(2);
  });
});

describe('exactly-once failures', () => {
  it('retries TransactionConflict and throttling cancellations with backoff, applying each record once', async () => {
    const db = fakeDb();
    const clock = new FakeClock();
    const task = newTask(db, {}, clock);
    db.transactFaults.push(
      cancelled('None', 'TransactionConflict', 'None'),
      cancelled('ThrottlingError', 'None', 'None'),
      throttled(),
      Object.assign(new Error('conflict'), { name: 'TransactionConflictException', $metadata: {} }),
    );
    await task.start(context({ deadlineMs: clock.nowMs() + 60_000 }));
    await task.put(records(2));
    expect(clock.sleeps).toEqual([38, 75, 150, 300]);
    expect(db.transactions).toHaveLength(1);
    expect(offsetsOf(db)).toEqual([0, 1]);
  });

  it('after a transaction whose answer was lost, the retry is refused and the records skipped', async () => {
    const db = fakeDb();
    const clock = new FakeClock();
    const task = newTask(db, {}, clock);
    await task.start(context({ deadlineMs: clock.nowMs() + 60_000 }));
    // The first attempt commits, but the connection drops before the answer
    let lost = true;
    db.beforeTransact = () => {
      if (!lost) return;
      lost = false;
      db.putItem(OFFSETS, { ...eosOffsetKey(CONNECTOR, TP), kafka_offset: { N: '3' } });
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    };
    await task.put(records(3));
    expect(db.transactCalls).toBe(2);
    expect(db.transactions).toHaveLength(0); // the retry was refused: nothing applied twice
    expect(storedOffset(db)).toBe('3');
  });

  it('gives up at the deadline with a retriable error, having applied nothing', async () => {
    const db = fakeDb();
    const clock = new FakeClock();
    const task = newTask(db, {}, clock);
    for (let i = 0; i < 1000; i++) db.transactFaults.push(cancelled('TransactionConflict', 'None'));
    const deadlineMs = clock.nowMs() + 2_000;
    await task.start(context({ deadlineMs }));
    const put = task.put(records(1));
    await expect(put).rejects.toBeInstanceOf(DynamoDbWriteError);
    await expect(put).rejects.toMatchObject({ retriable: true });
    expect(clock.nowMs()).toBeLessThan(deadlineMs);
    expect(db.transactions).toEqual([]);
    expect(storedOffset(db)).toBeUndefined();
  });

  it('fails on a cancellation it cannot retry', async () => {
    const db = fakeDb();
    const task = newTask(db);
    db.transactFaults.push(cancelled('ItemCollectionSizeLimitExceeded', 'None'));
    await task.start(context());
    await expect(task.put(records(1))).rejects.toThrow(/TransactWriteItems to orders.* failed/);
  });

  it('finds an item DynamoDB refuses one record at a time, reports it, and passes over it', async () => {
    const db = fakeDb();
    db.refuse = (item) =>
      item.offset?.N === '3' ? 'Item size has exceeded the maximum allowed size' : undefined;
    const task = newTask(db);
    const reported: string[] = [];
    await task.start(
      context({
        errantRecordReporter: async (record, error) => {
          reported.push(`${record.kafkaOffset}: ${(error as DynamoDbRecordError).reason}`);
        },
      }),
    );
    await task.put(records(6));
    expect(reported).toEqual([
      '3: DynamoDB refused the item: Item size has exceeded the maximum allowed size',
    ]);
    expect(offsetsOf(db)).toEqual([0, 1, 2, 4, 5]);
    expect(storedOffset(db)).toBe('6');
    // Every record in exactly one committed transaction's range
    const ranges = db.transactions.map(coveredRange);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]?.[0]).toBe(ranges[i - 1]?.[1]);
  });

  it('without tolerance, fails the put on a refused item and does not move the offset past it', async () => {
    const db = fakeDb();
    db.refuse = (item) => (item.offset?.N === '3' ? 'Type mismatch' : undefined);
    const task = newTask(db);
    await task.start(context());
    await expect(task.put(records(6))).rejects.toThrow(
      'record orders-0@3: DynamoDB refused the item: Type mismatch',
    );
    expect(storedOffset(db)).toBe('3');
    expect(offsetsOf(db)).toEqual([0, 1, 2]);
  });
});

describe('exactly-once through the connector', () => {
  it('reads delivery.guarantee and exactly.once.offsets.table from the task config', async () => {
    const db = fakeDb();
    const connector = dynamodbSinkConnector({ env: {}, createClient: () => db.client });
    const task = connector.createTask({
      'table.name.format': '${topic}',
      'aws.dynamodb.pk.hash': 'partition',
      'aws.dynamodb.pk.sort': 'offset',
      'behavior.on.null.values': 'ignore',
      'delivery.guarantee': 'exactly-once',
      'exactly.once.offsets.table': OFFSETS,
    });
    await task.start(context());
    await task.put(records(3));
    expect(db.transactions).toHaveLength(1);
    expect(db.batchSizes).toEqual([]);
    expect(storedOffset(db)).toBe('3');
  });

  it('refuses exactly-once without an offsets table', () => {
    const db = fakeDb();
    expect(() => newTask(db, { offsetsTable: undefined })).toThrow(/exactly.once.offsets.table/);
  });

  it('checks the offsets table too: keyed otherwise than pk/sk, it fails start before any read or write', async () => {
    // Prepare: the offsets table is keyed `id`
    const db = fakeDb();
    db.tableKeys.set(OFFSETS, ['id']);
    const task = newTask(db);
    // Act / Assess
    await expect(task.start(context({ offset: () => undefined }))).rejects.toMatchObject({
      code: 'CONNECT_FN_SINK_TARGET',
      message: expect.stringContaining(
        `table "${OFFSETS}" has the key id (a string) and no sort key, but the connector writes pk`,
      ),
    });
    expect(db.reads).toBe(0);
    expect(db.transactCalls).toBe(0);
  });

  it('fails, never skips, a transaction refused for the key of a table that changed, under errors.tolerance=all', async () => {
    const db = fakeDb();
    const reported: number[] = [];
    const task = newTask(db);
    await task.start(context({ errantRecordReporter: async (r) => void reported.push(r.kafkaOffset) }));
    db.transactFaults.push(validation('One of the required keys was not given a value'));
    await expect(task.put(records(3))).rejects.toMatchObject({ code: 'CONNECT_FN_SINK_TARGET' });
    expect(reported).toEqual([]);
    expect(storedOffset(db)).toBeUndefined();
  });
});
