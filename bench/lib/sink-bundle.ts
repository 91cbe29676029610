/**
 * What the sink benchmarks share: the Kafka → file sink bundle they run (a worker file and one connector
 * file, as a user writes them: Connect's FileStreamSink, StringConverter keys and values, offsets in
 * Kafka Connect's group `connect-<name>`), the ~1 KB records they read (datagen orders, produced once per
 * benchmark into a fresh topic) and the kafkajs client of the benchmark's own topics and baselines.
 * @module
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, type Message } from 'kafkajs';
import { datagenRecords, writeDatagenBundle } from './datagen-bundle.ts';

export const SINK_OFFSETS_TOPIC = 'connect-fn-bench-offsets';
/** The function timeout the benchmarks give every timed invocation (Lambda's maximum). */
export const SINK_TIMEOUT_MS = 900_000;
/** Log lines below warn are dropped: the benchmarks time the work, not the logging of it. */
export const SINK_ENV: Readonly<Record<string, string>> = { LOG_LEVEL: 'warn' };

export interface SinkBundle {
  /** Where to write the bundle; created. */
  readonly dir: string;
  readonly brokers: string;
  /** Connector name: a fresh one is a fresh group (`connect-<name>`), read from the earliest offset. */
  readonly connector: string;
  readonly topic: string;
  /** The file sink's `file` (absolute). */
  readonly file: string;
  /** `invocation.max.records` (default 1,000,000: the topic's end, not the budget, ends the invocation). */
  readonly maxRecords?: number;
  /** `trigger`: `schedule` (default) or `kafka`. */
  readonly trigger?: 'schedule' | 'kafka';
  /** The worker's `offset.flush.interval.ms` (default: not set, i.e. commit every batch). */
  readonly flushIntervalMs?: number;
}

/** Writes the bundle; returns its dir. */
export function writeSinkBundle(b: SinkBundle): string {
  mkdirSync(join(b.dir, 'connectors'), { recursive: true });
  const worker = [
    `bootstrap.servers=${b.brokers}`,
    'group.id=connect-fn-bench',
    'key.converter=org.apache.kafka.connect.storage.StringConverter',
    'value.converter=org.apache.kafka.connect.storage.StringConverter',
    'offset.storage=kafka',
    `offset.storage.topic=${SINK_OFFSETS_TOPIC}`,
    'offset.storage.replication.factor=1',
    ...(b.flushIntervalMs === undefined ? [] : [`offset.flush.interval.ms=${b.flushIntervalMs}`]),
  ];
  const connector = [
    `name=${b.connector}`,
    'connector.class=FileStreamSink',
    'tasks.max=1',
    `file=${b.file}`,
    `topics=${b.topic}`,
    `trigger=${b.trigger ?? 'schedule'}`,
    `invocation.max.records=${b.maxRecords ?? 1_000_000}`,
    'invocation.max.bytes=1073741824',
    `invocation.timeout.ms=${SINK_TIMEOUT_MS}`,
  ];
  writeFileSync(join(b.dir, 'worker.properties'), `${worker.join('\n')}\n`);
  writeFileSync(join(b.dir, 'connectors', `${b.connector}.properties`), `${connector.join('\n')}\n`);
  return b.dir;
}

/** A kafkajs client for topics, producing and baselines; its errors go to stderr. */
export function benchKafka(brokers: string, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: brokers.split(','),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    logLevel: logLevel.ERROR,
    logCreator: () => (entry) => {
      const { message, error } = entry.log;
      if (entry.namespace === 'Connection' && String(message).startsWith('Response ')) return;
      process.stderr.write(`[bench kafkajs] ${message}${typeof error === 'string' ? `: ${error}` : ''}\n`);
    },
  });
}

export interface Produced {
  readonly records: number;
  /** Key and value bytes of the records (what MB/s counts). */
  readonly bytes: number;
  /** Value bytes + one line feed per record: what the file sink appends for them. */
  readonly lineBytes: number;
}

const PRODUCE_BATCH = 500;

/**
 * Produces `count` datagen orders of about `recordBytes` each (JSON values, string keys; seed 42) to
 * `topic`, record i to partition i mod `partitions`, acks=all. `dir` receives the datagen bundle that
 * generates them.
 */
export async function produceDatagen(
  kafka: Kafka,
  options: {
    readonly dir: string;
    readonly brokers: string;
    readonly topic: string;
    readonly partitions: number;
    readonly count: number;
    readonly recordBytes: number;
  },
): Promise<Produced> {
  const sample = writeDatagenBundle({
    dir: options.dir,
    brokers: options.brokers,
    connector: 'bench-sink-sample',
    topic: options.topic,
    exactlyOnce: false,
    offsetsTopic: SINK_OFFSETS_TOPIC,
    maxRecords: options.count,
    recordBytes: options.recordBytes,
  });
  const records = await datagenRecords(sample, 'bench-sink-sample', options.count);
  let bytes = 0;
  let lineBytes = 0;
  const messages: Message[] = records.map((r, i) => {
    bytes += (r.key?.byteLength ?? 0) + (r.value?.byteLength ?? 0);
    lineBytes += (r.value?.byteLength ?? 4) + 1;
    return {
      partition: i % options.partitions,
      key: r.key === null ? null : Buffer.from(r.key),
      value: r.value === null ? null : Buffer.from(r.value),
    };
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += PRODUCE_BATCH) {
      await producer.send({ topic: options.topic, acks: -1, messages: messages.slice(i, i + PRODUCE_BATCH) });
    }
  } finally {
    await producer.disconnect();
  }
  return { records: records.length, bytes, lineBytes };
}
