/**
 * Helpers for the Kafka adapters' integration tests: topics on the stack's broker, records, reads.
 */
import { randomUUID } from 'node:crypto';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { vi } from 'vitest';
import { createKafkaClients } from '../../../src/kafka/index.ts';
import type {
  FetchedRecord,
  KafkaRecord,
  PartitionRead,
  PartitionReader,
} from '../../../src/runtime/ports.ts';
import { stackEnv } from '../../stack/env.ts';
import { kafkaWorker } from '../../unit/kafka/worker-values.ts';

/** A plain kafkajs admin on the PLAINTEXT listener, for setting up and inspecting. */
export async function rawAdmin(): Promise<Admin> {
  const kafka = new Kafka({
    clientId: 'kafka-adapter-tests',
    brokers: stackEnv().kafkaBrokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  return admin;
}

/** Creates a new topic with a unique name and returns the name. */
export async function freshTopic(admin: Admin, prefix: string, partitions = 1): Promise<string> {
  const topic = `${prefix}-${randomUUID()}`;
  await admin.createTopics({
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  return topic;
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : Buffer.from(bytes).toString('utf8');
}

/** A record of `topic` with value `value` (and key `k-<value>`), partition 0 unless given. */
export function record(topic: string, value: string, partition = 0): KafkaRecord {
  return { topic, partition, key: utf8(`k-${value}`), value: utf8(value), headers: [] };
}

/** Reads to the end of the request; returns the batches as yielded. */
export async function readAll(reader: PartitionReader, request: PartitionRead): Promise<FetchedRecord[][]> {
  const batches: FetchedRecord[][] = [];
  for await (const batch of reader.read(request)) batches.push([...batch]);
  return batches;
}

/** The values of `batches`, flattened, as text. */
export function values(batches: readonly (readonly FetchedRecord[])[]): (string | null)[] {
  return batches.flat().map((r) => text(r.value));
}

export const inSeconds = (s: number) => Date.now() + s * 1000;

/**
 * The last stable offset (what `reader` reports as the end) and the high watermark of `topic`-`partition`.
 * The high watermark is asked read_uncommitted: kafkajs' `admin.fetchTopicOffsets` asks read_committed,
 * so its `high` is the last stable offset too and can never tell that a transaction is pending.
 */
export async function stableAndHigh(
  reader: PartitionReader,
  topic: string,
  partition = 0,
): Promise<{ stable: number; high: number }> {
  if (reader.highWatermarks === undefined) throw new Error('this reader reports no high watermarks');
  const high = (await reader.highWatermarks(topic, [partition])).get(partition) ?? -1;
  const stable = (await reader.endOffsets(topic, [partition])).get(partition) ?? -1;
  return { stable, high };
}

/**
 * Waits until no transaction is pending on `topic`-`partition`: its last stable offset (what `reader`
 * reports) has reached the high watermark. A commit or abort returns before the broker has written the
 * markers that move the last stable offset; Kafka's own consumers see the same delay. The wait is for that
 * event; its timeout only detects a hang.
 */
export async function settledEnd(reader: PartitionReader, topic: string, partition = 0): Promise<number> {
  let end = -1;
  await vi.waitFor(
    async () => {
      // High watermark first: a marker written between the two requests then shows as "not yet settled".
      const { stable, high } = await stableAndHigh(reader, topic, partition);
      end = stable;
      if (stable !== high) throw new Error(`last stable offset ${stable}, high watermark ${high}`);
    },
    { timeout: 60_000, interval: 20 },
  );
  return end;
}

/** Sends `records` with the project's idempotent writer; resolves once all are acknowledged. */
export async function produceRecords(records: readonly KafkaRecord[]): Promise<void> {
  const writer = createKafkaClients(kafkaWorker(stackEnv().kafkaBrokers)).recordWriter();
  try {
    await writer.send(records);
  } finally {
    await writer.close();
  }
}

/** Every record of `partitions` of `topic`, read back with the group-less reader, partitions in turn. */
export async function readPartitions(topic: string, partitions: readonly number[]): Promise<FetchedRecord[]> {
  const reader = createKafkaClients(kafkaWorker(stackEnv().kafkaBrokers)).partitionReader();
  try {
    const out: FetchedRecord[] = [];
    for (const partition of partitions) {
      out.push(
        ...(await readAll(reader, { topic, partition, fromOffset: 0, deadlineMs: inSeconds(10) })).flat(),
      );
    }
    return out;
  } finally {
    await reader.close();
  }
}
