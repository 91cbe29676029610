/**
 * Kafka event source mapping events built from records read from a broker, the way AWS builds them: one
 * `"<topic>-<partition>"` entry per partition (in the order the partitions first appear), key and value in
 * base64, a null key and a tombstone's value left out, header values as arrays of Java's signed bytes
 * (-128..127: AWS serialises Java `byte[]`; see aws/aws-lambda-go#506, aws/aws-lambda-dotnet#1476).
 * AWS documents no null header value; it is written as JSON null here.
 *
 * @example
 * ```ts
 * const event = kafkaEventFrom(await readAll(...), 'aws:kafka');
 * const decoded = decodeKafkaEvent(JSON.parse(JSON.stringify(event)));
 * ```
 * @module
 */
import type { KafkaEventSource } from '../../src/lambda/kafka-event.ts';
import type { FetchedRecord } from '../../src/runtime/ports.ts';

/**
 * A record as it appears in a Kafka event.
 *
 * @example
 * ```ts
 * const record: KafkaEventRecord = kafkaEventFrom(records, 'aws:kafka').records['orders-0']![0]!;
 * ```
 */
export interface KafkaEventRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: 'CREATE_TIME' | 'LOG_APPEND_TIME';
  key?: string;
  value?: string;
  headers: Record<string, number[] | null>[];
}

/**
 * A Kafka event source mapping's event, as JSON.
 *
 * @example
 * ```ts
 * const event: KafkaLambdaEvent = kafkaEventFrom(records, 'SelfManagedKafka');
 * ```
 */
export interface KafkaLambdaEvent {
  eventSource: KafkaEventSource;
  eventSourceArn?: string;
  bootstrapServers: string;
  records: Record<string, KafkaEventRecord[]>;
}

/**
 * The cluster an event names (defaults: `localhost:9092` and a made-up MSK cluster ARN).
 *
 * @example
 * ```ts
 * kafkaEventFrom(records, 'SelfManagedKafka', { bootstrapServers: stackEnv().kafkaBrokers });
 * ```
 */
export interface KafkaEventOptions {
  readonly bootstrapServers?: string;
  readonly eventSourceArn?: string;
}

const MSK_ARN = 'arn:aws:kafka:us-east-1:123456789012:cluster/local/00000000-0000-0000-0000-000000000000-1';

/**
 * The event an MSK (`aws:kafka`) or self-managed Kafka mapping would send for `records`.
 *
 * @example
 * ```ts
 * const event = kafkaEventFrom([{ topic: 'orders', partition: 0, offset: 7, timestampMs: 1, key: null,
 *   value: Buffer.from('hi'), headers: [] }], 'aws:kafka');
 * event.records['orders-0']; // [{ topic: 'orders', partition: 0, offset: 7, ..., value: 'aGk=', headers: [] }]
 * ```
 */
export function kafkaEventFrom(
  records: readonly FetchedRecord[],
  source: KafkaEventSource,
  options: KafkaEventOptions = {},
): KafkaLambdaEvent {
  const grouped: Record<string, KafkaEventRecord[]> = {};
  for (const record of records) {
    const key = `${record.topic}-${record.partition}`;
    grouped[key] ??= [];
    grouped[key].push(eventRecord(record));
  }
  const bootstrapServers = options.bootstrapServers ?? 'localhost:9092';
  return source === 'aws:kafka'
    ? {
        eventSource: source,
        eventSourceArn: options.eventSourceArn ?? MSK_ARN,
        bootstrapServers,
        records: grouped,
      }
    : { eventSource: source, bootstrapServers, records: grouped };
}

function eventRecord(record: FetchedRecord): KafkaEventRecord {
  const out: KafkaEventRecord = {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    timestamp: record.timestampMs,
    timestampType: 'CREATE_TIME',
    headers: record.headers.map(({ key, value }) => ({ [key]: value === null ? null : signedBytes(value) })),
  };
  if (record.key !== null) out.key = Buffer.from(record.key).toString('base64');
  if (record.value !== null) out.value = Buffer.from(record.value).toString('base64');
  return out;
}

/**
 * Java's view of bytes: 0x80..0xff are -128..-1.
 *
 * @example
 * ```ts
 * signedBytes(Buffer.from('ë')); // [-61, -85]
 * ```
 */
export function signedBytes(bytes: Uint8Array): number[] {
  return Array.from(bytes, (b) => (b > 127 ? b - 256 : b));
}

/**
 * Records as plain data with every byte as hex, for comparing records byte for byte with `toEqual`.
 *
 * @example
 * ```ts
 * expect(bytesView(decoded.partitions.flatMap((p) => p.records))).toEqual(bytesView(read));
 * ```
 */
export function bytesView(records: readonly FetchedRecord[]) {
  const hex = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString('hex'));
  return records.map((r) => ({
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestampMs: r.timestampMs,
    key: hex(r.key),
    value: hex(r.value),
    headers: r.headers.map((h) => [h.key, hex(h.value)]),
  }));
}
