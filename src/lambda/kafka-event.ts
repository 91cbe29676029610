/**
 * The events of Kafka event source mappings (Amazon MSK and self-managed Kafka), decoded into the records
 * the runtime reads from a broker, and the partial batch response that tells the mapping where to resume.
 *
 * An event, as AWS documents it (https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html and
 * https://docs.aws.amazon.com/lambda/latest/dg/with-kafka.html#smaa-sample-event):
 *
 * ```json
 * { "eventSource": "aws:kafka", "eventSourceArn": "arn:aws:kafka:...", "bootstrapServers": "b-1...:9092,...",
 *   "records": { "mytopic-0": [ { "topic": "mytopic", "partition": 0, "offset": 15,
 *     "timestamp": 1545084650987, "timestampType": "CREATE_TIME", "key": "<base64>", "value": "<base64>",
 *     "headers": [ { "headerKey": [104, 101, 97, 100, 101, 114] } ] } ] } }
 * ```
 *
 * Decoding rules:
 * - `records` is keyed `"<topic>-<partition>"`; the key is split on its **last** `-` (topic names may hold
 *   `-`), and every record under it must carry that topic and partition.
 * - Each partition's records must be in strictly increasing offset order; they are checked, never sorted.
 *   Partitions come out sorted by topic, then partition number, whatever the order of the keys.
 * - `key` and `value` are standard base64 with padding, as in AWS's events. An absent or null key
 *   is a null key; an absent or null value is a tombstone. The padding bits are not checked: AWS's own
 *   sample key (`...1234==`) has non-zero ones.
 * - A header is an object with one key whose value is an array of bytes. AWS serialises Java's signed
 *   bytes (-128..127: `ë` arrives as `[-61, -85]`; aws/aws-lambda-go#506, aws/aws-lambda-dotnet#1476,
 *   aws-powertools/powertools-lambda-python#6862); some documents show unsigned ones (0..255). Both are
 *   accepted. A null value is a null header value (AWS documents none; kafkajs cannot write one).
 * - `timestampType` and fields not listed here are ignored.
 *
 * Every violation throws {@link EventDecodeError} naming the place and what was expected; messages never
 * hold a record's key, value or header bytes. Validation is hand-written rather than a zod schema so each
 * message names its exact place, and the per-record cost stays a few property reads (an event holds up to
 * 10,000 records, 6 MB).
 * @module
 */
import { EventDecodeError } from '../errors.ts';
import type { FetchedRecord, KafkaHeader } from '../runtime/ports.ts';
import type { TopicPartitionOffset } from '../spi/sink.ts';

/**
 * The event sources of Kafka event source mappings: Amazon MSK and self-managed Kafka.
 *
 * @example
 * ```ts
 * const source: KafkaEventSource = decodeKafkaEvent(event).eventSource; // 'aws:kafka' for MSK
 * ```
 */
export type KafkaEventSource = 'aws:kafka' | 'SelfManagedKafka';

/**
 * The records of one partition in an event, in strictly increasing offset order.
 *
 * @example
 * ```ts
 * for (const { topic, partition, records } of decodeKafkaEvent(event).partitions) {
 *   console.log(`${topic}/${partition}: offsets ${records[0]?.offset}..${records.at(-1)?.offset}`);
 * }
 * ```
 */
export interface KafkaEventPartition {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly FetchedRecord[];
}

/**
 * A Kafka event source mapping's event, decoded.
 *
 * @example
 * ```ts
 * const { eventSource, eventSourceArn, bootstrapServers, partitions } = decodeKafkaEvent(event);
 * ```
 */
export interface DecodedKafkaEvent {
  readonly eventSource: KafkaEventSource;
  /** The MSK cluster's ARN (MSK only). */
  readonly eventSourceArn?: string;
  /** `host:port[,host:port...]`: always for self-managed Kafka, when present for MSK. */
  readonly bootstrapServers?: string;
  /** Sorted by topic, then partition. */
  readonly partitions: readonly KafkaEventPartition[];
}

/**
 * Where a partition resumes: the partial batch response's `itemIdentifier` for Kafka.
 *
 * @example
 * ```ts
 * const id: KafkaItemIdentifier = { partition: 'orders-eu-3', offset: 42 }; // topic "orders-eu", partition 3
 * ```
 */
export interface KafkaItemIdentifier {
  /** `"<topic>-<partition>"`, the event's `records` key. */
  readonly partition: string;
  readonly offset: number;
}

/**
 * The partial batch response of a Kafka event source mapping (`ReportBatchItemFailures`), what the
 * handler returns.
 *
 * @example
 * ```ts
 * const response: KafkaBatchResponse = partialBatchResponse(failedPartitions);
 * return response; // {"batchItemFailures":[{"itemIdentifier":{"partition":"orders-eu-3","offset":42}}]}
 * ```
 */
export interface KafkaBatchResponse {
  readonly batchItemFailures: readonly { readonly itemIdentifier: KafkaItemIdentifier }[];
}

type ClusterField = 'eventSourceArn' | 'bootstrapServers';

interface ClusterFields {
  readonly required: readonly ClusterField[];
  readonly optional: readonly ClusterField[];
}

/** What differs between the event sources: the fields that name the cluster. */
const CLUSTER_FIELDS: Readonly<Record<KafkaEventSource, ClusterFields>> = {
  'aws:kafka': { required: ['eventSourceArn'], optional: ['bootstrapServers'] },
  SelfManagedKafka: { required: ['bootstrapServers'], optional: [] },
};

const EQUALS = 0x3d;

/** A character of standard base64's alphabet: A-Z, a-z, 0-9, "+", "/". */
function isBase64Char(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2b ||
    c === 0x2f
  );
}

/**
 * Standard base64 with padding: a multiple of 4 characters of the alphabet, the last one or two of which
 * may be "=". A loop over char codes: on a 6 MB event the equivalent regular expression was the largest
 * single cost of decoding (~28 ms against ~5 ms for the decoding itself).
 */
function isBase64(text: string): boolean {
  if (text.length % 4 !== 0) return false;
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === EQUALS) end--;
  if (end > 0 && text.charCodeAt(end - 1) === EQUALS) end--;
  for (let i = 0; i < end; i++) if (!isBase64Char(text.charCodeAt(i))) return false;
  return true;
}
/** A partition number as Kafka writes it: no sign, no leading zeros. */
const PARTITION = /^(?:0|[1-9][0-9]{0,9})$/;
const MAX_PARTITION = 2_147_483_647;

type Json = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a value is, for messages: its kind, never its content. */
function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return typeof value === 'number' ? 'a number' : `a ${typeof value}`;
}

function fail(path: string, expected: string, got: string): never {
  throw new EventDecodeError(`${path}: expected ${expected} (got ${got})`);
}

/**
 * Decodes the event of an MSK or self-managed Kafka event source mapping. Throws {@link EventDecodeError}
 * (`CONNECT_FN_EVENT`) for anything else; see the module's documentation for the rules.
 *
 * @example
 * ```ts
 * const event = decodeKafkaEvent({ eventSource: 'SelfManagedKafka', bootstrapServers: 'b:9092',
 *   records: { 'orders-eu-0': [{ topic: 'orders-eu', partition: 0, offset: 7, timestamp: 1700000000000,
 *     timestampType: 'CREATE_TIME', value: 'aGk=', headers: [] }] } });
 * event.partitions[0]; // { topic: 'orders-eu', partition: 0, records: [{ offset: 7, key: null, ... }] }
 * ```
 */
export function decodeKafkaEvent(event: unknown): DecodedKafkaEvent {
  if (!isObject(event)) fail('event', 'an object', kindOf(event));
  const eventSource = eventSourceOf(event.eventSource);
  const records = event.records;
  if (!isObject(records)) fail('records', 'an object keyed "<topic>-<partition>"', kindOf(records));
  const partitions = Object.entries(records).map(([key, value]) => decodePartition(key, value));
  partitions.sort(byTopicPartition);
  return { eventSource, ...clusterOf(event, eventSource), partitions };
}

function eventSourceOf(value: unknown): KafkaEventSource {
  if (typeof value === 'string' && Object.hasOwn(CLUSTER_FIELDS, value)) return value as KafkaEventSource;
  const got = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : kindOf(value);
  const known = Object.keys(CLUSTER_FIELDS).map((source) => JSON.stringify(source));
  return fail('eventSource', known.join(' or '), got);
}

function clusterOf(event: Json, source: KafkaEventSource): { [field in ClusterField]?: string } {
  const fields = CLUSTER_FIELDS[source];
  const cluster: { [field in ClusterField]?: string } = {};
  for (const field of [...fields.required, ...fields.optional]) {
    const value = event[field];
    if (typeof value === 'string' && value !== '') cluster[field] = value;
    else if (fields.required.includes(field) || (value !== undefined && value !== null)) {
      fail(
        field,
        `a non-empty string for ${source} events`,
        value === '' ? 'an empty string' : kindOf(value),
      );
    }
  }
  return cluster;
}

function byTopicPartition(a: KafkaEventPartition, b: KafkaEventPartition): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  return a.partition - b.partition;
}

function decodePartition(key: string, value: unknown): KafkaEventPartition {
  const path = `records[${JSON.stringify(key)}]`;
  const { topic, partition } = splitKey(key, path);
  if (!Array.isArray(value)) fail(path, 'an array of records', kindOf(value));
  const records: FetchedRecord[] = [];
  for (const [i, raw] of value.entries()) {
    const record = decodeRecord(raw, `${path}[${i}]`, topic, partition);
    const previous = records.at(-1);
    if (previous !== undefined && record.offset <= previous.offset) {
      fail(
        `${path}[${i}].offset`,
        `an offset above ${previous.offset}, the one before it`,
        `${record.offset}`,
      );
    }
    records.push(record);
  }
  return { topic, partition, records };
}

/** `"<topic>-<partition>"`, split on the last `-`. */
function splitKey(key: string, path: string): { topic: string; partition: number } {
  const expected = 'a key "<topic>-<partition>"';
  const dash = key.lastIndexOf('-');
  if (dash < 0) fail(path, expected, 'no "-"');
  if (dash === 0) fail(path, expected, 'an empty topic');
  const digits = key.slice(dash + 1);
  if (!PARTITION.test(digits) || Number(digits) > MAX_PARTITION) {
    fail(path, expected, 'no partition number after the last "-"');
  }
  return { topic: key.slice(0, dash), partition: Number(digits) };
}

function decodeRecord(raw: unknown, path: string, topic: string, partition: number): FetchedRecord {
  if (!isObject(raw)) fail(path, 'a record object', kindOf(raw));
  if (raw.topic !== topic) {
    const got = typeof raw.topic === 'string' ? JSON.stringify(raw.topic) : kindOf(raw.topic);
    fail(`${path}.topic`, `${JSON.stringify(topic)}, the topic of its key`, got);
  }
  if (raw.partition !== partition) {
    const got = typeof raw.partition === 'number' ? `${raw.partition}` : kindOf(raw.partition);
    fail(`${path}.partition`, `${partition}, the partition of its key`, got);
  }
  return {
    topic,
    partition,
    offset: integerField(raw.offset, `${path}.offset`, 0),
    // Kafka's "no timestamp" is -1.
    timestampMs: integerField(raw.timestamp, `${path}.timestamp`, -1),
    key: base64Field(raw.key, `${path}.key`),
    value: base64Field(raw.value, `${path}.value`),
    headers: headersField(raw.headers, `${path}.headers`),
  };
}

/** A metadata number (offset, timestamp): safe to quote in messages, unlike record contents. */
function integerField(value: unknown, path: string, min: number): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min) return value;
  const expected = `an integer from ${min} to ${Number.MAX_SAFE_INTEGER} (2^53 - 1)`;
  // Beyond 2^53 - 1 the number the event was parsed into is not the one it held: say so, not "an integer".
  if (typeof value === 'number' && Number.isInteger(value) && value > Number.MAX_SAFE_INTEGER)
    return fail(path, expected, `${value}, beyond the range a JavaScript number holds exactly`);
  return fail(path, expected, typeof value === 'number' ? `${value}` : kindOf(value));
}

function base64Field(value: unknown, path: string): Uint8Array | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' && isBase64(value)) {
    return Buffer.from(value, 'base64');
  }
  return fail(path, 'base64', typeof value === 'string' ? 'a string that is not base64' : kindOf(value));
}

function headersField(value: unknown, path: string): KafkaHeader[] {
  if (!Array.isArray(value)) fail(path, 'an array of headers', kindOf(value));
  return value.map((header: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(header)) fail(at, 'an object with one key', kindOf(header));
    const keys = Object.keys(header);
    if (keys.length !== 1) fail(at, 'an object with one key', `${keys.length} keys`);
    const key = keys[0]!;
    return { key, value: headerBytes(header[key], `${at}.value`) };
  });
}

/** Java's signed bytes (-128..127) or unsigned ones (0..255), as one Uint8Array. */
function headerBytes(value: unknown, path: string): Uint8Array | null {
  if (value === null) return null;
  if (!Array.isArray(value)) fail(path, 'an array of bytes', kindOf(value));
  const bytes = new Uint8Array(value.length);
  for (const [i, byte] of value.entries()) {
    if (typeof byte !== 'number' || !Number.isInteger(byte) || byte < -128 || byte > 255) {
      const got =
        typeof byte !== 'number'
          ? kindOf(byte)
          : Number.isInteger(byte)
            ? 'a number outside that range'
            : 'a fraction';
      fail(`${path}[${i}]`, 'a byte, an integer from -128 to 255', got);
    }
    bytes[i] = byte & 0xff;
  }
  return bytes;
}

/**
 * The partial batch response (`FunctionResponseTypes: ["ReportBatchItemFailures"]`) for a Kafka event:
 * one `itemIdentifier` `{"partition": "<topic>-<partition>", "offset": <number>}` per failed partition, as
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html#kafka-partial-batch-response
 * documents. The mapping retries each listed partition from `offset`; the records of a listed partition
 * before it, and every record of an unlisted partition, count as processed. An empty list means the whole
 * batch succeeded.
 *
 * Give each failed partition's first undeliverable record, which must be in the event: AWS retries the
 * *whole* batch when an identifier names a partition or offset that the event does not hold. AWS documents
 * only this object form; a flat `"<topic>-<partition>-<offset>"` string (shown in some libraries' docs) is
 * not it.
 *
 * Throws RangeError (a caller's bug) for a partition listed twice, or a partition or offset that is not
 * a non-negative integer.
 *
 * @example
 * ```ts
 * partialBatchResponse([{ topic: 'orders-eu', partition: 3, offset: 42 }]);
 * // { batchItemFailures: [{ itemIdentifier: { partition: 'orders-eu-3', offset: 42 } }] }
 * partialBatchResponse([]); // { batchItemFailures: [] }: nothing to retry
 * ```
 */
export function partialBatchResponse(failures: readonly TopicPartitionOffset[]): KafkaBatchResponse {
  const listed = new Set<string>();
  const batchItemFailures = failures.map(({ topic, partition, offset }) => {
    const key = `${topic}-${partition}`;
    if (listed.has(key)) throw new RangeError(`partition ${key} is listed twice in a partial batch response`);
    if (!Number.isInteger(partition) || partition < 0 || !Number.isSafeInteger(offset) || offset < 0) {
      throw new RangeError(
        `${key}: the partition and offset must be non-negative integers (offset ${offset})`,
      );
    }
    listed.add(key);
    return { itemIdentifier: { partition: key, offset } };
  });
  return { batchItemFailures };
}
