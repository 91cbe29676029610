/**
 * The DynamoDB sink without a network: items from records (values, keys, tombstones), configuration, and
 * delivery against a DynamoDB faked with SDK middleware — chunks of 25, UnprocessedItems subsets and
 * throttling retried with backoff, retries bounded by the deadline, refused items as record-level errors.
 */
import { BatchWriteItemCommand, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { convertToAttr, marshall } from '@aws-sdk/util-dynamodb';
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
      logger: expect.any(Object),
      region: 'us-east-1',
      endpoint: 'http://localhost:8000',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    expect(dynamodbSinkClientConfig({}, { AWS_REGION: 'eu-west-1' })).toEqual({
      maxAttempts: 1,
      logger: expect.any(Object),
      region: 'eu-west-1',
    });
  });

  it("spares the SDK's logger middleware from copying every request's input to log nothing", async () => {
    // Prepare: count the calls of the SDK's sensitive-data filter, which its logger middleware applies to
    // the input when the logger has `info`; answer after the request is built, past that middleware
    const filterCalls = async (config: DynamoDBClientConfig) => {
      const client = new DynamoDBClient(config);
      let calls = 0;
      client.middlewareStack.add(
        (next, context) => (args) => {
          const filter = context.inputFilterSensitiveLog;
          context.inputFilterSensitiveLog = (input: unknown) => {
            calls++;
            return filter(input);
          };
          return next(args);
        },
        { step: 'initialize', priority: 'high', name: 'countFilterCalls' },
      );
      client.middlewareStack.add(
        () => async () => ({ output: { UnprocessedItems: {}, $metadata: {} } as never, response: {} }),
        { step: 'build', priority: 'low', name: 'answer' },
      );
      const item = { partition: { N: '0' }, offset: { N: '1' }, v: { S: 'x' } };
      await client.send(
        new BatchWriteItemCommand({ RequestItems: { orders: [{ PutRequest: { Item: item } }] } }),
      );
      return calls;
    };
    const local = dynamodbSinkClientConfig({ endpoint: 'http://localhost:8000' }, {});
    // Act
    // A silent logger that has `info` and `error`, as the SDK's default had before @aws-sdk/core 3.981.2
    // (which skips its NoOpLogger): the middleware copies the input for it
    const silent = () => undefined;
    const withInfo = { debug: silent, info: silent, warn: silent, error: silent };
    const { logger } = local;
    const withInfoLogger = await filterCalls({ ...local, logger: withInfo });
    const withSinkLogger = await filterCalls(local);
    // Assess: a logger with `info` has the input copied; the sink's does not
    expect(withInfoLogger).toBeGreaterThan(0);
    expect(withSinkLogger).toBe(0);
    expect(logger).toBeDefined();
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

  it('makes the items marshall makes, and refuses what marshall refuses, for every kind of value', () => {
    // Prepare: values of every kind a converter or a transform may hand over, nested and at the top
    class Money {
      amount = 1;
    }
    const nullPrototype = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
    const leaves: unknown[] = [
      'text',
      '',
      0,
      -0,
      1.5,
      -7,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
      2 ** 53,
      -(2 ** 60),
      1e300,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      12345678901234567890n,
      true,
      false,
      null,
      new Uint8Array([1, 2]),
      new Set(['a', 'b']),
      new Set([1, 2]),
      new Map([['k', 1]]),
      nullPrototype,
      new Money(),
      { constructor: 'a field' },
      [],
      {},
      [1, undefined, 'x', () => 1],
      { u: undefined, f: () => 1 },
    ];
    const values = [
      ...leaves.map((leaf) => ({ field: leaf })),
      ...leaves.map((leaf) => ({ nested: { list: [leaf, { deeper: leaf }] } })),
      ...leaves.filter((leaf) => leaf !== null), // a null value is a tombstone
    ];
    const outcome = (run: () => unknown) => {
      try {
        return { item: run() };
      } catch (err) {
        return { error: err instanceof DynamoDbRecordError ? err.reason : String(err) };
      }
    };
    const options = { removeUndefinedValues: true, convertClassInstanceToMap: false };
    const key = { partition: { N: '0' }, offset: { N: '1' } };
    for (const [i, value] of values.entries()) {
      // Act
      const ours = outcome(() => toItemWrite(sinkRecord(1, value), mapping())?.request.PutRequest?.Item);
      const theirs = outcome(() => {
        // What the sink did before its own conversion: objects (but arrays and bytes) through marshall
        const container = typeof value === 'object' && value !== null && !Array.isArray(value);
        return container && !(value instanceof Uint8Array)
          ? { ...marshall(value, options), ...key }
          : { value: convertToAttr(value, options), ...key };
      });
      // Assess: the same item, or a refusal where marshall throws
      if ('error' in theirs) expect(ours, `value #${i}`).toHaveProperty('error');
      else expect(ours, `value #${i}`).toEqual(theirs);
    }
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

  it('sends the first chunks of a put while the rest are still to be marshalled', async () => {
    // Prepare: the last record's value notes how many requests DynamoDB had seen when it was marshalled
    const { db, task } = setup();
    let requestsBeforeLast: number | undefined;
    const last = { i: 199 };
    Object.defineProperty(last, 'probe', {
      enumerable: true,
      get: () => {
        requestsBeforeLast ??= db.batchSizes.length;
        return 'read';
      },
    });
    await task.start(context({ deadlineMs: Number.MAX_SAFE_INTEGER }));
    // Act
    await task.put([...records(199), sinkRecord(199, last)]);
    // Assess: chunks went out before the last one was marshalled; everything was written by the return
    expect(requestsBeforeLast).toBeGreaterThan(0);
    expect(db.items('orders')).toHaveLength(200);
    expect(db.batchSizes).toHaveLength(8);
  });

  it('takes no more chunks of a put once a request has failed', async () => {
    // Prepare: the first request fails for good (a missing table); the put has 10 chunks
    const { db, task } = setup();
    db.faults.push({
      throw: Object.assign(validation('x'), { name: 'ResourceNotFoundException', message: 'not found' }),
    });
    await task.start(context({ deadlineMs: Number.MAX_SAFE_INTEGER }));
    // Act
    const put = task.put(records(250));
    // Assess: the put fails with that error after the requests in flight, without sending the rest
    await expect(put).rejects.toMatchObject({ retriable: false });
    expect(db.batchSizes.length).toBeLessThan(10);
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

  it('retries a connection reset the SDK names TimeoutError, rather than taking it for the deadline', async () => {
    // What @smithy/node-http-handler throws when the server goes away mid-request (ECONNRESET, EPIPE)
    const reset = Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' });
    const db = new FakeDynamoDb();
    db.faults.push({ throw: reset }, { throw: reset });
    const warnings: unknown[] = [];
    const clock = new FakeClock();
    const task = new DynamoDbSinkTask(DEFAULTS, {
      client: db.client,
      clock,
      random: () => 0.5,
      log: { warn: (_message, fields) => warnings.push(fields) },
    });
    await task.start(context({ deadlineMs: clock.nowMs() + 60_000 }));
    await task.put(records(30));
    expect(db.items('orders')).toHaveLength(30);
    expect(clock.sleeps).toHaveLength(2);
    expect(warnings).toContainEqual(
      expect.objectContaining({ reason: 'TimeoutError ECONNRESET', attempt: 1 }),
    );
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
      code: 'CONNECT_FN_SINK_TARGET',
      retriable: false,
      message: expect.stringContaining('BatchWriteItem to orders refused: ResourceNotFoundException'),
    });
    expect(clock.sleeps).toEqual([]);
  });
});

describe('the target table, checked before anything is written', () => {
  const targetError = (message: RegExp) =>
    expect.objectContaining({
      code: 'CONNECT_FN_SINK_TARGET',
      retriable: false,
      message: expect.stringMatching(message),
    });
  /** A connector config with Confluent's defaults: one table per topic, keyed by partition and offset. */
  const config = {
    'table.name.format': '${topic}',
    'aws.dynamodb.pk.hash': 'partition',
    'aws.dynamodb.pk.sort': 'offset',
    'behavior.on.null.values': 'ignore',
  };
  const tolerant = (reported: string[]) =>
    context({
      deadlineMs: Number.MAX_SAFE_INTEGER,
      errantRecordReporter: async (record) => {
        reported.push(`${record.kafkaOffset}`);
      },
    });

  it('fails start when the table has another key than the connector writes, naming both', async () => {
    // Prepare: the table is keyed `id`; the connector writes `orderId`
    const db = new FakeDynamoDb(['id']);
    const task = new DynamoDbSinkTask({ ...DEFAULTS, hash: 'key:orderId', sort: '' }, { client: db.client });
    // Act / Assess
    const start = task.start(tolerant([]));
    await expect(start).rejects.toEqual(
      targetError(
        /^dynamodb sink: table "orders" has the key id \(a string\) and no sort key, but the connector writes orderId \(aws.dynamodb.pk.hash=key:orderId\) and no sort key \(aws.dynamodb.pk.sort is empty\)/,
      ),
    );
    expect(db.describes).toEqual(['orders']);
  });

  it('refuses a table without the sort key the connector writes (its items would overwrite each other)', async () => {
    const db = new FakeDynamoDb(['partition']);
    const task = new DynamoDbSinkTask(DEFAULTS, { client: db.client });
    await expect(task.start(tolerant([]))).rejects.toEqual(
      targetError(
        /has the key partition \(a number\) and no sort key, but .* sort key offset \(aws.dynamodb.pk.sort=offset\)/,
      ),
    );
  });

  it('refuses a table whose key type differs from what a coordinate gives', async () => {
    const db = new FakeDynamoDb();
    db.keyTypes.set('partition', 'S');
    const task = new DynamoDbSinkTask(DEFAULTS, { client: db.client });
    await expect(task.start(tolerant([]))).rejects.toEqual(targetError(/has the key partition \(a string\)/));
  });

  it('fails on a missing table or a DescribeTable it may not make, naming the table', async () => {
    const db = new FakeDynamoDb();
    const named = (name: string, message: string) => Object.assign(validation(message), { name });
    db.describeFaults.push(named('ResourceNotFoundException', 'Requested resource not found'));
    db.describeFaults.push(
      named('AccessDeniedException', 'not authorized to perform: dynamodb:DescribeTable'),
    );
    const missing = new DynamoDbSinkTask(DEFAULTS, { client: db.client });
    const denied = new DynamoDbSinkTask(DEFAULTS, { client: db.client });
    await expect(missing.start(tolerant([]))).rejects.toEqual(targetError(/table "orders" does not exist/));
    await expect(denied.start(tolerant([]))).rejects.toEqual(
      targetError(/not allowed to describe table "orders" .*needs dynamodb:DescribeTable/),
    );
  });

  it('describes a table once per process, shared by the tasks of the connector', async () => {
    const db = new FakeDynamoDb();
    const connector = dynamodbSinkConnector({ env: {}, createClient: () => db.client });
    for (let i = 0; i < 3; i++) {
      const task = connector.createTask(config);
      await task.start(context({ deadlineMs: Number.MAX_SAFE_INTEGER }));
      await task.put([sinkRecord(i, { i })]);
      await task.stop();
    }
    expect(db.describes).toEqual(['orders']);
    expect(db.items('orders')).toHaveLength(3);
  });

  it('under errors.tolerance=all, fails on an item refused for the key of a table that changed, and describes it again', async () => {
    // Prepare: the table was described with the right key, then DynamoDB refuses items for their key
    const db = new FakeDynamoDb();
    const connector = dynamodbSinkConnector({ env: {}, createClient: () => db.client });
    const reported: string[] = [];
    const task = connector.createTask(config);
    await task.start(tolerant(reported));
    db.refuse = () => 'One or more parameter values were invalid: Missing the key id in the item';
    // Act
    const put = task.put([sinkRecord(0, { a: 1 }), sinkRecord(1, { a: 2 })]);
    // Assess: a target failure, no record handed to the reporter, nothing written; the next task asks again
    await expect(put).rejects.toEqual(targetError(/refused a write to "orders" for its key/));
    expect(reported).toEqual([]);
    expect(db.items('orders')).toEqual([]);
    await connector.createTask(config).start(tolerant(reported));
    expect(db.describes).toEqual(['orders', 'orders']);
  });

  it('reports a record whose key value has another type than the table key, without sending it', async () => {
    const db = new FakeDynamoDb(['id']);
    const task = new DynamoDbSinkTask({ ...DEFAULTS, hash: 'value.id', sort: '' }, { client: db.client });
    const reported: string[] = [];
    await task.start(
      context({
        deadlineMs: Number.MAX_SAFE_INTEGER,
        errantRecordReporter: async (record, error) => {
          reported.push(`${record.kafkaOffset}: ${(error as DynamoDbRecordError).reason}`);
        },
      }),
    );
    await task.put([sinkRecord(0, { id: 'a' }), sinkRecord(1, { id: 7 })]);
    expect(reported).toEqual(['1: key attribute id is a number, but table "orders" keys it as a string']);
    expect(db.batchSizes).toEqual([1]);
    expect(db.singleWrites).toBe(0);
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
