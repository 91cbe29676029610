/**
 * Our records (`KafkaRecord`, `FetchedRecord` from the runtime's ports) to and from kafkajs' shapes, and
 * how sends are split into produce requests.
 * @module
 */
import type { IHeaders, Message, TopicMessages } from 'kafkajs';
import { RecordTooLargeError } from '../errors.ts';
import type { FetchedRecord, KafkaHeader, KafkaRecord } from '../runtime/ports.ts';
import { KafkaOperationError } from './errors.ts';
import { hasKafkaType } from './kafka-failure.ts';

/** Per-record framing in a v2 record batch (length, attributes, deltas, header count), roughly. */
const RECORD_OVERHEAD_BYTES = 24;

function toBuffer(bytes: Uint8Array | null): Buffer | null {
  if (bytes === null) return null;
  // kafkajs writes a non-Buffer value with String(value): a plain Uint8Array must become a Buffer.
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toHeaders(record: KafkaRecord): IHeaders | undefined {
  if (record.headers.length === 0) return undefined;
  // kafkajs takes headers as an object: repeated keys become an array, in order.
  const grouped: Record<string, Buffer[]> = {};
  for (const { key, value } of record.headers) {
    if (value === null) {
      // kafkajs 2.2.4 sizes a header with Buffer.byteLength(value) before checking for null, and throws.
      // Writing an empty value instead would silently change the record, so we refuse it clearly.
      throw new KafkaOperationError(
        `header ${JSON.stringify(key)} of a record for ${record.topic} has a null value, which kafkajs cannot write`,
      );
    }
    const values = grouped[key] ?? [];
    values.push(toBuffer(value)!);
    grouped[key] = values;
  }
  const out: Record<string, Buffer | Buffer[]> = {};
  for (const [key, values] of Object.entries(grouped)) out[key] = values.length === 1 ? values[0]! : values;
  return out;
}

/** The kafkajs message for `record`. */
export function toMessage(record: KafkaRecord): Message {
  const message: Message = { key: toBuffer(record.key), value: toBuffer(record.value) };
  if (record.partition !== undefined) message.partition = record.partition;
  const headers = toHeaders(record);
  if (headers !== undefined) message.headers = headers;
  if (record.timestampMs !== undefined) message.timestamp = String(record.timestampMs);
  return message;
}

/** Bytes a record adds to a produce request, before compression. */
export function recordSizeBytes(record: KafkaRecord): number {
  let size = RECORD_OVERHEAD_BYTES + (record.key?.byteLength ?? 0) + (record.value?.byteLength ?? 0);
  for (const header of record.headers)
    size += Buffer.byteLength(header.key) + (header.value?.byteLength ?? 0) + 2;
  return size;
}

/**
 * `records` as consecutive produce requests of at most `maxRequestBytes` each, each grouped by topic.
 * Order is kept: request i holds only records sent before request i+1. A record larger than the limit is
 * refused before anything is sent, as Kafka's producer refuses it (`RecordTooLargeException`).
 */
export function produceRequests(records: readonly KafkaRecord[], maxRequestBytes: number): TopicMessages[][] {
  checkRecordSizes(records, maxRequestBytes);
  const requests: TopicMessages[][] = [];
  let current = new Map<string, Message[]>();
  let bytes = 0;
  const flush = () => {
    if (current.size > 0) requests.push([...current].map(([topic, messages]) => ({ topic, messages })));
    current = new Map();
    bytes = 0;
  };
  for (const record of records) {
    const size = recordSizeBytes(record);
    if (bytes > 0 && bytes + size > maxRequestBytes) flush();
    let messages = current.get(record.topic);
    if (messages === undefined) {
      messages = [];
      current.set(record.topic, messages);
    }
    messages.push(toMessage(record));
    bytes += size;
  }
  flush();
  return requests;
}

/** Throws {@link RecordTooLargeError} for the first record larger than `maxRequestBytes`. */
function checkRecordSizes(records: readonly KafkaRecord[], maxRequestBytes: number): void {
  for (let index = 0; index < records.length; index++) {
    const record = records[index] as KafkaRecord;
    const sizeBytes = recordSizeBytes(record);
    if (sizeBytes <= maxRequestBytes) continue;
    throw new RecordTooLargeError(
      `a record for topic ${record.topic} is ${sizeBytes} bytes, more than max.request.size (${maxRequestBytes} bytes); ` +
        "raise producer.max.request.size (and the topic's max.message.bytes), or make the record smaller",
      { index, sizeBytes, limitBytes: maxRequestBytes },
    );
  }
}

/** Kafka's answers to a produce request holding a record larger than the topic or the broker takes. */
const TOO_LARGE_TYPES: ReadonlySet<string> = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** How many records a produce request holds (requests are consecutive runs of the records sent). */
export function requestLength(request: readonly TopicMessages[]): number {
  let n = 0;
  for (const { messages } of request) n += messages.length;
  return n;
}

/**
 * `err` as a {@link RecordTooLargeError} naming the largest of `records[start, start + length)` when the
 * broker refused that request as too large; any other error unchanged.
 */
export function refusedAsTooLarge(
  err: unknown,
  records: readonly KafkaRecord[],
  start: number,
  length: number,
): unknown {
  if (!hasKafkaType(err, TOO_LARGE_TYPES)) return err;
  let index = start;
  let sizeBytes = -1;
  for (let i = start; i < start + length && i < records.length; i++) {
    const size = recordSizeBytes(records[i] as KafkaRecord);
    if (size > sizeBytes) [index, sizeBytes] = [i, size];
  }
  const topic = records[index]?.topic ?? '?';
  return new RecordTooLargeError(
    `the broker refused a record for topic ${topic} of ${sizeBytes} bytes (the largest of its request) as larger than it takes: ` +
      "more than the topic's max.message.bytes (the broker's message.max.bytes by default); raise it, or make the record smaller",
    { index, sizeBytes, limitBytes: undefined },
    { cause: err },
  );
}

/** A record as kafkajs decodes it from a fetch response (the fields we read). */
export interface DecodedMessage {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: string;
  readonly offset: string;
  readonly headers?: Readonly<Record<string, Buffer | null | readonly (Buffer | null)[] | undefined>>;
}

function fromHeaders(headers: DecodedMessage['headers']): KafkaHeader[] {
  const out: KafkaHeader[] = [];
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const values: readonly (Buffer | null)[] = Array.isArray(value) ? value : [value as Buffer | null];
    for (const v of values) out.push({ key, value: v });
  }
  return out;
}

/** Our fetched record for a decoded message of `topic`/`partition`. */
export function fromMessage(topic: string, partition: number, message: DecodedMessage): FetchedRecord {
  return {
    topic,
    partition,
    offset: Number(message.offset),
    timestampMs: Number(message.timestamp),
    key: message.key,
    value: message.value,
    headers: fromHeaders(message.headers),
  };
}

/** Bytes of record data (key, value, headers) a fetched record holds. */
export function fetchedBytes(record: FetchedRecord): number {
  return recordSizeBytes(record) - RECORD_OVERHEAD_BYTES;
}
