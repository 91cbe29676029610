/**
 * Kafka Connect's `connect-offsets` records (DESIGN.md §4), pure functions only:
 *
 * - key = `["<connector>",{<source partition, fields in insertion order>}]`, value = the offset map or
 *   null (a tombstone deletes), both as Connect's JsonConverter writes them (see ./connect-json.ts);
 * - topic partition = `toPositive(murmur2(keyBytes)) % partitions`, Kafka's default partitioner.
 *
 * Offsets are looked up by exact key bytes, as Connect does, so a partition map must keep its field order.
 *
 * @example
 * ```ts
 * const key = encodeKey('local-file-source', { filename: '/data/in.txt' });
 * // '["local-file-source",{"filename":"/data/in.txt"}]'
 * const value = encodeValue({ position: 1234 }); // '{"position":1234}'
 * const partition = partitionForKey(utf8(key), 25);
 * ```
 * @module
 */
import type { OffsetValue, SourceOffset, SourcePartition } from '../spi/records.ts';
import { type ConnectJson, parseConnectJson, quoteJavaJson, writeConnectJson } from './connect-json.ts';
import { OffsetFormatError } from './errors.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of an encoded key or value. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * The source partition map as compact JSON: the map part of the Kafka key, and the DynamoDB sort key.
 *
 * @example
 * ```ts
 * encodePartition({ kafka_topic: 't', kafka_partition: 0 }); // '{"kafka_topic":"t","kafka_partition":0}'
 * ```
 */
export function encodePartition(partition: SourcePartition): string {
  return writeConnectJson(checkMap(partition, 'source partition'));
}

/**
 * The connect-offsets key of `partition` for `connector`.
 *
 * @example
 * ```ts
 * encodeKey('orders', { table: 'orders' }); // '["orders",{"table":"orders"}]'
 * ```
 */
export function encodeKey(connector: string, partition: SourcePartition): string {
  return keyFromEncodedPartition(connector, encodePartition(partition));
}

/** The key for an already encoded partition (avoids encoding it twice). */
export function keyFromEncodedPartition(connector: string, partitionJson: string): string {
  return `[${quoteJavaJson(connector)},${partitionJson}]`;
}

/**
 * The connect-offsets value of `offset`; null (a tombstone) for a null offset.
 *
 * @example
 * ```ts
 * encodeValue({ position: 1234 }); // '{"position":1234}'
 * encodeValue(null); // null
 * ```
 */
export function encodeValue(offset: SourceOffset | null): string | null {
  return offset === null ? null : writeConnectJson(checkMap(offset, 'source offset'));
}

/**
 * Reads a key written by Connect or by connect-fn; throws `OffsetFormatError` for anything else.
 *
 * @example
 * ```ts
 * decodeKey('["orders",{"table":"orders"}]'); // { connector: 'orders', partition: { table: 'orders' } }
 * ```
 */
export function decodeKey(key: string | Uint8Array): { connector: string; partition: SourcePartition } {
  const parsed = parseConnectJson(asText(key));
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'string') {
    throw new OffsetFormatError('an offsets key must be ["<connector>",{<partition>}]');
  }
  return { connector: parsed[0], partition: asMap(parsed[1], 'source partition') };
}

/**
 * Reads a value: the offset map, or null for a tombstone (a null record value or the JSON `null`).
 *
 * @example
 * ```ts
 * decodeValue('{"position":1234}'); // { position: 1234 }
 * ```
 */
export function decodeValue(value: string | Uint8Array | null): SourceOffset | null {
  if (value === null) return null;
  const parsed = parseConnectJson(asText(value));
  return parsed === null ? null : asMap(parsed, 'source offset');
}

/**
 * Kafka's `Utils.murmur2` (seed 0x9747b28c) as a signed 32-bit integer.
 *
 * @example
 * ```ts
 * murmur2(utf8('21')); // -973932308
 * ```
 */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const tail = length & ~3;
  for (let i = 0; i < tail; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[tail]!, m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not `Math.abs`, which overflows for -2^31). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/**
 * The topic partition Kafka's default partitioner picks for `keyBytes` among `partitions`.
 *
 * @example
 * ```ts
 * partitionForKey(utf8('["local-file-source",{"filename":"/data/in.txt"}]'), 25); // 11
 * ```
 */
export function partitionForKey(keyBytes: Uint8Array, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`a topic has at least one partition, got ${partitions}`);
  }
  return toPositive(murmur2(keyBytes)) % partitions;
}

function asText(data: string | Uint8Array): string {
  if (typeof data === 'string') return data;
  try {
    return decoder.decode(data);
  } catch (err) {
    throw new OffsetFormatError('stored offset data is not UTF-8', { cause: err });
  }
}

/** Connect's OffsetUtils rule: string keys, primitive or null values. */
function checkMap(map: Readonly<Record<string, OffsetValue>>, what: string): Record<string, ConnectJson> {
  if (map === null || typeof map !== 'object' || Array.isArray(map)) {
    throw new OffsetFormatError(`a ${what} must be a map of primitives, got ${describe(map)}`);
  }
  for (const [field, value] of Object.entries(map)) {
    if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) {
      throw new OffsetFormatError(
        `a ${what} may only hold primitives or null, but field ${JSON.stringify(field)} holds ${describe(value)}`,
      );
    }
  }
  return map;
}

function asMap(value: ConnectJson | undefined, what: string): Readonly<Record<string, OffsetValue>> {
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) {
    throw new OffsetFormatError(`a stored ${what} must be a JSON object, got ${describe(value)}`);
  }
  return checkMap(value as Readonly<Record<string, OffsetValue>>, `stored ${what}`) as Readonly<
    Record<string, OffsetValue>
  >;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a map' : typeof value;
}
