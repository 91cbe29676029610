import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClients, type KafkaClients } from '../../../src/kafka/index.ts';
import { decodeKafkaEvent, partialBatchResponse } from '../../../src/lambda/kafka-event.ts';
import type { FetchedRecord, KafkaRecord } from '../../../src/runtime/ports.ts';
import { stackEnv } from '../../stack/env.ts';
import { bytesView, kafkaEventFrom } from '../../support/kafka-events.ts';
import { kafkaWorker } from '../../unit/kafka/worker-values.ts';
import { freshTopic, inSeconds, rawAdmin, readAll, utf8 } from '../kafka/support.ts';

/** Every byte value once, in an order that starts with the ones Java reads as negative. */
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => (i + 128) % 256);

/** What is written: string and binary keys, no key, an empty key, a tombstone, binary headers. */
function written(topic: string): KafkaRecord[] {
  const record = (partition: number, fields: Partial<KafkaRecord>): KafkaRecord => ({
    topic,
    partition,
    key: null,
    value: null,
    headers: [],
    ...fields,
  });
  return [
    record(0, {
      key: utf8('order-1'),
      value: utf8('{"id":1}'),
      headers: [{ key: 'content-type', value: utf8('application/json') }],
      timestampMs: 1_700_000_000_123,
    }),
    record(0, {
      key: new Uint8Array([0x00, 0xff, 0x80, 0x7f]),
      value: ALL_BYTES,
      headers: [
        { key: 'bin', value: ALL_BYTES },
        { key: 'bin', value: utf8('ë') },
        { key: 'empty', value: new Uint8Array(0) },
      ],
    }),
    record(0, { value: utf8('no key') }),
    record(0, { key: utf8('order-1') }),
    record(1, { key: new Uint8Array(0), value: new Uint8Array(0) }),
    record(1, { key: utf8('ü'), value: utf8('second partition') }),
  ];
}

/** Partition, key, value and headers, every byte as hex. */
function contents(records: readonly KafkaRecord[]) {
  const hex = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString('hex'));
  return records.map((r) => ({
    partition: r.partition,
    key: hex(r.key),
    value: hex(r.value),
    headers: r.headers.map((h) => [h.key, hex(h.value)]),
  }));
}

describe('Kafka events built from records read from the broker', () => {
  let admin: Admin;
  let clients: KafkaClients;
  let topic: string;
  let read: FetchedRecord[];

  beforeAll(async () => {
    admin = await rawAdmin();
    clients = createKafkaClients(kafkaWorker(stackEnv().kafkaBrokers));
    topic = await freshTopic(admin, 'lambda-event-orders-eu', 2);
    const writer = clients.recordWriter();
    await writer.send(written(topic));
    await writer.close();
    const reader = clients.partitionReader();
    try {
      read = [];
      for (const partition of [0, 1]) {
        const batches = await readAll(reader, { topic, partition, fromOffset: 0, deadlineMs: inSeconds(10) });
        read.push(...batches.flat());
      }
    } finally {
      await reader.close();
    }
  });

  afterAll(async () => {
    await admin.disconnect();
  });

  it('reads back what was written (the premise of the tests below)', () => {
    expect(topic).toContain('-');
    expect(contents(read)).toEqual(contents(written(topic)));
    expect(read.map((r) => [r.partition, r.offset])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 0],
      [1, 1],
    ]);
    expect(read[0]!.timestampMs).toBe(1_700_000_000_123);
  });

  it.each(['aws:kafka', 'SelfManagedKafka'] as const)(
    'decodes the %s event of those records to the very records, byte for byte',
    (source) => {
      const event = kafkaEventFrom(read, source, { bootstrapServers: stackEnv().kafkaBrokers });
      const onTheWire: unknown = JSON.parse(JSON.stringify(event));

      const decoded = decodeKafkaEvent(onTheWire);

      expect(Object.keys(event.records)).toEqual([`${topic}-0`, `${topic}-1`]);
      expect(decoded.eventSource).toBe(source);
      expect(decoded.bootstrapServers).toBe(stackEnv().kafkaBrokers);
      expect(decoded.partitions.map((p) => [p.topic, p.partition, p.records.length])).toEqual([
        [topic, 0, 4],
        [topic, 1, 2],
      ]);
      expect(bytesView(decoded.partitions.flatMap((p) => p.records))).toEqual(bytesView(read));
    },
  );

  it('answers an event with identifiers that name its own partitions and offsets', () => {
    const event = kafkaEventFrom(read, 'aws:kafka');
    const decoded = decodeKafkaEvent(JSON.parse(JSON.stringify(event)));
    const failed = decoded.partitions[1]!.records[1]!;

    const response = partialBatchResponse([failed]);

    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: { partition: `${topic}-1`, offset: 1 } }],
    });
    const { itemIdentifier } = response.batchItemFailures[0]!;
    expect(event.records[itemIdentifier.partition]!.map((r) => r.offset)).toContain(itemIdentifier.offset);
  });
});
