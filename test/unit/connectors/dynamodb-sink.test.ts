/**
 * The DynamoDB sink without a network: items from records (values, keys, tombstones), configuration, and
 * delivery against a DynamoDB faked with SDK middleware — chunks of 25, UnprocessedItems subsets and
 * throttling retried with backoff, retries bounded by the deadline, refused items as record-level errors.
 */
import { describe, expect, it } from 'vitest';
import { Registry } from '../../../src/config/registry.ts';
import { validateKeys } from '../../../src/config/validate-keys.ts';
import { DynamoDbWriteError } from '../../../src/connectors/dynamodb/batch-writer.ts';
import { dynamodbSinkDef } from '../../../src/connectors/dynamodb/config.ts';
import {
  DynamoDbRecordError,
  type ItemMappingSettings,
  itemMapping,
  toItemWrite,
} from '../../../src/connectors/dynamodb/item-mapping.ts';
import { parseRecordReference } from '../../../src/connectors/dynamodb/record-reference.ts';
import {
  dynamodbSinkClientConfig,
  dynamodbSinkConnector,
} from '../../../src/connectors/dynamodb/sink-connector.ts';
import { DynamoDbSinkTask } from '../../../src/connectors/dynamodb/sink-task.ts';
import type { SinkRecord, SinkTaskContext } from '../../../src/spi/sink.ts';
import { FakeClock, FakeDynamoDb, sinkRecord, throttled, validation } from './dynamodb-sink-fake.ts';

const DEFAULTS: ItemMappingSettings = {
  tableFormat: '${topic}',
  hash: 'partition',
  sort: 'offset',
  onNull: 'ignore',
};

function mapping(settings: Partial<ItemMappingSettings> = {}) {
  return itemMapping({ ...DEFAULTS, ...settings });
}

const context = (extra: Partial<SinkTaskContext> = {}): SinkTaskContext => ({
  connector: 'orders-ddb',
  taskId: 0,
  assignment: [{ topic: 'orders', partition: 0 }],
  ...extra,
});

describe('record references', () => {
  it('parses coordinates, key and value paths, and aliases', () => {
    expect(parseRecordReference('partition')).toMatchObject({ source: 'partition', attribute: 'partition' });
    expect(parseRecordReference('key')).toMatchObject({ source: 'key', path: [], attribute: 'key' });
    expect(parseRecordReference('value.user.id')).toMatchObject({ path: ['user', 'id'], attribute: 'id' });
    expect(parseRecordReference(' key.id:orderId ')).toMatchObject({ source: 'key', attribute: 'orderId' });
    for (const bad of ['', 'offset.x', 'headers.a', 'value..a', 'key:', 'timestamp']) {
      expect(parseRecordReference(bad), bad).toBeUndefined();
    }
  });
});

describe('configuration', () => {
  const validate = (raw: Record<string, string>) => {
    const problems: string[] = [];
    const result = validateKeys(dynamodbSinkDef.schema, raw, {
      file: 'c.properties',
      show: (_k: string, v: string) => v,
    });
    const values = result.values as Record<string, unknown>;
    if (result.problems.length === 0) {
      dynamodbSinkDef.check?.(
        values,
        (p) => problems.push(`${p.key}: ${p.expected}`),
        (_k, v) => v,
      );
    }
    return { values, problems: [...result.problems.map((p) => `${p.key}: ${p.expected}`), ...problems] };
  };

  it("has Confluent's defaults: one table per topic, keyed by partition and offset", () => {
    const { values, problems } = validate({});
    expect(problems).toEqual([]);
    expect(values).toMatchObject({
      'table.name.format': '${topic}',
      'aws.dynamodb.pk.hash': 'partition',
      'aws.dynamodb.pk.sort': 'offset',
      'behavior.on.null.values': 'ignore',
      'delivery.guarantee': 'at-least-once',
    });
  });

  it("is found under Confluent's class name", () => {
    const registry = new Registry().connector(dynamodbSinkDef);
    expect(registry.find('connector', 'io.confluent.connect.aws.dynamodb.DynamoDbSinkConnector')?.name).toBe(
      'dynamodb-sink',
    );
  });

  it('refuses bad references, clashing key names, deletes keyed by value fields, and exactly-once without its offsets table', () => {
    expect(validate({ 'aws.dynamodb.pk.hash': 'headers.x' }).problems).toEqual([
      expect.stringMatching(/^aws.dynamodb.pk.hash: one of topic, partition/),
    ]);
    expect(
      validate({ 'aws.dynamodb.pk.hash': 'key.id', 'aws.dynamodb.pk.sort': 'value.id' }).problems,
    ).toEqual([expect.stringMatching(/^aws.dynamodb.pk.sort: an attribute other than/)]);
    expect(
      validate({
        'aws.dynamodb.pk.hash': 'value.id',
        'aws.dynamodb.pk.sort': '',
        'behavior.on.null.values': 'delete',
      }).problems,
    ).toEqual([expect.stringMatching(/^aws.dynamodb.pk.hash: a reference to the record key/)]);
    expect(validate({ 'table.name.format': 'kafka ${topic}' }).problems).toHaveLength(1);
    expect(validate({ 'delivery.guarantee': 'exactly-once' }).problems).toEqual([
      expect.stringMatching(/^exactly.once.offsets.table: the table of the exactly-once offset items/),
    ]);
    expect(
      validate({ 'delivery.guarantee': 'EXACTLY_ONCE', 'exactly.once.offsets.table': 'connect-fn-offsets' }),
    ).toMatchObject({ problems: [], values: { 'delivery.guarantee': 'exactly-once' } });
    expect(
      validate({ 'delivery.guarantee': 'exactly-once', 'exactly.once.offsets.table': 'no spaces' }).problems,
    ).toEqual([expect.stringMatching(/^exactly.once.offsets.table: a DynamoDB table name/)]);
  });

  it('uses dummy credentials and us-east-1 against a local endpoint, and leaves retries to the task', () => {
    expect(dynamodbSinkClientConfig({ endpoint: 'http://localhost:8000' }, {})).toEqual({
      maxAttempts: 1,
      region: 'us-east-1',
      endpoint: 'http://localhost:8000',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    expect(dynamodbSinkClientConfig({}, { AWS_REGION: 'eu-west-1' })).toEqual({
      maxAttempts: 1,
      region: 'eu-west-1',
    });
  });
});

describe('records as items', () => {
  it('marshalls numbers, bytes, nested maps and lists, and nulls', () => {
    const bytes = new Uint8Array([0, 1, 255]);
    const write = toItemWrite(
      sinkRecord(7, {
        id: 'a',
        n: 1.5,
        big: 12345678901234567890n,
        b: bytes,
        nested: { l: [1, 'x', null] },
        none: null,
      }),
      mapping(),
    );
    expect(write?.table).toBe('orders');
    expect(write?.request.PutRequest?.Item).toEqual({
      id: { S: 'a' },
      n: { N: '1.5' },
      big: { N: '12345678901234567890' },
      b: { B: bytes },
      nested: { M: { l: { L: [{ N: '1' }, { S: 'x' }, { NULL: true }] } } },
      none: { NULL: true },
      partition: { N: '0' },
      offset: { N: '7' },
    });
  });

  it('stores a value that is not an object under the attribute value', () => {
    const write = toItemWrite(sinkRecord(1, 'plain text'), mapping());
    expect(write?.request.PutRequest?.Item).toEqual({
      value: { S: 'plain text' },
      partition: { N: '0' },
      offset: { N: '1' },
    });
  });

  it('builds keys from the record key, key fields, value fields and coordinates', () => {
    const record = sinkRecord(3, { user: { id: 42 } }, { key: { id: 'k1' } });
    const key = (hash: string, sort = '') =>
      toItemWrite(record.key === null ? record : record, mapping({ hash, sort }))?.request.PutRequest?.Item;
    expect(key('key.id', 'value.user.id:uid')).toMatchObject({ id: { S: 'k1' }, uid: { N: '42' } });
    expect(key('topic', 'offset')).toMatchObject({ topic: { S: 'orders' }, offset: { N: '3' } });
    const stringKey = toItemWrite(
      sinkRecord(3, { a: 1 }, { key: 'order-9' }),
      mapping({ hash: 'key:pk', sort: '' }),
    );
    expect(stringKey?.request.PutRequest?.Item).toEqual({ a: { N: '1' }, pk: { S: 'order-9' } });
  });

  it('names the record of a key attribute that is missing or not a scalar', () => {
    const missing = () =>
      toItemWrite(sinkRecord(11, { a: 1 }, { kafkaPartition: 2 }), mapping({ hash: 'value.id', sort: '' }));
    expect(missing).toThrow(DynamoDbRecordError);
    expect(missing).toThrow('record orders-2@11: key attribute id (value.id) is missing from the record');
    const object = () =>
      toItemWrite(sinkRecord(1, { id: { x: 1 } }), mapping({ hash: 'value.id', sort: '' }));
    expect(object).toThrow('is an object, not a string, number or bytes');
  });

  it('refuses values DynamoDB has no form for, without quoting them', () => {
    const nan = () => toItemWrite(sinkRecord(5, { secret: 'ssn-123', n: Number.NaN }), mapping());
    expect(nan).toThrow(
      'record orders-0@5: its value has no DynamoDB form: a number that is NaN or Infinity',
    );
    expect(nan).not.toThrow(/ssn-123/);
  });

  it('ignores, deletes or fails on tombstones', () => {
    const tombstone = sinkRecord(9, null, { key: 'order-9' });
    expect(toItemWrite(tombstone, mapping({ onNull: 'ignore' }))).toBeUndefined();
    expect(toItemWrite(tombstone, mapping({ onNull: 'delete', hash: 'key', sort: '' }))?.request).toEqual({
      DeleteRequest: { Key: { key: { S: 'order-9' } } },
    });
    expect(() => toItemWrite(tombstone, mapping({ onNull: 'fail' }))).toThrow(DynamoDbRecordError);
  });
});

describe('delivery (at least once)', () => {
  function setup(settings: Partial<ItemMappingSettings> = {}, keyAttributes = ['partition', 'offset']) {
    const db = new FakeDynamoDb(keyAttributes);
    const clock = new FakeClock();
    const task = new DynamoDbSinkTask(
      { ...DEFAULTS, ...settings },
      { client: db.client, clock, random: () => 0.5 },
    );
    return { db, clock, task };
  }
  const records = (n: number, from = 0): SinkRecord[] =>
    Array.from({ length: n }, (_, i) => sinkRecord(from + i, { i: from + i }));

  it('writes a put in BatchWriteItem chunks of at most 25 before put returns', async () => {
    const { db, task } = setup();
    await task.start(context({ deadlineMs: Number.MAX_SAFE_INTEGER }));
    await task.put(records(60));
    expect(db.batchSizes.sort()).toEqual([10, 25, 25]);
    expect(db.items('orders')).toHaveLength(60);
  });

  it('retries UnprocessedItems subsets until every item is written', async () => {
    // Prepare: three calls leave every other item, then the first three, then one item unprocessed
    const { db, clock, task } = setup();
    db.faults.push(
      { unprocessed: (r) => r.filter((_, i) => i % 2 === 0) },
      { unprocessed: (r) => r.slice(0, 3) },
      { unprocessed: (r) => r.slice(0, 1) },
    );
    await task.start(context({ deadlineMs: clock.nowMs() + 60_000 }));
    // Act
    await task.put(records(25));
    // Assess: nothing lost, each retry after a backoff that grows
    expect(
      db
        .items('orders')
        .map((item) => Number(item.offset?.N))
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(db.batchSizes).toEqual([25, 13, 3, 1]);
    expect(clock.sleeps).toEqual([38, 75, 150]);
  });

  it('retries ProvisionedThroughputExceededException with backoff and loses nothing', async () => {
    const { db, clock, task } = setup();
    db.faults.push({ throw: throttled() }, { throw: throttled() }, { throw: throttled() });
    await task.start(context({ deadlineMs: clock.nowMs() + 60_000 }));
    await task.put(records(40));
    expect(db.items('orders')).toHaveLength(40);
    expect(clock.sleeps).toHaveLength(3);
  });

  it('gives up at the deadline with a retriable error, attempting nothing after it', async () => {
    // Prepare: DynamoDB throttles for ever
    const { db, clock, task } = setup();
    for (let i = 0; i < 1000; i++) db.faults.push({ throw: throttled() });
    const deadlineMs = clock.nowMs() + 2_000;
    await task.start(context({ deadlineMs }));
    // Act
    const put = task.put(records(5));
    // Assess
    await expect(put).rejects.toBeInstanceOf(DynamoDbWriteError);
    await expect(put).rejects.toMatchObject({ retriable: true, stage: 'TASK_PUT' });
    expect(clock.nowMs()).toBeLessThan(deadlineMs);
    expect(db.batchSizes.length).toBeLessThan(15);
    expect(db.items('orders')).toEqual([]);
  });

  it('without a deadline from the runtime, bounds its retries itself', async () => {
    const { db, clock, task } = setup();
    for (let i = 0; i < 1000; i++) db.faults.push({ throw: throttled() });
    const startMs = clock.nowMs();
    await task.start(context());
    await expect(task.put(records(1))).rejects.toMatchObject({ retriable: true });
    expect(clock.nowMs() - startMs).toBeLessThanOrEqual(30_000);
  });

  it('fails the put on an item DynamoDB refuses, naming it, after writing the others', async () => {
    const { db, task } = setup();
    db.refuse = (item) =>
      item.offset?.N === '12' ? 'Item size has exceeded the maximum allowed size' : undefined;
    await task.start(context({ deadlineMs: Number.MAX_SAFE_INTEGER }));
    const put = task.put(records(30));
    await expect(put).rejects.toBeInstanceOf(DynamoDbRecordError);
    await expect(put).rejects.toThrow(
      'record orders-0@12: DynamoDB refused the item: Item size has exceeded the maximum allowed size',
    );
    expect(db.items('orders')).toHaveLength(29);
  });

  it('hands refused and unmappable records to the errant record reporter and goes on', async () => {
    const { db, task } = setup();
    db.refuse = (item) => (item.offset?.N === '3' ? 'Type mismatch for key' : undefined);
    const reported: string[] = [];
    await task.start(
      context({
        deadlineMs: Number.MAX_SAFE_INTEGER,
        errantRecordReporter: async (record, error) => {
          reported.push(`${record.kafkaOffset}: ${(error as DynamoDbRecordError).reason}`);
        },
      }),
    );
    await task.put([...records(5), sinkRecord(5, { n: Number.POSITIVE_INFINITY })]);
    expect(reported).toEqual([
      '5: its value has no DynamoDB form: a number that is NaN or Infinity',
      '3: DynamoDB refused the item: Type mismatch for key',
    ]);
    expect(db.items('orders')).toHaveLength(4);
  });

  it('fails the put when the reporter does not tolerate the record', async () => {
    const { task } = setup();
    await task.start(
      context({
        errantRecordReporter: async (_record, error) => {
          throw error;
        },
      }),
    );
    await expect(task.put([sinkRecord(1, { n: Number.NaN })])).rejects.toBeInstanceOf(DynamoDbRecordError);
  });

  it('sends one write per item: the last record of a key wins, a delete included', async () => {
    const { db, task } = setup({ hash: 'key', sort: '', onNull: 'delete' }, ['key']);
    await task.start(context());
    await task.put([
      sinkRecord(0, { v: 1 }, { key: 'a' }),
      sinkRecord(1, { v: 1 }, { key: 'b' }),
      sinkRecord(2, { v: 2 }, { key: 'a' }),
      sinkRecord(3, null, { key: 'b' }),
    ]);
    expect(db.batchSizes).toEqual([2]);
    expect(db.items('orders')).toEqual([{ v: { N: '2' }, key: { S: 'a' } }]);
  });

  it('writes a replayed batch to the same items (idempotent)', async () => {
    const { db, task } = setup();
    await task.start(context());
    await task.put(records(10));
    await task.put(records(10));
    expect(db.items('orders')).toHaveLength(10);
  });

  it('fails at once, not retried, on a missing table', async () => {
    const { db, clock, task } = setup();
    const missing = Object.assign(validation('x'), {
      name: 'ResourceNotFoundException',
      message: 'Requested resource not found',
    });
    db.faults.push({ throw: missing });
    await task.start(context({ deadlineMs: clock.nowMs() + 60_000 }));
    await expect(task.put(records(1))).rejects.toMatchObject({
      retriable: false,
      message: expect.stringContaining('BatchWriteItem to orders failed: ResourceNotFoundException'),
    });
    expect(clock.sleeps).toEqual([]);
  });
});

describe('connector', () => {
  it('gives every task the config and shares one client per endpoint', () => {
    const created: unknown[] = [];
    const connector = dynamodbSinkConnector({
      env: {},
      createClient: (config) => {
        created.push(config);
        return new FakeDynamoDb().client;
      },
    });
    const config = {
      'table.name.format': '${topic}',
      'aws.dynamodb.pk.hash': 'partition',
      'aws.dynamodb.pk.sort': 'offset',
      'behavior.on.null.values': 'ignore',
      'aws.dynamodb.endpoint': 'http://localhost:8000',
    };
    const configs = connector.taskConfigs(config, 3);
    expect(configs).toEqual([config, config, config]);
    for (const c of configs) connector.createTask(c);
    expect(created).toHaveLength(1);
  });
});
