import { randomUUID } from 'node:crypto';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKafkaClients,
  GrouplessPartitionReader,
  type KafkaClients,
  OffsetOutOfRangeError,
  TopicMissingError,
  transactionalIdFor,
} from '../../../src/kafka/index.ts';
import { stackEnv } from '../../stack/env.ts';
import { kafkaWorker } from '../../unit/kafka/worker-values.ts';
import {
  freshTopic,
  inSeconds,
  rawAdmin,
  readAll,
  record,
  settledEnd,
  stableAndHigh,
  text,
  utf8,
  values,
} from './support.ts';

describe('GrouplessPartitionReader against the real broker', () => {
  let admin: Admin;
  let clients: KafkaClients;

  beforeAll(async () => {
    admin = await rawAdmin();
    clients = createKafkaClients(kafkaWorker(stackEnv().kafkaBrokers));
  });

  afterAll(async () => {
    await admin.disconnect();
  });

  async function write(topic: string, batches: readonly (readonly string[])[], partition = 0) {
    const writer = clients.recordWriter();
    for (const batch of batches) await writer.send(batch.map((v) => record(topic, v, partition)));
    await writer.close();
  }

  /** committed [a, b], aborted [x, y], committed [c], aborted [z]: offsets 0..9 with four markers. */
  async function writeMixedTransactions(topic: string) {
    const writer = clients.transactionalWriter(transactionalIdFor('connect-fn', `mixed-${topic}`, 0));
    const plan: [readonly string[], 'commit' | 'abort'][] = [
      [['a', 'b'], 'commit'],
      [['x', 'y'], 'abort'],
      [['c'], 'commit'],
      [['z'], 'abort'],
    ];
    for (const [batch, end] of plan) {
      const txn = await writer.begin();
      await txn.send(batch.map((v) => record(topic, v)));
      await txn[end]();
    }
    await writer.close();
  }

  it('reads exactly the committed records, in order, across several fetches', async () => {
    const topic = await freshTopic(admin, 'reader-batches');
    const written = Array.from({ length: 6 }, (_, b) => Array.from({ length: 50 }, (_, i) => `b${b}-${i}`));
    await write(topic, written);
    const small = createKafkaClients(
      kafkaWorker(stackEnv().kafkaBrokers, {}, { consumer: { 'max.partition.fetch.bytes': '2000' } }),
    );
    const reader = small.partitionReader();
    try {
      const batches = await readAll(reader, {
        topic,
        partition: 0,
        fromOffset: 0,
        deadlineMs: inSeconds(10),
      });

      expect(batches.length).toBeGreaterThan(1);
      expect(values(batches)).toEqual(written.flat());
      expect(batches.flat().map((r) => r.offset)).toEqual(written.flat().map((_, i) => i));
      expect(text(batches[0]![0]!.key)).toBe('k-b0-0');
    } finally {
      await reader.close();
    }
  });

  it('skips aborted transactions and control records, and ends at the last stable offset', async () => {
    const topic = await freshTopic(admin, 'reader-aborted');
    await writeMixedTransactions(topic);
    const reader = clients.partitionReader();
    try {
      const end = await settledEnd(reader, topic);
      const batches = await readAll(reader, {
        topic,
        partition: 0,
        fromOffset: 0,
        deadlineMs: inSeconds(10),
      });

      expect(end).toBe(10); // 6 records + 4 markers
      expect(values(batches)).toEqual(['a', 'b', 'c']);
      expect(batches.flat().map((r) => r.offset)).toEqual([0, 1, 6]);
      // Starting inside the aborted transaction or on a marker skips to the next committed record.
      expect(
        values(await readAll(reader, { topic, partition: 0, fromOffset: 3, deadlineMs: inSeconds(10) })),
      ).toEqual(['c']);
      expect(
        await readAll(reader, { topic, partition: 0, fromOffset: 7, deadlineMs: inSeconds(10) }),
      ).toEqual([]);
    } finally {
      await reader.close();
    }
  });

  it('stops before an open transaction and reports its start as the end', async () => {
    const topic = await freshTopic(admin, 'reader-open');
    await write(topic, [['before']]);
    const writer = clients.transactionalWriter(transactionalIdFor('connect-fn', `open-${topic}`, 0));
    const open = await writer.begin();
    await open.send([record(topic, 'pending')]);
    await write(topic, [['after']]);
    const reader = clients.partitionReader();
    try {
      expect((await reader.endOffsets(topic, [0])).get(0)).toBe(1);
      // What settledEnd waits on must see the open transaction: stable at its start, high past 'after'.
      expect(await stableAndHigh(reader, topic)).toEqual({ stable: 1, high: 3 });
      expect(
        values(await readAll(reader, { topic, partition: 0, fromOffset: 0, deadlineMs: inSeconds(10) })),
      ).toEqual(['before']);
      await open.commit();
      // The commit returns before the broker has written its marker (asynchronously): until then the last
      // stable offset stays at 1 and a read correctly ends there. So wait for the marker (the last stable
      // offset reaching the high watermark); a read up to that end (as the offsets store reads) sees all three.
      const end = await settledEnd(reader, topic);
      expect(end).toBe(4); // three records and the commit marker
      expect(
        values(
          await readAll(reader, {
            topic,
            partition: 0,
            fromOffset: 0,
            untilOffset: end,
            deadlineMs: inSeconds(10),
          }),
        ),
      ).toEqual(['before', 'pending', 'after']);
    } finally {
      await writer.close();
      await reader.close();
    }
  });

  it('stops at untilOffset, at maxBytes and at the deadline', async () => {
    const topic = await freshTopic(admin, 'reader-limits');
    await write(
      topic,
      Array.from({ length: 20 }, (_, i) => [`v${i}`]),
    ); // one record batch each: a fetch returns at least one whole batch
    const reader = clients.partitionReader();
    try {
      const until = await readAll(reader, {
        topic,
        partition: 0,
        fromOffset: 5,
        untilOffset: 8,
        deadlineMs: inSeconds(10),
      });
      const bounded = await readAll(reader, {
        topic,
        partition: 0,
        fromOffset: 0,
        maxBytes: 1,
        deadlineMs: inSeconds(10),
      });
      const late = await readAll(reader, { topic, partition: 0, fromOffset: 0, deadlineMs: Date.now() - 1 });

      expect(values(until)).toEqual(['v5', 'v6', 'v7']);
      expect(values(bounded)).toEqual(['v0']);
      expect(late).toEqual([]);
    } finally {
      await reader.close();
    }
  });

  it('keeps headers, null values and timestamps', async () => {
    const topic = await freshTopic(admin, 'reader-fields');
    const writer = clients.recordWriter();
    await writer.send([
      {
        topic,
        partition: 0,
        key: null,
        value: null,
        timestampMs: 1_700_000_000_123,
        headers: [
          { key: 'h', value: utf8('1') },
          { key: 'h', value: utf8('2') },
          { key: 'empty', value: new Uint8Array(0) },
        ],
      },
    ]);
    await writer.close();
    const reader = clients.partitionReader();
    try {
      const [only] = (
        await readAll(reader, { topic, partition: 0, fromOffset: 0, deadlineMs: inSeconds(10) })
      ).flat();

      expect(only).toMatchObject({
        topic,
        partition: 0,
        offset: 0,
        key: null,
        value: null,
        timestampMs: 1_700_000_000_123,
      });
      expect(only!.headers.map((h) => [h.key, text(h.value)])).toEqual([
        ['h', '1'],
        ['h', '2'],
        ['empty', ''],
      ]);
    } finally {
      await reader.close();
    }
  });

  it('throws OffsetOutOfRangeError with the partition range for offsets before the log start or past the end', async () => {
    const topic = await freshTopic(admin, 'reader-range');
    await write(topic, [['a', 'b', 'c', 'd']]);
    await admin.fetchTopicOffsets(topic); // kafkajs' deleteTopicRecords needs the topic's metadata loaded
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '2' }] });
    const reader = clients.partitionReader();
    try {
      const before = await readAll(reader, {
        topic,
        partition: 0,
        fromOffset: 0,
        deadlineMs: inSeconds(10),
      }).catch((err: unknown) => err);
      const past = await readAll(reader, {
        topic,
        partition: 0,
        fromOffset: 99,
        deadlineMs: inSeconds(10),
      }).catch((err: unknown) => err);

      expect(before).toBeInstanceOf(OffsetOutOfRangeError);
      const err = before as OffsetOutOfRangeError;
      expect(err).toMatchObject({
        code: 'CONNECT_FN_KAFKA_OFFSET_OUT_OF_RANGE',
        topic,
        partition: 0,
        offset: 0,
      });
      expect(err.range).toEqual({ startOffset: 2, endOffset: 4 });
      expect(err.resetTo('earliest')).toBe(2);
      expect(err.resetTo('latest')).toBe(4);
      expect(past).toBeInstanceOf(OffsetOutOfRangeError);
      const fromEarliest = await readAll(reader, {
        topic,
        partition: 0,
        fromOffset: 2,
        deadlineMs: inSeconds(10),
      });
      expect(values(fromEarliest)).toEqual(['c', 'd']);
    } finally {
      await reader.close();
    }
  });

  it('answers a missing topic or partition with TopicMissingError at once: no retry, no backoff', async () => {
    const topic = await freshTopic(admin, 'reader-partitions', 2);
    const { reader, requests } = countingReader();
    try {
      await reader.endOffsets(topic, [0]); // connected, with metadata: what follows is the reads' own
      requests.length = 0;
      const missing = await readAll(reader, {
        topic: `missing-${randomUUID()}`,
        partition: 0,
        fromOffset: 0,
        deadlineMs: inSeconds(10),
      }).catch((err: unknown) => err);
      const afterMissing = [...requests];
      requests.length = 0;
      const noPartition = await readAll(reader, {
        topic,
        partition: 5,
        fromOffset: 0,
        deadlineMs: inSeconds(10),
      }).catch((err: unknown) => err);

      expect(missing).toBeInstanceOf(TopicMissingError);
      expect(noPartition).toBeInstanceOf(TopicMissingError);
      expect((noPartition as Error).message).toContain('has no partition 5 (it has 2)');
      // The event "answered without waiting" stands for: one metadata request each, nothing retried (a
      // retry, ours or kafkajs', asks for metadata again; a backoff comes only before a retry).
      expect(afterMissing).toEqual(['Metadata']);
      expect(requests.filter((name) => name !== 'Metadata')).toEqual([]);
      expect(requests.length).toBeLessThanOrEqual(1);
      expect((await admin.listTopics()).filter((t) => t.startsWith('missing-'))).toEqual([]);
    } finally {
      await reader.close();
    }
  });

  it('joins no consumer group (and reads its first record long before a group join would)', async () => {
    const topic = await freshTopic(admin, 'reader-no-group');
    await write(topic, [['first', 'second']]);
    const groupsBefore = (await admin.listGroups()).groups.map((g) => g.groupId);

    const reader = clients.partitionReader();
    const startedMs = Date.now();
    let firstRecordMs = -1;
    for await (const batch of reader.read({
      topic,
      partition: 0,
      fromOffset: 0,
      deadlineMs: inSeconds(10),
    })) {
      if (firstRecordMs < 0 && batch.length > 0) firstRecordMs = Date.now() - startedMs;
    }
    await reader.close();
    const groupJoinMs = await timeToFirstRecordWithGroup(topic);
    const groupsAfter = (await admin.listGroups()).groups.map((g) => g.groupId);

    const newGroups = groupsAfter.filter((g) => !groupsBefore.includes(g));
    expect(newGroups.filter((g) => !g.startsWith('group-join-baseline-'))).toEqual([]);
    expect(groupsAfter).not.toContain('connect-fn-groupless-reader');
    console.info(
      `time to first record: group-less reader ${firstRecordMs} ms (new client, cold), ` +
        `kafkajs consumer group ${groupJoinMs} ms`,
    );
  });
});

/** A reader of the stack's broker whose requests are recorded by API name (kafkajs' instrumentation). */
function countingReader(): { reader: GrouplessPartitionReader; requests: string[] } {
  const clients = createKafkaClients(kafkaWorker(stackEnv().kafkaBrokers));
  const kafka = new Kafka({ brokers: stackEnv().kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
  const requests: string[] = [];
  const consumer = kafka.consumer.bind(kafka);
  kafka.consumer = (config) => {
    const built = consumer(config);
    built.on(built.events.REQUEST, (event) => requests.push(event.payload.apiName));
    return built;
  };
  const reader = new GrouplessPartitionReader({
    kafka,
    settings: clients.consumerSettings,
    endpoint: clients.consumerEndpoint,
  });
  return { reader, requests };
}

/** The baseline: a kafkajs consumer in a fresh group, from `run()` to its first message. */
async function timeToFirstRecordWithGroup(topic: string): Promise<number> {
  const kafka = new Kafka({ brokers: stackEnv().kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `group-join-baseline-${randomUUID()}` });
  const startedMs = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const first = new Promise<number>((resolve) => {
    void consumer.run({ eachMessage: async () => resolve(Date.now() - startedMs) });
  });
  const ms = await first;
  await consumer.disconnect();
  return ms;
}
