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
 * Attribute values, made plain JSON in one walk of the stream's AttributeValue maps (the result is what
 * `@aws-sdk/util-dynamodb`'s `unmarshall` followed by a walk to JSON-safe values gave, without building
 * the intermediate Sets and native values first):
 * - N → a JSON number when a double holds it exactly (a safe integer, or at most 15 significant
 *   digits), else a string with the exact decimal (DynamoDB keeps 38 digits; nothing is rounded silently);
 * - B → base64 text, as Kafka Connect's JsonConverter writes bytes; BS → an array of base64 texts;
 * - SS, NS → arrays (set order as the stream gives it); NULL → null; BOOL, S, L, M as themselves;
 * - an attribute named like an Object.prototype member (`__proto__`, `constructor`) is an ordinary key.
 *
 * @example
 * ```ts
 * const record = changeRecord(change, { table: 'orders', shardId, topic: 'orders', keyAttributes: ['pk'] });
 * record.value; // {eventName: 'MODIFY', keys: {pk: 'a'}, newImage: {...}, oldImage: {...}, ...}
 * ```
 * @module
 */
import { ConversionError, Stage } from '../../errors.ts';
import type { SourcePartition, SourceRecord } from '../../spi/records.ts';
import type { StreamChange } from './stream-api.ts';

/** A double holds every decimal of at most this many significant digits exactly. */
const DOUBLE_DIGITS = 15;

export const EVENT_NAME_HEADER = 'dynamodb.event.name';
export const TABLE_HEADER = 'dynamodb.table';

/** One attribute value as the stream delivers it (the SDK's union, read by its one set member). */
type Attribute = Readonly<Record<string, unknown>>;
/** An item image, or the keys: attribute name → value. */
type AttributeMap = Readonly<Record<string, Attribute>>;

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
  // At most 15 characters hold at most 15 digits: exact (and a safe integer) without looking closer.
  if (text.length <= DOUBLE_DIGITS) return n;
  if (/^[+-]?\d+$/.test(text)) return Number.isSafeInteger(n) ? n : text;
  return significantDigits(text) <= DOUBLE_DIGITS ? n : text;
}

function base64(bytes: unknown): unknown {
  return bytes instanceof Uint8Array
    ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
    : bytes;
}

/** Sets have no duplicates; a set the stream gave with one keeps its first. */
function setMembers<V, T>(values: readonly V[], convert: (value: V) => T): T[] {
  return [...new Set(values.map(convert))];
}

/** Sets `out[name]`, also for a name such as `__proto__` (an own key, never the prototype). */
function setKey(out: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') {
    Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  } else out[name] = value;
}

/** One attribute value as plain JSON (the module docs); the first set member decides, as unmarshall's. */
function plainValue(attribute: Attribute): unknown {
  for (const type in attribute) {
    const value = attribute[type];
    if (value === undefined) continue;
    switch (type) {
      case 'S':
        return value;
      case 'N':
        return jsonNumber(value as string);
      case 'M':
        return plainMap(value as AttributeMap);
      case 'L':
        return (value as readonly Attribute[]).map(plainValue);
      case 'BOOL':
        return Boolean(value);
      case 'NULL':
        return null;
      case 'B':
        return base64(value);
      case 'SS':
        return setMembers(value as readonly string[], (v: string) => v);
      case 'NS':
        return setMembers(value as readonly string[], jsonNumber);
      case 'BS':
        return setMembers(value as readonly unknown[], (v: unknown) => v).map(base64);
      default:
        throw new ConversionError(`dynamodb-streams: unsupported attribute type ${type}`, {
          stage: Stage.TASK_POLL,
        });
    }
  }
  throw new ConversionError('dynamodb-streams: an attribute value without a type', {
    stage: Stage.TASK_POLL,
  });
}

function plainMap(map: AttributeMap): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(map)) setKey(out, name, plainValue(map[name]!));
  return out;
}

/** An image (or the keys) as a plain JSON object; null when absent. */
export function plainImage(
  image: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> | null {
  // The stream's AttributeValue is the same wire shape as DynamoDB's; only the SDK packages differ.
  return image === undefined ? null : plainMap(image as AttributeMap);
}

/** The keys as plain JSON with the table's key attributes first, in key-schema order (hash, then range). */
function plainKeys(keys: AttributeMap, keyAttributes: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of keyAttributes) if (Object.hasOwn(keys, name)) setKey(out, name, plainValue(keys[name]!));
  const others = Object.keys(keys).filter((name) => !keyAttributes.includes(name));
  for (const name of others.sort()) setKey(out, name, plainValue(keys[name]!));
  return out;
}

export interface ChangeContext {
  readonly table: string;
  readonly shardId: string;
  readonly topic: string;
  /** Hash key first, then the range key (from DescribeStream's KeySchema). */
  readonly keyAttributes: readonly string[];
  /**
   * The shard's source partition, shared by its records (the runtime's offset tracking recognises a
   * partition it saw last by identity); default: a new {@link shardPartition} per record.
   */
  readonly partition?: SourcePartition;
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
  const keys = plainKeys(data.Keys as unknown as AttributeMap, at.keyAttributes);
  const createdMs = data.ApproximateCreationDateTime?.getTime();
  return {
    sourcePartition: at.partition ?? shardPartition(at.table, at.shardId),
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
