import { describe, expect, it } from 'vitest';
import { partitionForKey, utf8 } from '../../../src/offsets/connect-format.ts';
import { KafkaOffsetStore, type OffsetsTopicSpec } from '../../../src/offsets/kafka-store.ts';
import type {
  Clock,
  FetchedRecord,
  KafkaRecord,
  PartitionRead,
  PartitionReader,
  RecordWriter,
} from '../../../src/runtime/ports.ts';

/** An in-memory topic: the writer appends, the reader reads read_committed up to the end. */
class FakeTopic implements PartitionReader, RecordWriter {
  readonly logs = new Map<number, FetchedRecord[]>();
  readonly reads: PartitionRead[] = [];
  /** Offsets below this were deleted (as by deleteRecords). */
  logStart = 0;

  async endOffsets(_topic: string, partitions: readonly number[]): Promise<ReadonlyMap<number, number>> {
    return new Map(partitions.map((p) => [p, this.logs.get(p)?.length ?? 0]));
  }

  async *read(request: PartitionRead): AsyncIterable<readonly FetchedRecord[]> {
    this.reads.push(request);
    if (request.fromOffset < this.logStart) {
      throw Object.assign(new Error('out of range'), {
        code: 'CONNECT_FN_KAFKA_OFFSET_OUT_OF_RANGE',
        range: { startOffset: this.logStart, endOffset: this.logs.get(request.partition)?.length ?? 0 },
      });
    }
    const log = this.logs.get(request.partition) ?? [];
    const until = request.untilOffset ?? log.length;
    for (let i = request.fromOffset; i < until; i += 2) yield log.slice(i, Math.min(i + 2, until));
  }

  async send(records: readonly KafkaRecord[]): Promise<void> {
    for (const record of records) {
      const partition = record.partition ?? 0;
      const log = this.logs.get(partition) ?? [];
      log.push({ ...record, partition, offset: log.length, timestampMs: 0 });
      this.logs.set(partition, log);
    }
  }

  async close(): Promise<void> {}
}

function admin(existingPartitions?: number) {
  const specs: OffsetsTopicSpec[] = [];
  return {
    specs,
    async ensureTopic(spec: OffsetsTopicSpec) {
      specs.push(spec);
      return { partitions: existingPartitions ?? spec.partitions };
    },
    async topicExists() {
      return existingPartitions !== undefined;
    },
  };
}

async function storeOn(topic: FakeTopic, partitions = 25, clock?: Clock) {
  return KafkaOffsetStore.create({
    topic: 'connect-offsets',
    partitions,
    replicationFactor: 3,
    admin: admin(),
    reader: topic,
    writer: topic,
    ...(clock ? { clock } : {}),
  });
}

const FILE = { filename: '/data/in.txt' };
const FILE_KEY = '["local-file-source",{"filename":"/data/in.txt"}]';

describe('kafka offset store', () => {
  it('creates a compacted topic as configured, and uses the real partition count of an existing one', async () => {
    const fresh = admin();
    const topic = new FakeTopic();
    await KafkaOffsetStore.create({
      topic: 'offs',
      partitions: 25,
      replicationFactor: -1,
      admin: fresh,
      reader: topic,
    });
    expect(fresh.specs).toEqual([
      { topic: 'offs', partitions: 25, replicationFactor: -1, configs: { 'cleanup.policy': 'compact' } },
    ]);
    const existing = await KafkaOffsetStore.create({
      topic: 'offs',
      partitions: 25,
      replicationFactor: 3,
      admin: admin(50),
      reader: topic,
    });
    expect(existing.topicPartitions).toBe(50);
  });

  it("produces Connect's exact record bytes to the partition Kafka's partitioner picks", async () => {
    // Prepare
    const topic = new FakeTopic();
    const session = await (await storeOn(topic)).open('local-file-source', 0);
    // Act
    await session.commit([{ partition: FILE, offset: { position: 1234 } }]);
    // Assess
    const [record] = topic.logs.get(11) ?? [];
    expect(Buffer.from(record!.key!).toString()).toBe(FILE_KEY);
    expect(Buffer.from(record!.value!).toString()).toBe('{"position":1234}');
    expect(record!.headers).toEqual([]);
    expect([...topic.logs.keys()]).toEqual([11]);
  });

  it('reads the last value per key, and a tombstone deletes', async () => {
    const topic = new FakeTopic();
    const store = await storeOn(topic, 1);
    const session = await store.open('c', 0);
    await session.commit([{ partition: { p: 1 }, offset: { n: 1 } }]);
    await session.commit([{ partition: { p: 2 }, offset: { n: 1 } }]);
    await session.commit([{ partition: { p: 1 }, offset: { n: 2 } }]);
    await session.commit([{ partition: { p: 2 }, offset: null }]);
    expect(await session.read([{ p: 1 }, { p: 2 }, { p: 3 }])).toEqual([{ n: 2 }, undefined, undefined]);
  });

  it('reads only the topic partitions its keys hash to, up to the end it saw first', async () => {
    // Prepare: offsets of several connectors spread over 25 partitions
    const topic = new FakeTopic();
    const store = await storeOn(topic);
    for (const connector of ['a', 'b', 'c', 'd']) {
      const other = await store.open(connector, 0);
      await other.commit([
        { partition: FILE, offset: { position: 1 } },
        { partition: { x: 1 }, offset: { n: 1 } },
      ]);
    }
    await (await store.open('local-file-source', 0)).commit([{ partition: FILE, offset: { position: 7 } }]);
    topic.reads.length = 0;
    // Act
    const session = await store.open('local-file-source', 0);
    const offsets = await session.read([FILE]);
    // Assess
    expect(offsets).toEqual([{ position: 7 }]);
    expect(topic.reads.map((r) => [r.partition, r.fromOffset, r.untilOffset])).toEqual([
      [partitionForKey(utf8(FILE_KEY), 25), 0, topic.logs.get(11)!.length],
    ]);
  });

  it('ignores records of other connectors and records that are not offsets', async () => {
    const topic = new FakeTopic();
    const store = await storeOn(topic, 1);
    await topic.send([
      { topic: 'connect-offsets', partition: 0, key: null, value: utf8('{}'), headers: [] },
      { topic: 'connect-offsets', partition: 0, key: utf8('not json'), value: utf8('x'), headers: [] },
      {
        topic: 'connect-offsets',
        partition: 0,
        key: utf8('["other",{"p":1}]'),
        value: utf8('{"n":9}'),
        headers: [],
      },
      // A key with other spacing is another key, as in Connect.
      {
        topic: 'connect-offsets',
        partition: 0,
        key: utf8('["c", {"p":1}]'),
        value: utf8('{"n":8}'),
        headers: [],
      },
    ]);
    expect(await (await store.open('c', 0)).read([{ p: 1 }])).toEqual([undefined]);
  });

  it('starts at the log start when earlier records were deleted', async () => {
    const topic = new FakeTopic();
    const store = await storeOn(topic, 1);
    const session = await store.open('c', 0);
    await session.commit([{ partition: { p: 1 }, offset: { n: 1 } }]);
    await session.commit([{ partition: { p: 1 }, offset: { n: 2 } }]);
    topic.logStart = 1;
    expect(await session.read([{ p: 1 }])).toEqual([{ n: 2 }]);
    expect(topic.reads.map((r) => r.fromOffset)).toEqual([0, 1]);
  });

  it('fails a read that ran into its deadline instead of returning stale offsets', async () => {
    const topic = new FakeTopic();
    let nowMs = 0;
    const clock: Clock = { nowMs: () => nowMs, sleep: async () => undefined };
    const store = await storeOn(topic, 1, clock);
    const session = await store.open('c', 0);
    await session.commit([{ partition: { p: 1 }, offset: { n: 1 } }]);
    const slowReader: PartitionReader = {
      endOffsets: (t, p) => topic.endOffsets(t, p),
      async *read(request) {
        nowMs += 60_000; // the deadline passes mid-read: the reader stops early, quietly
        yield* topic.read({ ...request, untilOffset: request.fromOffset });
      },
    };
    const slow = await KafkaOffsetStore.create({
      topic: 'connect-offsets',
      partitions: 1,
      replicationFactor: 1,
      admin: admin(),
      reader: slowReader,
      clock,
    });
    await expect((await slow.open('c', 0)).read([{ p: 1 }])).rejects.toMatchObject({
      code: 'CONNECT_FN_OFFSET_STORAGE',
      retriable: true,
    });
  });

  it("waits for an open transaction only until the invocation's budget deadline, then fails retriably", async () => {
    const topic = new FakeTopic();
    let nowMs = 0;
    const clock: Clock = {
      nowMs: () => nowMs,
      sleep: async (ms) => {
        nowMs += ms;
      },
    };
    // An open transaction: the high watermark stays ahead of the last stable offset.
    const blocked: PartitionReader = {
      endOffsets: async (_t, p) => new Map(p.map((x) => [x, 0])),
      highWatermarks: async (_t, p) => new Map(p.map((x) => [x, 3])),
      read: (request) => topic.read(request),
    };
    const store = await KafkaOffsetStore.create({
      topic: 'connect-offsets',
      partitions: 1,
      replicationFactor: 1,
      admin: admin(),
      reader: blocked,
      clock,
    });

    const read = (await store.open('c', 0, 2_000)).read([{ p: 1 }]);

    await expect(read).rejects.toMatchObject({ code: 'CONNECT_FN_OFFSET_STORAGE', retriable: true });
    await expect(read).rejects.toThrow(/an open transaction holds back committed offsets/);
    expect(nowMs).toBeLessThanOrEqual(2_000); // not the store's own 30 s read timeout
  });

  it('encodes offset records for a transaction with the same bytes and partitions as commit', async () => {
    const topic = new FakeTopic();
    const store = await storeOn(topic);
    const records = store.records('local-file-source', [
      { partition: FILE, offset: { position: 1 } },
      { partition: { filename: '/gone' }, offset: null },
      { partition: FILE, offset: { position: 2 } },
    ]);
    expect(
      records.map((r) => [
        r.topic,
        r.partition,
        Buffer.from(r.key!).toString(),
        r.value && Buffer.from(r.value).toString(),
      ]),
    ).toEqual([
      [
        'connect-offsets',
        partitionForKey(utf8('["local-file-source",{"filename":"/gone"}]'), 25),
        '["local-file-source",{"filename":"/gone"}]',
        null,
      ],
      ['connect-offsets', 11, FILE_KEY, '{"position":2}'],
    ]);
  });

  it('refuses commit without a writer (offsets then go through transactions)', async () => {
    const topic = new FakeTopic();
    const store = await KafkaOffsetStore.create({
      topic: 't',
      partitions: 1,
      replicationFactor: 1,
      admin: admin(),
      reader: topic,
    });
    await expect(
      (await store.open('c', 0)).commit([{ partition: { p: 1 }, offset: { n: 1 } }]),
    ).rejects.toThrow(TypeError);
  });
});
