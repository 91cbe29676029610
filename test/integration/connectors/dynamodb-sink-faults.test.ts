/**
 * The DynamoDB sink against a real DynamoDB Local with the faults DynamoDB Local never produces, injected
 * by SDK middleware on the task's own client: BatchWriteItem answered with a subset of its items
 * `UnprocessedItems` (those items are not sent), or refused with ProvisionedThroughputExceededException;
 * TransactWriteItems refused with TransactionCanceledException (ThrottlingError, TransactionConflict).
 * Nothing injected reaches the server, so what the table holds is exactly what the sink really wrote.
 *
 * Checked after every batch, as the runtime would commit it: every record of the batch (and of every batch
 * before) has its item; in exactly-once mode the offset item never runs ahead of the items and each record
 * is in exactly one committed transaction. And: retries stop at the task's deadline with a retriable error.
 */
import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  DynamoDBClient,
  type DynamoDBClientConfig,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  ScanCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WriterClock } from '../../../src/connectors/dynamodb/batch-writer.ts';
import { dynamodbSinkConnector } from '../../../src/connectors/dynamodb/sink-connector.ts';
import { eosOffsetKey } from '../../../src/connectors/dynamodb/transaction-writer.ts';
import { isRetriable } from '../../../src/errors.ts';
import type { SinkRecord, SinkTask, TopicPartitionOffset } from '../../../src/spi/sink.ts';
import { stackEnv } from '../../stack/env.ts';
import { createTable, localDynamoDb } from './dynamodb-support.ts';

let client: DynamoDBClient;
beforeAll(() => {
  client = localDynamoDb();
});
afterAll(() => client?.destroy());

/** `partition/offset` → the item's `n`, for every item of the table. */
async function itemsOf(table: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    for (const item of page.Items ?? []) out.set(`${item.partition?.N}/${item.offset?.N}`, Number(item.n?.N));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return out;
}

/** A deterministic generator (mulberry32), so a failing run can be replayed. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the injector did, and every transaction DynamoDB Local accepted. */
interface Injected {
  unprocessedCalls: number;
  heldBack: number;
  throttled: number;
  cancelled: number;
  readonly committed: TransactWriteItem[][];
  /** Every call is answered with all its items unprocessed (the deadline scenario). */
  holdEverything: boolean;
}

const cancellation = (actions: number, code: string) =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${code}]`,
    $metadata: {},
    CancellationReasons: Array.from({ length: actions }, (_, i) =>
      i === 0 ? { Code: code, Message: code } : { Code: 'None' },
    ),
  });

/** A client whose calls the injector may answer itself instead of DynamoDB Local (see the module doc). */
function faultyClient(config: DynamoDBClientConfig, injected: Injected) {
  const random = seeded(7);
  const c = new DynamoDBClient(config);
  c.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      if (context.commandName === 'BatchWriteItemCommand') {
        const requests = input.RequestItems as Record<string, WriteRequest[]>;
        const roll = random();
        if (!injected.holdEverything && roll < 0.1) {
          injected.throttled++;
          throw new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} });
        }
        if (injected.holdEverything || roll < 0.35) {
          const sent: Record<string, WriteRequest[]> = {};
          const held: Record<string, WriteRequest[]> = {};
          for (const [table, writes] of Object.entries(requests)) {
            for (const write of writes) {
              const into = injected.holdEverything || random() < 0.3 ? held : sent;
              into[table] = [...(into[table] ?? []), write];
            }
          }
          const heldCount = Object.values(held).reduce((n, w) => n + w.length, 0);
          if (heldCount > 0) injected.unprocessedCalls++;
          injected.heldBack += heldCount;
          type Answer = { output: { UnprocessedItems?: Record<string, WriteRequest[]> }; response: unknown };
          const result: Answer = Object.keys(sent).length
            ? ((await next({ ...args, input: { ...input, RequestItems: sent } })) as Answer)
            : { output: {}, response: {} };
          const unprocessed = { ...(result.output.UnprocessedItems ?? {}) };
          for (const [table, writes] of Object.entries(held)) {
            unprocessed[table] = [...(unprocessed[table] ?? []), ...writes];
          }
          return { ...result, output: { ...result.output, UnprocessedItems: unprocessed } } as never;
        }
      }
      if (context.commandName === 'TransactWriteItemsCommand') {
        const actions = input.TransactItems as TransactWriteItem[];
        if (random() < 0.3) {
          injected.cancelled++;
          throw cancellation(actions.length, random() < 0.5 ? 'ThrottlingError' : 'TransactionConflict');
        }
        const out = await next(args);
        injected.committed.push(actions);
        return out;
      }
      return next(args);
    },
    { step: 'initialize', name: 'injectFaults' },
  );
  return c;
}

const injector = (): Injected => ({
  unprocessedCalls: 0,
  heldBack: 0,
  throttled: 0,
  cancelled: 0,
  committed: [],
  holdEverything: false,
});

async function startTask(
  table: string,
  injected: Injected,
  deadlineMs: number,
  exactlyOnce?: { offsets: string; name: string },
  clock?: WriterClock,
): Promise<SinkTask> {
  const connector = dynamodbSinkConnector({
    env: {},
    createClient: (config) => faultyClient(config, injected),
    ...(clock === undefined ? {} : { clock }),
  });
  const task = connector.createTask({
    'aws.dynamodb.endpoint': stackEnv().dynamodbEndpoint,
    'table.name.format': table,
    'aws.dynamodb.pk.hash': 'partition',
    'aws.dynamodb.pk.sort': 'offset',
    'behavior.on.null.values': 'ignore',
    ...(exactlyOnce === undefined
      ? {}
      : { 'delivery.guarantee': 'exactly-once', 'exactly.once.offsets.table': exactlyOnce.offsets }),
  });
  await task.start({
    connector: exactlyOnce?.name ?? 'faults',
    taskId: 0,
    assignment: [
      { topic: 'orders', partition: 0 },
      { topic: 'orders', partition: 1 },
    ],
    deadlineMs,
  });
  return task;
}

/** Records `from`..`from + n - 1` of both partitions, interleaved as the runtime hands them over. */
const batch = (from: number, n: number): SinkRecord[] =>
  Array.from({ length: 2 * n }, (_, i) => ({
    topic: 'orders',
    kafkaPartition: i % 2,
    kafkaOffset: from + Math.floor(i / 2),
    timestamp: 0,
    key: null,
    value: { n: from + Math.floor(i / 2) },
    headers: [],
  }));

/** What the runtime does before it commits: the offsets the task says are safe after a put. */
async function safeOffsets(task: SinkTask, next: number): Promise<readonly TopicPartitionOffset[]> {
  const offsets = [0, 1].map((partition) => ({ topic: 'orders', partition, offset: next }));
  if (task.preCommit !== undefined) return task.preCommit(offsets);
  await task.flush?.(offsets);
  return offsets;
}

/** Every record below each partition's `offset` has its item, with its value. */
function assertWrittenBelow(items: ReadonlyMap<string, number>, offsets: readonly TopicPartitionOffset[]) {
  for (const { partition, offset } of offsets) {
    for (let o = 0; o < offset; o++) expect(items.get(`${partition}/${o}`), `${partition}/${o}`).toBe(o);
  }
}

async function storedOffset(offsets: string, name: string, partition: number): Promise<number | undefined> {
  const { Item } = await client.send(
    new GetItemCommand({
      TableName: offsets,
      Key: eosOffsetKey(name, { topic: 'orders', partition }),
      ConsistentRead: true,
    }),
  );
  return Item?.kafka_offset?.N === undefined ? undefined : Number(Item.kafka_offset.N);
}

const BATCHES = 6;
const PER_PARTITION = 60; // per batch: 120 records, 5 BatchWriteItem calls, 2 transactions

describe('dynamodb sink on DynamoDB Local, with injected UnprocessedItems, throttling and cancellations', () => {
  it('at-least-once: every put ends with all its items written; nothing safe to commit is unwritten', async () => {
    const table = await createTable(client, 'faults', [
      ['partition', 'N'],
      ['offset', 'N'],
    ]);
    const injected = injector();
    const task = await startTask(table, injected, Date.now() + 120_000);
    try {
      for (let b = 0; b < BATCHES; b++) {
        await task.put(batch(b * PER_PARTITION, PER_PARTITION));
        const safe = await safeOffsets(task, (b + 1) * PER_PARTITION);
        const items = await itemsOf(table);
        assertWrittenBelow(items, safe);
        expect(items.size).toBe(2 * (b + 1) * PER_PARTITION);
      }
    } finally {
      await task.stop();
    }
    expect(injected.unprocessedCalls).toBeGreaterThan(3);
    expect(injected.heldBack).toBeGreaterThan(20);
    expect(injected.throttled).toBeGreaterThan(1);
  });

  it('exactly-once: the offset item never runs ahead of the items, and each record commits in exactly one transaction', async () => {
    const [table, offsets] = await Promise.all([
      createTable(client, 'faults', [
        ['partition', 'N'],
        ['offset', 'N'],
      ]),
      createTable(client, 'faults-offsets', [
        ['pk', 'S'],
        ['sk', 'S'],
      ]),
    ]);
    const name = `faults-${randomUUID().slice(0, 8)}`;
    const injected = injector();
    const task = await startTask(table, injected, Date.now() + 120_000, { offsets, name });
    try {
      for (let b = 0; b < BATCHES; b++) {
        await task.put(batch(b * PER_PARTITION, PER_PARTITION));
        await safeOffsets(task, (b + 1) * PER_PARTITION);
        const items = await itemsOf(table);
        const stored = await Promise.all([0, 1].map((p) => storedOffset(offsets, name, p)));
        expect(stored).toEqual([(b + 1) * PER_PARTITION, (b + 1) * PER_PARTITION]);
        assertWrittenBelow(
          items,
          stored.map((offset, partition) => ({ topic: 'orders', partition, offset: offset ?? 0 })),
        );
        expect(items.size).toBe(2 * (b + 1) * PER_PARTITION);
      }
    } finally {
      await task.stop();
    }
    expect(injected.cancelled).toBeGreaterThan(2);
    const writtenIn = new Map<string, number>();
    for (const actions of injected.committed) {
      for (const action of actions) {
        const item = action.Put?.Item;
        if (item === undefined) continue;
        const id = `${item.partition?.N}/${item.offset?.N}`;
        writtenIn.set(id, (writtenIn.get(id) ?? 0) + 1);
      }
    }
    expect(writtenIn.size).toBe(2 * BATCHES * PER_PARTITION);
    expect([...writtenIn.values()].every((n) => n === 1)).toBe(true);
  });

  it('gives up at the deadline with a retriable error when DynamoDB never takes the items', async () => {
    const table = await createTable(client, 'faults', [
      ['partition', 'N'],
      ['offset', 'N'],
    ]);
    const injected = { ...injector(), holdEverything: true };
    // The task's own clock: its backoff sleeps move it on, a slow request does not (what a loaded machine
    // does to the real one is not the question here); the put gives up when a retry would pass the deadline.
    // (Its requests are still aborted by a real timer at the remaining time: 30 s, for a DescribeTable.)
    const clock = virtualClock();
    const deadlineMs = clock.nowMs() + 30_000;
    const task = await startTask(table, injected, deadlineMs, undefined, clock);
    try {
      const error = await task.put(batch(0, PER_PARTITION)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({ code: 'CONNECT_FN_DYNAMODB_WRITE', stage: 'TASK_PUT' });
      expect(isRetriable(error)).toBe(true);
      // The deadline's own error (the items still unprocessed), not a refusal or a request cut short.
      expect(String((error as Error).message)).toMatch(
        /^dynamodb sink: \d+ items not written by the invocation deadline after \d+ attempts \(last: \d+ of \d+ items unprocessed\)$/,
      );
      // It retried up to the deadline, not past it: the last backoff it slept ended before the deadline.
      expect(clock.sleptUntilMs).toBeLessThan(deadlineMs);
      expect(injected.unprocessedCalls).toBeGreaterThan(1);
      expect((await itemsOf(table)).size).toBe(0);
    } finally {
      await task.stop();
    }
  });
});

/** A clock that only its sleeps move on (each one resolves at once); `sleptUntilMs`: the last one's end. */
function virtualClock() {
  let nowMs = 1_000_000;
  return {
    sleptUntilMs: nowMs,
    nowMs: () => nowMs,
    async sleep(ms: number) {
      nowMs += ms;
      this.sleptUntilMs = Math.max(this.sleptUntilMs, nowMs);
    },
  };
}
