/**
 * The Kafka offset store on the real broker, through src/kafka's adapters: the topic it creates, the raw
 * bytes it produces (Connect's, in the partition Kafka's partitioner picks), records written the way
 * Connect writes them, and offset records inside transactions (read_committed).
 */
import { randomUUID } from 'node:crypto';
import { type Admin, ConfigResourceTypes, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClients, type KafkaClients, transactionalIdFor } from '../../../src/kafka/index.ts';
import { partitionForKey, utf8 } from '../../../src/offsets/connect-format.ts';
import { KafkaOffsetStore } from '../../../src/offsets/kafka-store.ts';
import type {
  FetchedRecord,
  PartitionRead,
  PartitionReader,
  RecordWriter,
} from '../../../src/runtime/ports.ts';
import { stackEnv } from '../../stack/env.ts';
import { kafkaWorker } from '../../unit/kafka/worker-values.ts';
import { GOLDEN_RECORDS } from '../../unit/offsets/golden-records.ts';

const FILE = { filename: '/data/in.txt' };
const PARTITIONS = 5;

describe('kafka offset store on the real broker', () => {
  let clients: KafkaClients;
  let raw: Kafka;
  let admin: Admin;
  let producer: Producer;
  const closing: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    clients = createKafkaClients(kafkaWorker(stackEnv().kafkaBrokers));
    raw = new Kafka({
      clientId: 'offsets-tests',
      brokers: stackEnv().kafkaBrokers.split(','),
      logLevel: logLevel.NOTHING,
    });
    admin = raw.admin();
    await admin.connect();
    // Java's default partitioner, as Connect's producer uses it (records carry no partition).
    producer = raw.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
  });

  afterAll(async () => {
    for (const c of closing) await c.close().catch(() => undefined);
    await producer?.disconnect();
    await admin?.disconnect();
  });

  /** A store on a new topic, with the reader recording which partitions it reads. */
  async function newStore(options: { writer?: RecordWriter } = {}) {
    const topic = `connect-offsets-${randomUUID()}`;
    const reader = clients.partitionReader();
    const topicAdmin = clients.topicAdmin();
    const writer = options.writer ?? clients.recordWriter();
    closing.push(reader, topicAdmin, writer);
    const reads: number[] = [];
    const recording: PartitionReader = {
      endOffsets: (t, p) => reader.endOffsets(t, p),
      read: (request: PartitionRead) => {
        reads.push(request.partition);
        return reader.read(request);
      },
    };
    const store = await KafkaOffsetStore.create({
      topic,
      partitions: PARTITIONS,
      replicationFactor: 1,
      admin: topicAdmin,
      reader: recording,
      writer,
    });
    return { store, topic, reads, reader };
  }

  /** Every record of `topic`, raw, read_committed. */
  async function rawRecords(reader: PartitionReader, topic: string): Promise<FetchedRecord[]> {
    const records: FetchedRecord[] = [];
    for (let partition = 0; partition < PARTITIONS; partition++) {
      for await (const batch of reader.read({
        topic,
        partition,
        fromOffset: 0,
        deadlineMs: Date.now() + 10_000,
      })) {
        records.push(...batch);
      }
    }
    return records;
  }

  it('creates the offsets topic compacted, with offset.storage.partitions', async () => {
    const { topic } = await newStore();
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(PARTITIONS);
    const configs = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
      includeSynonyms: false,
    });
    expect(configs.resources[0]?.configEntries[0]?.configValue).toBe('compact');
  });

  it("produces Connect's exact bytes to the partition Kafka's partitioner picks", async () => {
    // Act
    const { store, topic, reader } = await newStore();
    for (const golden of GOLDEN_RECORDS) {
      await (await store.open(golden.connector, 0)).commit([
        { partition: golden.partition, offset: golden.offset },
      ]);
    }
    // Assess: read the records back raw
    const records = await rawRecords(reader, topic);
    const seen = records.map((r) => ({
      key: Buffer.from(r.key!).toString('utf8'),
      value: r.value === null ? null : Buffer.from(r.value).toString('utf8'),
      partition: r.partition,
      headers: r.headers.length,
    }));
    const expected = GOLDEN_RECORDS.map((g) => ({
      key: g.key,
      value: g.value,
      partition: partitionForKey(utf8(g.key), PARTITIONS),
      headers: 0,
    }));
    expect(seen).toEqual(expect.arrayContaining(expected));
    expect(seen).toHaveLength(expected.length);
  });

  it('reads records written the way Connect writes them, touching only the partitions its keys hash to', async () => {
    // Prepare: Connect's producer sends key and value bytes, the default partitioner picks the partition
    const { store, topic, reads } = await newStore();
    const send = (key: string, value: string | null) =>
      producer.send({
        topic,
        acks: -1,
        messages: [{ key: Buffer.from(key), value: value === null ? null : Buffer.from(value) }],
      });
    await send('["local-file-source",{"filename":"/data/in.txt"}]', '{"position":1234}');
    await send('["local-file-source",{"filename":"/data/gone.txt"}]', '{"position":1}');
    await send('["local-file-source",{"filename":"/data/gone.txt"}]', null);
    await send('["other-connector",{"filename":"/data/in.txt"}]', '{"position":99}');
    // Act
    const session = await store.open('local-file-source', 0);
    const offsets = await session.read([FILE, { filename: '/data/gone.txt' }]);
    // Assess
    expect(offsets).toEqual([{ position: 1234 }, undefined]);
    const keys = [
      '["local-file-source",{"filename":"/data/in.txt"}]',
      '["local-file-source",{"filename":"/data/gone.txt"}]',
    ];
    expect(new Set(reads)).toEqual(new Set(keys.map((k) => partitionForKey(utf8(k), PARTITIONS))));
  });

  it('lets the last commit win, across sessions', async () => {
    const { store } = await newStore();
    const first = await store.open('c', 0);
    await first.commit([{ partition: FILE, offset: { position: 1 } }]);
    await first.commit([{ partition: FILE, offset: { position: 2 } }]);
    expect(await (await store.open('c', 0)).read([FILE])).toEqual([{ position: 2 }]);
  });

  it('makes offset records of a transaction visible only once it commits', async () => {
    const { store } = await newStore();
    const id = transactionalIdFor('connect-fn', `offsets-${randomUUID()}`, 0);
    const writer = clients.transactionalWriter(id);
    closing.push(writer);
    const session = await store.open('eos', 0);
    const aborted = await writer.begin();
    await aborted.send(store.records('eos', [{ partition: FILE, offset: { position: 666 } }]));
    await aborted.abort();
    const committed = await writer.begin();
    await committed.send(store.records('eos', [{ partition: FILE, offset: { position: 10 } }]));
    expect(await session.read([FILE])).toEqual([undefined]);
    await committed.commit();
    // The next invocation fences first: its InitProducerId waits until the commit markers are written,
    // so its read_committed read sees the offsets (a read right after commit() may not yet).
    const next = clients.transactionalWriter(id);
    closing.push(next);
    const nextTxn = await next.begin();
    expect(await (await store.open('eos', 0)).read([FILE])).toEqual([{ position: 10 }]);
    await nextTxn.abort();
  });
});
