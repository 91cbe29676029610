import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClients, type KafkaClients, KafkaOperationError } from '../../../src/kafka/index.ts';
import { stackEnv } from '../../stack/env.ts';
import { kafkaWorker } from '../../unit/kafka/worker-values.ts';
import { freshTopic, inSeconds, rawAdmin, readAll, utf8, values } from './support.ts';

describe('IdempotentRecordWriter against the real broker', () => {
  let admin: Admin;
  let clients: KafkaClients;

  beforeAll(async () => {
    admin = await rawAdmin();
    clients = createKafkaClients(kafkaWorker(stackEnv().kafkaBrokers));
  });

  afterAll(async () => {
    await admin.disconnect();
  });

  it('keeps per-partition order across the produce requests a large send is split into', async () => {
    const topic = await freshTopic(admin, 'writer-order', 3);
    const small = createKafkaClients(
      kafkaWorker(stackEnv().kafkaBrokers, {}, { producer: { 'max.request.size': '2048' } }),
    );
    const writer = small.recordWriter();
    const records = Array.from({ length: 300 }, (_, i) => ({
      topic,
      key: utf8(`key-${i % 7}`), // the default partitioner spreads the keys over the partitions
      value: utf8(`${i % 7}:${i}`),
      headers: [],
    }));
    try {
      await writer.send(records);
    } finally {
      await writer.close();
    }
    const reader = clients.partitionReader();
    const read = await Promise.all(
      [0, 1, 2].map(async (partition) =>
        values(await readAll(reader, { topic, partition, fromOffset: 0, deadlineMs: inSeconds(10) })),
      ),
    );
    await reader.close();

    expect(read.flat()).toHaveLength(300);
    for (const partitionValues of read) {
      for (let key = 0; key < 7; key += 1) {
        const ofKey = partitionValues
          .filter((v) => v?.startsWith(`${key}:`))
          .map((v) => Number(v!.split(':')[1]));
        expect(ofKey).toEqual([...ofKey].sort((a, b) => a - b));
      }
    }
    expect(read.filter((p) => p.length > 0).length).toBeGreaterThan(1);
  });

  it('compresses with gzip when producer.compression.type=gzip', async () => {
    const topic = await freshTopic(admin, 'writer-gzip');
    const gzip = createKafkaClients(
      kafkaWorker(stackEnv().kafkaBrokers, {}, { producer: { 'compression.type': 'gzip' } }),
    );
    const writer = gzip.recordWriter();
    await writer.send([{ topic, partition: 0, key: null, value: utf8('x'.repeat(10_000)), headers: [] }]);
    await writer.close();
    const reader = clients.partitionReader();
    const read = values(
      await readAll(reader, { topic, partition: 0, fromOffset: 0, deadlineMs: inSeconds(10) }),
    );
    await reader.close();

    expect(read).toEqual(['x'.repeat(10_000)]);
  });

  it('refuses a null header value clearly (kafkajs cannot write one)', async () => {
    const writer = clients.recordWriter();
    const record = {
      topic: `unused-${randomUUID()}`,
      key: null,
      value: null,
      headers: [{ key: 'h', value: null }],
    };
    try {
      await expect(writer.send([record])).rejects.toBeInstanceOf(KafkaOperationError);
    } finally {
      await writer.close();
    }
  });
});
