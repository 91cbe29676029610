/**
 * The DynamoDB sink with delivery.guarantee=exactly-once against a real DynamoDB Local: a replayed batch is
 * refused by the offset item's condition and leaves the items unchanged; a zombie's stale transaction is
 * refused; a test-side SDK middleware that records every successful TransactWriteItems shows each record's
 * (topic, partition, offset) in exactly one committed transaction; and the scheduled sink function end to
 * end in this mode.
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  ScanCommand,
  type TransactWriteItem,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamodbSinkConnector } from '../../../src/connectors/dynamodb/sink-connector.ts';
import { eosOffsetKey } from '../../../src/connectors/dynamodb/transaction-writer.ts';
import { createKafkaClients } from '../../../src/kafka/index.ts';
import { localContext } from '../../../src/lambda/lambda-context.ts';
import type { SinkRecord, SinkTask } from '../../../src/spi/sink.ts';
import { stackEnv } from '../../stack/env.ts';
import { whileCoordinatorMoves } from '../../support/coordinator-retry.ts';
import { scanItems } from '../../support/dynamodb-scan.ts';
import { kafkaEventFrom } from '../../support/kafka-events.ts';
import { kafkaWorker } from '../../unit/kafka/worker-values.ts';
import { freshTopic, rawAdmin, utf8 } from '../kafka/support.ts';
import { createTable, localDynamoDb, readPartitions, sinkFunction } from './dynamodb-support.ts';

let client: DynamoDBClient;
beforeAll(() => {
  client = localDynamoDb();
});
afterAll(() => client?.destroy());

const dataTable = () =>
  createTable(client, 'eos', [
    ['partition', 'N'],
    ['offset', 'N'],
  ]);
const offsetsTable = () =>
  createTable(client, 'eos-offsets', [
    ['pk', 'S'],
    ['sk', 'S'],
  ]);

async function scan(table: string): Promise<Record<string, unknown>[]> {
  return (await scanItems(client, table)).sort(
    (a, b) => Number(a.partition) - Number(b.partition) || Number(a.offset) - Number(b.offset),
  );
}

async function storedOffset(
  offsets: string,
  connector: string,
  partition: number,
  topic = 'orders',
): Promise<number | undefined> {
  const { Item } = await client.send(
    new GetItemCommand({
      TableName: offsets,
      Key: eosOffsetKey(connector, { topic, partition }),
      ConsistentRead: true,
    }),
  );
  return Item?.kafka_offset?.N === undefined ? undefined : Number(Item.kafka_offset.N);
}

/** Every TransactWriteItems DynamoDB Local accepted, recorded by a middleware on the task's client. */
interface Recorder {
  readonly committed: TransactWriteItem[][];
  attempts: number;
}

async function startTask(
  connectorName: string,
  table: string,
  offsets: string,
  recorder?: Recorder,
  reporter?: (record: SinkRecord, error: Error) => Promise<void>,
): Promise<SinkTask> {
  const connector = dynamodbSinkConnector({
    env: {},
    createClient: (config) => {
      const c = new DynamoDBClient(config);
      if (recorder !== undefined) {
        c.middlewareStack.add(
          (next, context) => async (args) => {
            if (context.commandName !== 'TransactWriteItemsCommand') return next(args);
            recorder.attempts++;
            const out = await next(args);
            const input = args.input as { TransactItems: TransactWriteItem[] };
            recorder.committed.push(input.TransactItems);
            return out;
          },
          { step: 'initialize', name: 'recordCommittedTransactions' },
        );
      }
      return c;
    },
  });
  const task = connector.createTask({
    'aws.dynamodb.endpoint': stackEnv().dynamodbEndpoint,
    'table.name.format': table,
    'aws.dynamodb.pk.hash': 'partition',
    'aws.dynamodb.pk.sort': 'offset',
    'behavior.on.null.values': 'ignore',
    'delivery.guarantee': 'exactly-once',
    'exactly.once.offsets.table': offsets,
  });
  await task.start({
    connector: connectorName,
    taskId: 0,
    assignment: [
      { topic: 'orders', partition: 0 },
      { topic: 'orders', partition: 1 },
    ],
    deadlineMs: Date.now() + 30_000,
    ...(reporter === undefined ? {} : { errantRecordReporter: reporter }),
  });
  return task;
}

const records = (partition: number, from: number, n: number, tag: string): SinkRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    topic: 'orders',
    kafkaPartition: partition,
    kafkaOffset: from + i,
    timestamp: 0,
    key: null,
    value: { tag, n: from + i },
    headers: [],
  }));

describe('dynamodb sink, exactly-once, on DynamoDB Local', () => {
  it('refuses a replay of a batch by the offset condition and leaves the items unchanged', async () => {
    // Prepare: A and B are two lives of the task; B read the offset (3) before A applied 3..9
    const [table, offsets] = await Promise.all([dataTable(), offsetsTable()]);
    const name = `eos-${randomUUID().slice(0, 8)}`;
    const recorder: Recorder = { committed: [], attempts: 0 };
    const a = await startTask(name, table, offsets, recorder);
    const b = await startTask(name, table, offsets, recorder);
    await a.put(records(0, 0, 3, 'first'));
    await b.put(records(0, 0, 3, 'replay')); // reads 3: dropped without a transaction
    await a.put(records(0, 3, 7, 'first'));
    const before = await scan(table);
    // Act: B replays 3..9 expecting 3
    await b.put(records(0, 3, 7, 'replay'));
    // Assess
    expect(recorder.attempts).toBe(3);
    expect(recorder.committed).toHaveLength(2);
    expect(await scan(table)).toEqual(before);
    expect(before.map((i) => i.tag)).toEqual(Array(10).fill('first'));
    expect(await storedOffset(offsets, name, 0)).toBe(10);
    // B learnt the stored offset: its next batch goes on from there
    await b.put(records(0, 10, 2, 'b'));
    expect((await scan(table)).map((i) => `${i.offset}:${i.tag}`).slice(-3)).toEqual([
      '9:first',
      '10:b',
      '11:b',
    ]);
  });

  it("refuses a zombie invocation's stale transactions", async () => {
    // Prepare: the zombie applied 0..149 and stalls; the newer invocation starts, reads 150, applies 150..299
    const [table, offsets] = await Promise.all([dataTable(), offsetsTable()]);
    const name = `eos-${randomUUID().slice(0, 8)}`;
    const zombie = await startTask(name, table, offsets);
    await zombie.put(records(1, 0, 150, 'zombie'));
    const newer = await startTask(name, table, offsets);
    await newer.put(records(1, 0, 300, 'newer'));
    const before = await scan(table);
    // Act: the zombie wakes up and puts 150..299 expecting 150
    await zombie.put(records(1, 150, 150, 'zombie'));
    // Assess: refused, nothing applied; each item holds the value of the one invocation that applied it
    const after = await scan(table);
    expect(after).toEqual(before);
    expect(after.map((i) => i.tag)).toEqual([...Array(150).fill('zombie'), ...Array(150).fill('newer')]);
    expect(await storedOffset(offsets, name, 1)).toBe(300);
  });

  it('commits each record in exactly one transaction across overlapping invocations and replays', async () => {
    // Prepare: 2 partitions × 400 records; three task lives that overlap, replay and go stale
    const [table, offsets] = await Promise.all([dataTable(), offsetsTable()]);
    const name = `eos-${randomUUID().slice(0, 8)}`;
    const recorder: Recorder = { committed: [], attempts: 0 };
    const lives = await Promise.all([1, 2, 3].map(() => startTask(name, table, offsets, recorder)));
    const total = 400;
    // Act: each life puts batches of varying sizes from its own position, some of them again (replays),
    // interleaved with the others (two of them concurrently)
    const run = async (task: SinkTask, seed: number) => {
      for (const partition of [0, 1]) {
        let at = 0;
        let i = seed;
        while (at < total) {
          const n = Math.min(total - at, 17 + ((i * 37) % 150));
          const batch = records(partition, at, n, `life-${seed}`);
          await task.put(batch);
          if (i % 3 === 0) await task.put(batch); // a retried trigger
          at += n;
          i++;
        }
      }
    };
    await Promise.all([run(lives[0]!, 1), run(lives[1]!, 2)]);
    await run(lives[2]!, 3);
    // Assess: every record's item exists; each (topic, partition, offset) is in exactly one committed
    // transaction, both as an item write and within the offset range the transaction moved
    const items = await scan(table);
    expect(items).toHaveLength(2 * total);
    const writtenIn = new Map<string, number>();
    const covered = new Map<string, number>();
    for (const actions of recorder.committed) {
      const update = actions[actions.length - 1]?.Update;
      const sk = update?.Key?.sk?.S ?? '';
      const { kafka_topic: topic, kafka_partition: partition } = JSON.parse(sk.slice('#eos#'.length));
      const from = Number(update?.ExpressionAttributeValues?.[':expected']?.N ?? 0);
      const to = Number(update?.ExpressionAttributeValues?.[':next']?.N);
      for (let o = from; o < to; o++) {
        const id = `${topic}/${partition}/${o}`;
        covered.set(id, (covered.get(id) ?? 0) + 1);
      }
      for (const action of actions.slice(0, -1)) {
        const id = `orders/${action.Put?.Item?.partition?.N}/${action.Put?.Item?.offset?.N}`;
        writtenIn.set(id, (writtenIn.get(id) ?? 0) + 1);
      }
    }
    expect(writtenIn.size).toBe(2 * total);
    expect([...writtenIn.values()].every((n) => n === 1)).toBe(true);
    expect(covered.size).toBe(2 * total);
    expect([...covered.values()].every((n) => n === 1)).toBe(true);
    expect(recorder.attempts).toBeGreaterThan(recorder.committed.length); // some were refused
    expect(await storedOffset(offsets, name, 0)).toBe(total);
    expect(await storedOffset(offsets, name, 1)).toBe(total);
  });
});

describe('dynamodb sink, exactly-once, items DynamoDB Local refuses', () => {
  it('reports an item over 400 KB, applies the others, and moves the offset past it', async () => {
    const [table, offsets] = await Promise.all([dataTable(), offsetsTable()]);
    const name = `eos-${randomUUID().slice(0, 8)}`;
    const reported: number[] = [];
    const task = await startTask(name, table, offsets, undefined, async (record) => {
      reported.push(record.kafkaOffset);
    });
    const batch = records(0, 0, 5, 'ok');
    batch[2] = { ...batch[2]!, value: { tag: 'big', blob: 'x'.repeat(410 * 1024) } };
    await task.put(batch);
    expect(reported).toEqual([2]);
    expect((await scan(table)).map((i) => i.offset)).toEqual([0, 1, 3, 4]);
    expect(await storedOffset(offsets, name, 0)).toBe(5);
  });
});

describe('triggered sink function, exactly-once, into DynamoDB Local', () => {
  it('skips a retried event: the items written by the first delivery are not written again', async () => {
    // Prepare: 20 records on 2 partitions, read back as the event source mapping would deliver them
    const admin = await rawAdmin();
    const kafka = createKafkaClients(kafkaWorker(stackEnv().kafkaBrokers));
    const topic = await freshTopic(admin, 'ddb-eos-trigger', 2);
    const [table, offsets] = await Promise.all([
      createTable(client, 'eos-tr', [['orderId', 'S']]),
      offsetsTable(),
    ]);
    const writer = kafka.recordWriter();
    const reader = kafka.partitionReader();
    await writer.send(
      Array.from({ length: 20 }, (_, i) => ({
        topic,
        partition: i % 2,
        key: utf8(`o-${i}`),
        value: utf8(JSON.stringify({ amount: i })),
        headers: [],
      })),
    );
    const read = await readPartitions(reader, topic, [0, 1]);
    const name = `ddb-eos-tr-${randomUUID().slice(0, 8)}`;
    const fn = sinkFunction(name, [
      'connector.class=dynamodb-sink',
      `topics=${topic}`,
      'trigger=kafka',
      'aws.dynamodb.endpoint=${env:DYNAMODB_ENDPOINT}',
      `table.name.format=${table}`,
      'aws.dynamodb.pk.hash=key:orderId',
      'aws.dynamodb.pk.sort=',
      'delivery.guarantee=exactly-once',
      `exactly.once.offsets.table=${offsets}`,
    ]);
    try {
      const event = () => JSON.parse(JSON.stringify(kafkaEventFrom(read, 'aws:kafka')));
      // Act: the event, a later change to one item by someone else, then the same event again
      expect(await fn.triggerHandler(event(), localContext('test', 30_000))).toEqual({
        batchItemFailures: [],
      });
      await client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { orderId: { S: 'o-3' } },
          UpdateExpression: 'SET touched = :t',
          ExpressionAttributeValues: { ':t': { BOOL: true } },
        }),
      );
      expect(await fn.triggerHandler(event(), localContext('test', 30_000))).toEqual({
        batchItemFailures: [],
      });
      // Assess: the replay wrote nothing (a rewrite would have dropped `touched`)
      const items = await scan(table);
      expect(items).toHaveLength(20);
      expect(items.find((i) => i.orderId === 'o-3')).toEqual({ orderId: 'o-3', amount: 3, touched: true });
      expect(await storedOffset(offsets, name, 0, topic)).toBe(10);
      expect(await storedOffset(offsets, name, 1, topic)).toBe(10);
    } finally {
      await fn.close();
      await writer.close();
      await reader.close();
      await admin.disconnect();
    }
  });
});

describe('scheduled sink function, exactly-once, into DynamoDB Local', () => {
  it('delivers JSON records from Kafka to the table with the offset items, and resumes', async () => {
    const admin = await rawAdmin();
    const kafka = createKafkaClients(kafkaWorker(stackEnv().kafkaBrokers));
    const topic = await freshTopic(admin, 'ddb-eos', 2);
    const [table, offsets] = await Promise.all([
      createTable(client, 'eos-fn', [['orderId', 'S']]),
      offsetsTable(),
    ]);
    const writer = kafka.recordWriter();
    const send = (from: number, n: number) =>
      writer.send(
        Array.from({ length: n }, (_, i) => ({
          topic,
          partition: (from + i) % 2,
          key: utf8(`o-${from + i}`),
          value: utf8(JSON.stringify({ amount: from + i })),
          headers: [],
        })),
      );
    await send(0, 120);
    const name = `ddb-eos-${randomUUID().slice(0, 8)}`;
    const fn = sinkFunction(name, [
      'connector.class=io.confluent.connect.aws.dynamodb.DynamoDbSinkConnector',
      `topics=${topic}`,
      'aws.dynamodb.endpoint=${env:DYNAMODB_ENDPOINT}',
      `table.name.format=${table}`,
      'aws.dynamodb.pk.hash=key:orderId',
      'aws.dynamodb.pk.sort=',
      'delivery.guarantee=exactly-once',
      `exactly.once.offsets.table=${offsets}`,
    ]);
    try {
      const first = await fn.handler({ task: 0 }, localContext('test', 30_000));
      await send(120, 10);
      const second = await fn.handler({ task: 0 }, localContext('test', 30_000));
      expect(first).toMatchObject({ stopReason: 'idle', records: 120 });
      expect(second).toMatchObject({ stopReason: 'idle', records: 10 });
      const items = await scan(table);
      expect(items).toHaveLength(130);
      expect(items.find((i) => i.orderId === 'o-7')).toEqual({ orderId: 'o-7', amount: 7 });
      const { Items } = await client.send(new ScanCommand({ TableName: offsets, ConsistentRead: true }));
      expect(
        (Items ?? [])
          .map((i) => unmarshall(i))
          .map((i) => `${i.sk}=${i.kafka_offset}`)
          .sort(),
      ).toEqual([
        `#eos#{"kafka_topic":"${topic}","kafka_partition":0}=65`,
        `#eos#{"kafka_topic":"${topic}","kafka_partition":1}=65`,
      ]);
    } finally {
      await fn.close();
      await writer.close();
      await admin.disconnect();
    }
  });
  it("reads again from the offset item when the group's offset is ahead of it (a restored offsets table)", async () => {
    // Prepare: 60 records on 2 partitions, delivered by one invocation
    const admin = await rawAdmin();
    const kafka = createKafkaClients(kafkaWorker(stackEnv().kafkaBrokers));
    const topic = await freshTopic(admin, 'ddb-eos-restore', 2);
    const [table, offsets] = await Promise.all([dataTable(), offsetsTable()]);
    const writer = kafka.recordWriter();
    await writer.send(
      Array.from({ length: 60 }, (_, i) => ({
        topic,
        partition: i % 2,
        key: null,
        value: utf8(JSON.stringify({ n: i })),
        headers: [],
      })),
    );
    const name = `ddb-eos-restore-${randomUUID().slice(0, 8)}`;
    const logs: string[] = [];
    const fn = sinkFunction(
      name,
      [
        'connector.class=dynamodb-sink',
        `topics=${topic}`,
        'aws.dynamodb.endpoint=${env:DYNAMODB_ENDPOINT}',
        `table.name.format=${table}`,
        'delivery.guarantee=exactly-once',
        `exactly.once.offsets.table=${offsets}`,
      ],
      { logSink: (l) => logs.push(l), logLevel: 'warn' },
    );
    try {
      expect(await fn.handler({ task: 0 }, localContext('test', 30_000))).toMatchObject({ records: 60 });
      // Act: the tables go back to an older backup — partition 0's items 10..29 and its offset item's
      // move are gone — while the group `connect-<name>` still says 30
      for (let o = 10; o < 30; o++) {
        await client.send(
          new DeleteItemCommand({
            TableName: table,
            Key: { partition: { N: '0' }, offset: { N: String(o) } },
          }),
        );
      }
      await client.send(
        new UpdateItemCommand({
          TableName: offsets,
          Key: eosOffsetKey(name, { topic, partition: 0 }),
          UpdateExpression: 'SET kafka_offset = :o',
          ExpressionAttributeValues: { ':o': { N: '10' } },
        }),
      );
      const again = await fn.handler({ task: 0 }, localContext('test', 30_000));
      // Assess: partition 0 is read again from 10; every record has its item; both offsets agree again
      expect(again).toMatchObject({ stopReason: 'idle', records: 20 });
      expect((await scan(table)).map((i) => `${i.partition}/${i.offset}`)).toEqual(
        Array.from({ length: 60 }, (_, i) => `${i % 2}/${Math.floor(i / 2)}`).sort((a, b) => {
          const [pa, oa] = a.split('/').map(Number);
          const [pb, ob] = b.split('/').map(Number);
          return pa! - pb! || oa! - ob!;
        }),
      );
      expect(await storedOffset(offsets, name, 0, topic)).toBe(30);
      const group = await whileCoordinatorMoves(() =>
        admin.fetchOffsets({ groupId: `connect-${name}`, topics: [topic] }),
      );
      expect(group[0]?.partitions.map((p) => Number(p.offset)).sort()).toEqual([30, 30]);
      expect(logs.some((l) => l.includes("reading records again from the task's own offset"))).toBe(true);
    } finally {
      await fn.close();
      await writer.close();
      await admin.disconnect();
    }
  });
});
