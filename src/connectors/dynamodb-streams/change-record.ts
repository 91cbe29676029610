/**
 * One stream change → one Kafka source record, in plain JSON (no DynamoDB type descriptors):
 *
 * - key: the item's key attributes, e.g. `{"pk":"order-1","sk":3}`, hash key first, then the range key
 *   (the same item always gives the same key bytes, so all its changes land on one Kafka partition);
 * - value: `{"eventName","keys","newImage","oldImage","sequenceNumber","approximateCreationTime"}`:
 *   `eventName` is INSERT, MODIFY or REMOVE; an image the stream view type does not carry (or that does
 *   not exist: no old image on INSERT, no new image on REMOVE) is null; `approximateCreationTime` is epoch
 *   milliseconds (the stream gives seconds);
 * - headers `dynamodb.event.name` and `dynamodb.table`; timestamp = `approximateCreationTime`.
 *
 * Attribute values, unmarshalled with `@aws-sdk/util-dynamodb` and then made JSON-safe:
 * - N → a JSON number when a double holds it exactly (a safe integer, or at most 15 significant
 *   digits), else a string with the exact decimal (DynamoDB keeps 38 digits; nothing is rounded silently);
 * - B → base64 text, as Kafka Connect's JsonConverter writes bytes; BS → an array of base64 texts;
 * - SS, NS → arrays (set order as the stream gives it); NULL → null; BOOL, S, L, M as themselves.
 *
 * @example
 * ```ts
 * const record = changeRecord(change, { table: 'orders', shardId, topic: 'orders', keyAttributes: ['pk'] });
 * record.value; // {eventName: 'MODIFY', keys: {pk: 'a'}, newImage: {...}, oldImage: {...}, ...}
 * ```
 * @module
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ConversionError, Stage } from '../../errors.ts';
import type { SourcePartition, SourceRecord } from '../../spi/records.ts';
import type { StreamChange } from './stream-api.ts';

/** A double holds every decimal of at most this many significant digits exactly. */
const DOUBLE_DIGITS = 15;

export const EVENT_NAME_HEADER = 'dynamodb.event.name';
export const TABLE_HEADER = 'dynamodb.table';

/** The source partition of a shard. */
export function shardPartition(table: string, shardId: string): SourcePartition {
  return { table, shard: shardId };
}

/** Significant digits of a decimal text (`-0.00120e5` → 2). */
function significantDigits(text: string): number {
  const mantissa = text.replace(/^[+-]/, '').replace(/e.*$/i, '').replace('.', '');
  return mantissa.replace(/^0+/, '').replace(/0+$/, '').length;
}

/** A DynamoDB number as JSON: a number when exact as a double, else its decimal text. */
export function jsonNumber(text: string): number | string {
  const n = Number(text);
  if (!Number.isFinite(n)) return text;
  if (/^[+-]?\d+$/.test(text)) return Number.isSafeInteger(n) ? n : text;
  return significantDigits(text) <= DOUBLE_DIGITS ? n : text;
}

/** Sets, bytes and nested values of an unmarshalled item, made plain JSON. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof Set) return [...value].map(plain);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  return value;
}

/** An image (or the keys) as a plain JSON object; null when absent. */
export function plainImage(image: Record<string, unknown> | undefined): Record<string, unknown> | null {
  if (image === undefined) return null;
  // The stream's AttributeValue is the same wire shape as DynamoDB's; only the SDK packages differ.
  const native = unmarshall(image as Record<string, AttributeValue>, { wrapNumbers: jsonNumber });
  return plain(native) as Record<string, unknown>;
}

/** The keys with the table's key attributes first, in key-schema order (hash, then range). */
function orderedKeys(
  keys: Record<string, unknown>,
  keyAttributes: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of keyAttributes) if (name in keys) out[name] = keys[name];
  for (const name of Object.keys(keys).sort()) if (!(name in out)) out[name] = keys[name];
  return out;
}

export interface ChangeContext {
  readonly table: string;
  readonly shardId: string;
  readonly topic: string;
  /** Hash key first, then the range key (from DescribeStream's KeySchema). */
  readonly keyAttributes: readonly string[];
}

/** The Kafka source record of one change. Throws {@link ConversionError} for a change without keys. */
export function changeRecord(change: StreamChange, at: ChangeContext): SourceRecord {
  const data = change.dynamodb;
  const sequence = data?.SequenceNumber;
  if (data?.Keys === undefined || sequence === undefined || change.eventName === undefined) {
    throw new ConversionError(
      `dynamodb-streams: a change in shard ${at.shardId} of table ${at.table} has no keys, sequence number or event name`,
      { stage: Stage.TASK_POLL },
    );
  }
  const keys = orderedKeys(plainImage(data.Keys) ?? {}, at.keyAttributes);
  const createdMs = data.ApproximateCreationDateTime?.getTime();
  return {
    sourcePartition: shardPartition(at.table, at.shardId),
    sourceOffset: { sequence },
    topic: at.topic,
    key: keys,
    value: {
      eventName: change.eventName,
      keys,
      newImage: plainImage(data.NewImage),
      oldImage: plainImage(data.OldImage),
      sequenceNumber: sequence,
      approximateCreationTime: createdMs ?? null,
    },
    headers: [
      { key: EVENT_NAME_HEADER, value: change.eventName },
      { key: TABLE_HEADER, value: at.table },
    ],
    ...(createdMs === undefined ? {} : { timestamp: createdMs }),
  };
}
