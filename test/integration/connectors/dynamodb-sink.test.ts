/**
 * The DynamoDB sink against a real DynamoDB Local: items round-trip (numbers, bytes, nested maps and lists,
 * nulls), key strategies, tombstone deletes, items DynamoDB refuses as record-level errors, and the
 * scheduled sink function end to end (Kafka → the function → a table).
 */
import { randomUUID } from 'node:crypto';
import { type DynamoDBClient, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbRecordError } from '../../../src/connectors/dynamodb/item-mapping.ts';
import { dynamodbSinkConnector } from '../../../src/connectors/dynamodb/sink-connector.ts';
import { createKafkaClients } from '../../../src/kafka/index.ts';
import { localContext } from '../../../src/lambda/lambda-context.ts';
import type { SinkRecord, SinkTask } from '../../../src/spi/sink.ts';
import { stackEnv } from '../../stack/env.ts';
import { kafkaEventFrom } from '../../support/kafka-events.ts';
import { kafkaWorker } from '../../unit/kafka/worker-values.ts';
import { freshTopic, rawAdmin, utf8 } from '../kafka/support.ts';
import { createTable, localDynamoDb, readPartitions, sinkFunction } from './dynamodb-support.ts';

let client: DynamoDBClient;
beforeAll(() => {
  client = localDynamoDb();
});
afterAll(() => client?.destroy());

async function scan(table: string): Promise<Record<string, unknown>[]> {
  const { Items } = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return (Items ?? []).map((item) => unmarshall(item));
}

interface TaskSettings {
  readonly table: string;
  readonly hash?: string;
  readonly sort?: string;
  readonly onNull?: string;
}

async function startTask(settings: TaskSettings, reporter?: (r: SinkRecord, e: Error) => Promise<void>) {
  const connector = dynamodbSinkConnector({ env: {} });
  const task = connector.createTask({
    'aws.dynamodb.endpoint': stackEnv().dynamodbEndpoint,
    'table.name.format': settings.table,
    'aws.dynamodb.pk.hash': settings.hash ?? 'partition',
    'aws.dynamodb.pk.sort': settings.sort ?? 'offset',
    'behavior.on.null.values': settings.onNull ?? 'ignore',
  });
  await task.start({
    connector: 'ddb',
    taskId: 0,
    assignment: [{ topic: 'orders', partition: 0 }],
    deadlineMs: Date.now() + 30_000,
    ...(reporter === undefined ? {} : { errantRecordReporter: reporter }),
  });
  return task;
}

const rec = (offset: number, value: unknown, key: unknown = null): SinkRecord => ({
  topic: 'orders',
  kafkaPartition: 1,
  kafkaOffset: offset,
  timestamp: 0,
  key,
  value,
  headers: [],
});

describe('dynamodb sink on DynamoDB Local', () => {
  let task: SinkTask | undefined;

  it('writes values that read back the same: numbers, bytes, nested maps and lists, nulls', async () => {
    const table = await createTable(client, 'sink', [
      ['partition', 'N'],
      ['offset', 'N'],
    ]);
    task = await startTask({ table });
    const value = {
      id: 'o-1',
      int: 42,
      float: -1.25,
      big: 12345678901234567890n,
      bytes: new Uint8Array([0, 1, 2, 255]),
      nested: { list: [1, 'two', { three: true }, null], empty: {} },
      none: null,
      emptyText: '',
    };
    await task.put([rec(100, value), rec(101, 'just text')]);
    const { Item } = await client.send(
      new GetItemCommand({
        TableName: table,
        Key: { partition: { N: '1' }, offset: { N: '100' } },
        ConsistentRead: true,
      }),
    );
    const item = unmarshall(Item ?? {}, { wrapNumbers: true });
    expect(item.big.value).toBe('12345678901234567890');
    expect(unmarshall(Item ?? {})).toEqual({
      ...value,
      big: expect.anything(),
      partition: 1,
      offset: 100,
    });
    expect(await scan(table)).toContainEqual({ partition: 1, offset: 101, value: 'just text' });
  });

  it('keys items by the record key, or by value fields, and overwrites on replay', async () => {
    const byKey = await createTable(client, 'sink', [['orderId', 'S']]);
    const byValue = await createTable(client, 'sink', [
      ['customer', 'S'],
      ['seq', 'N'],
    ]);
    const records = [
      rec(0, { customer: 'c1', seq: 1, v: 'a' }, 'k1'),
      rec(1, { customer: 'c1', seq: 2, v: 'b' }, 'k2'),
    ];
    const keyed = await startTask({ table: byKey, hash: 'key:orderId', sort: '' });
    await keyed.put(records);
    await keyed.put(records); // a replay
    const fielded = await startTask({ table: byValue, hash: 'value.customer', sort: 'value.seq' });
    await fielded.put(records);
    expect((await scan(byKey)).map((i) => i.orderId).sort()).toEqual(['k1', 'k2']);
    expect((await scan(byValue)).map((i) => `${i.customer}/${i.seq}/${i.v}`).sort()).toEqual([
      'c1/1/a',
      'c1/2/b',
    ]);
  });

  it('deletes the item of a tombstone', async () => {
    const table = await createTable(client, 'sink', [['key', 'S']]);
    task = await startTask({ table, hash: 'key', sort: '', onNull: 'delete' });
    await task.put([rec(0, { v: 1 }, 'a'), rec(1, { v: 2 }, 'b')]);
    await task.put([rec(2, null, 'a')]);
    expect(await scan(table)).toEqual([{ key: 'b', v: 2 }]);
  });

  it('fails the put on an item over 400 KB, naming the record, after writing the others', async () => {
    const table = await createTable(client, 'sink', [
      ['partition', 'N'],
      ['offset', 'N'],
    ]);
    task = await startTask({ table });
    const put = task.put([
      rec(0, { v: 'small' }),
      rec(1, { v: 'x'.repeat(410 * 1024) }),
      rec(2, { v: 'small' }),
    ]);
    await expect(put).rejects.toBeInstanceOf(DynamoDbRecordError);
    await expect(put).rejects.toThrow(/record orders-1@1: DynamoDB refused the item: .*size/i);
    expect((await scan(table)).map((i) => i.offset).sort()).toEqual([0, 2]);
  });

  it('reports a key of the wrong type, or missing, to the errant record reporter and writes the rest', async () => {
    const table = await createTable(client, 'sink', [['id', 'S']]);
    const reported: string[] = [];
    task = await startTask({ table, hash: 'value.id', sort: '' }, async (r, e) => {
      reported.push(`${r.kafkaOffset}: ${(e as DynamoDbRecordError).reason}`);
    });
    await task.put([rec(0, { id: 'ok' }), rec(1, { id: 7 }), rec(2, { other: 1 })]);
    expect(reported).toEqual([
      `1: key attribute id is a number, but table "${table}" keys it as a string`,
      '2: key attribute id (value.id) is missing from the record',
    ]);
    expect(await scan(table)).toEqual([{ id: 'ok' }]);
  });
});

describe('scheduled sink function into DynamoDB Local', () => {
  it('delivers JSON records from Kafka to the table, commits, and resumes', async () => {
    // Prepare: 120 JSON orders on 2 partitions, a table keyed by the record key
    const admin = await rawAdmin();
    const kafka = createKafkaClients(kafkaWorker(stackEnv().kafkaBrokers));
    const topic = await freshTopic(admin, 'ddb-orders', 2);
    const table = await createTable(client, 'sink', [['orderId', 'S']]);
    const writer = kafka.recordWriter();
    const send = (from: number, n: number) =>
      writer.send(
        Array.from({ length: n }, (_, i) => ({
          topic,
          partition: (from + i) % 2,
          key: utf8(`o-${from + i}`),
          value: utf8(JSON.stringify({ amount: from + i, lines: [{ sku: 'a', qty: 1 }], note: null })),
          headers: [],
        })),
      );
    await send(0, 120);
    const name = `ddb-${randomUUID().slice(0, 8)}`;
    const fn = sinkFunction(name, [
      'connector.class=io.confluent.connect.aws.dynamodb.DynamoDbSinkConnector',
      `topics=${topic}`,
      'aws.dynamodb.endpoint=${env:DYNAMODB_ENDPOINT}',
      `table.name.format=${table}`,
      'aws.dynamodb.pk.hash=key:orderId',
      'aws.dynamodb.pk.sort=',
    ]);
    try {
      // Act
      const first = await fn.handler({ task: 0 }, localContext('test', 30_000));
      await send(120, 10);
      const second = await fn.handler({ task: 0 }, localContext('test', 30_000));
      // Assess
      expect(first).toMatchObject({ stopReason: 'idle', records: 120 });
      expect(second).toMatchObject({ stopReason: 'idle', records: 10 });
      const items = await scan(table);
      expect(items).toHaveLength(130);
      expect(items.find((i) => i.orderId === 'o-7')).toEqual({
        orderId: 'o-7',
        amount: 7,
        lines: [{ sku: 'a', qty: 1 }],
        note: null,
      });
    } finally {
      await fn.close();
      await writer.close();
      await admin.disconnect();
    }
  });
});

describe('triggered sink function, at-least-once, into DynamoDB Local', () => {
  it('reports the partition of a record the table cannot take; the retry reports it again until it is tolerated', async () => {
    // Prepare: 20 orders on 2 partitions; the one at partition 1, offset 3 has no key (its item no hash key)
    const admin = await rawAdmin();
    const kafka = createKafkaClients(kafkaWorker(stackEnv().kafkaBrokers));
    const topic = await freshTopic(admin, 'ddb-trigger', 2);
    const table = await createTable(client, 'sink', [['orderId', 'S']]);
    const writer = kafka.recordWriter();
    const reader = kafka.partitionReader();
    await writer.send(
      Array.from({ length: 20 }, (_, i) => ({
        topic,
        partition: i % 2,
        key: i === 7 ? null : utf8(`o-${i}`),
        value: utf8(JSON.stringify({ amount: i })),
        headers: [],
      })),
    );
    const read = await readPartitions(reader, topic, [0, 1]);
    const name = `ddb-tr-${randomUUID().slice(0, 8)}`;
    const lines = (tolerance: string) => [
      'connector.class=dynamodb-sink',
      `topics=${topic}`,
      'trigger=kafka',
      'aws.dynamodb.endpoint=${env:DYNAMODB_ENDPOINT}',
      `table.name.format=${table}`,
      'aws.dynamodb.pk.hash=key:orderId',
      'aws.dynamodb.pk.sort=',
      `errors.tolerance=${tolerance}`,
    ];
    const fn = sinkFunction(name, lines('none'));
    const tolerant = sinkFunction(name, lines('all'));
    try {
      // Act: the event as the event source mapping delivers it
      const response = await fn.triggerHandler(
        kafkaEventFrom(read, 'SelfManagedKafka'),
        localContext('test', 30_000),
      );
      // Assess: partition 0 is done; partition 1 is retried from the first record not known written
      expect(response.batchItemFailures).toHaveLength(1);
      const failed = response.batchItemFailures[0]!.itemIdentifier as { partition: string; offset: number };
      expect(failed.partition).toBe(`${topic}-1`);
      expect(failed.offset).toBeLessThanOrEqual(3);
      const items = await scan(table);
      const ids = new Set(items.map((i) => i.orderId));
      for (let i = 0; i < 20; i += 2) expect(ids.has(`o-${i}`), `o-${i}`).toBe(true);
      for (let i = 1; i < 1 + 2 * failed.offset; i += 2) expect(ids.has(`o-${i}`), `o-${i}`).toBe(true);
      expect(items.every((i) => i.amount === Number(String(i.orderId).slice(2)))).toBe(true);
      // Act: the event source mapping retries partition 1 from the reported offset
      const retry = () =>
        kafkaEventFrom(
          read.filter((r) => r.partition === 1 && r.offset >= failed.offset),
          'SelfManagedKafka',
        );
      const again = await fn.triggerHandler(retry(), localContext('test', 30_000));
      // Assess: the record still cannot be written, so the same place is reported, and nothing past it
      expect(again.batchItemFailures).toEqual(response.batchItemFailures);
      expect(await scan(table)).toHaveLength(items.length);
      // Act: the connector redeployed with errors.tolerance=all gets the retry
      expect(await tolerant.triggerHandler(retry(), localContext('test', 30_000))).toEqual({
        batchItemFailures: [],
      });
      // Assess: every other record has its item; the one without a key was skipped (and logged)
      expect((await scan(table)).map((i) => i.orderId).sort()).toEqual(
        Array.from({ length: 20 }, (_, i) => `o-${i}`)
          .filter((id) => id !== 'o-7')
          .sort(),
      );
    } finally {
      await fn.close();
      await tolerant.close();
      await writer.close();
      await reader.close();
      await admin.disconnect();
    }
  });
});
