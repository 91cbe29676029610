/**
 * A sink record → one write of a DynamoDB item (a put, or for a tombstone a delete), with
 * `@aws-sdk/util-dynamodb`'s `marshall`:
 *
 * | record value | item |
 * |---|---|
 * | an object (JsonConverter, schemas.enable=false) | one attribute per field: strings S, numbers and bigints N, booleans BOOL, null NULL, bytes (Uint8Array) B, objects M, arrays L |
 * | anything else (a string, a number, bytes, an array) | one attribute `value` holding it |
 * | null (a tombstone) | per `behavior.on.null.values`: nothing, a delete of the item's key, or a record-level error |
 *
 * The key attributes (`aws.dynamodb.pk.hash` and `.sort`, see record-reference.ts) are then set on the
 * item, replacing value fields of the same name. A key attribute must be a non-empty string, a number or
 * non-empty bytes.
 *
 * What cannot become an item (NaN or Infinity, a number beyond 2^53 that is not a bigint, a key field
 * that is missing or not a string, number or bytes) is a {@link DynamoDbRecordError} naming the record by
 * topic, partition and offset. Messages never hold record contents.
 *
 * @example
 * ```ts
 * const mapping = itemMapping({ tableFormat: 'kafka_${topic}', hash: 'key', sort: '', onNull: 'delete' });
 * const write = toItemWrite(record, mapping); // { table: 'kafka_orders', request: { PutRequest: ... } }
 * ```
 * @module
 */
import type { AttributeValue, WriteRequest } from '@aws-sdk/client-dynamodb';
import { convertToAttr, marshall } from '@aws-sdk/util-dynamodb';
import { ConnectFnError, type ConnectFnErrorOptions, SinkTargetError, Stage } from '../../errors.ts';
import type { SinkRecord } from '../../spi/sink.ts';
import { type NullValueBehavior, TABLE_NAME, TOPIC_PLACEHOLDER } from './config.ts';
import { parseRecordReference, type RecordReference } from './record-reference.ts';

/** A record the table cannot take (Connect: a record-level error): the put fails unless tolerated. */
export class DynamoDbRecordError extends ConnectFnError {
  readonly code = 'CONNECT_FN_DYNAMODB_RECORD';
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Why, without the record's contents. */
  readonly reason: string;

  constructor(record: SinkRecord, reason: string, options: ConnectFnErrorOptions = {}) {
    super(`dynamodb sink: record ${record.topic}-${record.kafkaPartition}@${record.kafkaOffset}: ${reason}`, {
      stage: Stage.TASK_PUT,
      ...options,
    });
    this.topic = record.topic;
    this.partition = record.kafkaPartition;
    this.offset = record.kafkaOffset;
    this.reason = reason;
  }
}

/** How records become items (parsed once per task). */
export interface ItemMapping {
  readonly tableFormat: string;
  readonly hash: RecordReference;
  readonly sort: RecordReference | undefined;
  readonly onNull: NullValueBehavior;
}

export interface ItemMappingSettings {
  readonly tableFormat: string;
  /** A record reference (`partition`, `key.id:userId`, ...). */
  readonly hash: string;
  /** A record reference, or '' for a table without a sort key. */
  readonly sort: string;
  readonly onNull: NullValueBehavior;
}

/** Parses the references; a bad one is a programmer error here (the config schema checked them). */
export function itemMapping(settings: ItemMappingSettings): ItemMapping {
  const parse = (text: string): RecordReference => {
    const ref = parseRecordReference(text);
    if (ref === undefined) throw new TypeError(`dynamodb sink: not a record reference: ${text}`);
    return ref;
  };
  return {
    tableFormat: settings.tableFormat,
    hash: parse(settings.hash),
    sort: settings.sort.trim() === '' ? undefined : parse(settings.sort),
    onNull: settings.onNull,
  };
}

/** One write of one record. */
export interface ItemWrite {
  readonly record: SinkRecord;
  readonly table: string;
  /** The item's key, rendered: equal for two writes of the same item of the same table. */
  readonly identity: string;
  readonly request: WriteRequest;
}

type Item = Record<string, AttributeValue>;

const MARSHALL_OPTIONS = { removeUndefinedValues: true, convertClassInstanceToMap: false } as const;

/**
 * The write of `record`, or undefined for a tombstone under `behavior.on.null.values=ignore`. Throws a
 * {@link DynamoDbRecordError} for a record that cannot become an item.
 */
export function toItemWrite(record: SinkRecord, mapping: ItemMapping): ItemWrite | undefined {
  const key = toItemKey(record, mapping);
  return key === undefined ? undefined : toKeyedWrite(key, mapping);
}

/**
 * Where a record's write goes — its table and key — without its item: what {@link toItemWrite} does
 * first, cheaply (no marshalling), so that writes of the same item can be found before any is made.
 */
export interface ItemKey {
  readonly record: SinkRecord;
  readonly table: string;
  /** As {@link ItemWrite.identity}. */
  readonly identity: string;
  readonly hash: AttributeValue;
  readonly sort: AttributeValue | undefined;
  /** A tombstone under `behavior.on.null.values=delete`. */
  readonly isDelete: boolean;
}

/**
 * The key of `record`'s write, or undefined for a tombstone under `behavior.on.null.values=ignore`.
 * Throws a {@link DynamoDbRecordError} for a tombstone under `fail`, or a key the record cannot give.
 */
export function toItemKey(record: SinkRecord, mapping: ItemMapping): ItemKey | undefined {
  const isDelete = record.value === null || record.value === undefined;
  if (isDelete && mapping.onNull === 'ignore') return undefined;
  if (isDelete && mapping.onNull === 'fail') {
    throw new DynamoDbRecordError(record, 'a null value (tombstone) and behavior.on.null.values=fail');
  }
  const table = tableName(record, mapping.tableFormat);
  const hash = keyAttribute(record, mapping.hash);
  const sort = mapping.sort === undefined ? undefined : keyAttribute(record, mapping.sort);
  const identity =
    sort === undefined
      ? `${table}\u0000${attributeIdentity(hash)}`
      : `${table}\u0000${attributeIdentity(hash)}\u0000${attributeIdentity(sort)}`;
  return { record, table, identity, hash, sort, isDelete };
}

/**
 * The write of a record whose key {@link toItemKey} gave (`mapping` the same): its value marshalled into
 * the item. Throws a {@link DynamoDbRecordError} for a value that has no DynamoDB form.
 */
export function toKeyedWrite(key: ItemKey, mapping: ItemMapping): ItemWrite {
  const { record, table, identity } = key;
  // The key attributes replace value fields of the same name, in place (what `{...fields, ...key}` gives).
  const item = key.isDelete ? {} : itemOf(record);
  item[mapping.hash.attribute] = key.hash;
  if (mapping.sort !== undefined && key.sort !== undefined) item[mapping.sort.attribute] = key.sort;
  if (key.isDelete) return { record, table, identity, request: { DeleteRequest: { Key: item } } };
  return { record, table, identity, request: { PutRequest: { Item: item } } };
}

/** A scalar attribute value as text: `S:abc`, `N:12`, `B:<base64>`. */
export function attributeIdentity(value: AttributeValue): string {
  if (value.S !== undefined) return `S:${value.S}`;
  if (value.N !== undefined) return `N:${value.N}`;
  if (value.B !== undefined) return `B:${Buffer.from(value.B).toString('base64')}`;
  return `?:${JSON.stringify(value)}`;
}

function tableName(record: SinkRecord, format: string): string {
  return tableOfTopic(record.topic, format);
}

/**
 * The table `table.name.format` gives for `topic`. A name DynamoDB does not take (a topic too short or too
 * long for it) is a {@link SinkTargetError}: every record of the topic would go there.
 */
export function tableOfTopic(topic: string, format: string): string {
  const table = format.replaceAll(TOPIC_PLACEHOLDER, topic);
  if (!TABLE_NAME.test(table)) {
    const shown = table.length > 300 ? `${table.slice(0, 300)}... (${table.length} characters)` : table;
    throw new SinkTargetError(
      `dynamodb sink: table.name.format=${format} gives "${shown}" for topic ${topic}, which is not a DynamoDB table name (3-255 of letters, digits, "_", "-", ".")`,
      { stage: Stage.TASK_PUT },
    );
  }
  return table;
}

/** A fresh item of the record's value (the caller adds the key attributes to it). */
function itemOf(record: SinkRecord): Item {
  const value = record.value;
  try {
    if (isPlainObject(value)) return fieldsOf(value);
    if (isFieldContainer(value)) return marshall(value, MARSHALL_OPTIONS) as Item;
    return { value: attributeOf(value) };
  } catch (err) {
    throw new DynamoDbRecordError(record, `its value has no DynamoDB form: ${marshallReason(err)}`, {
      cause: err,
    });
  }
}

/**
 * `convertToAttr(value, MARSHALL_OPTIONS)`, without its cost for what converters produce — strings,
 * booleans, null, numbers within ±(2^53 - 1), plain objects and arrays of them: its number check alone
 * builds and searches an array of three strings per number (~6x the time of this for a ~1 KB JSON order).
 * Anything else (bigints, bytes, Maps, Sets, other objects, numbers it refuses) goes to `convertToAttr`,
 * so the attribute, or the error, is marshall's own.
 */
function attributeOf(value: unknown): AttributeValue {
  switch (typeof value) {
    case 'string':
      return { S: value };
    case 'boolean':
      return { BOOL: value };
    case 'number':
      // NaN fails both comparisons, ±Infinity one: marshall refuses them, and numbers beyond 2^53.
      if (value <= Number.MAX_SAFE_INTEGER && value >= Number.MIN_SAFE_INTEGER) return { N: String(value) };
      break;
    case 'object':
      if (value === null) return { NULL: true };
      if (Array.isArray(value)) return { L: listOf(value) };
      if (isPlainObject(value)) return { M: fieldsOf(value) };
  }
  return convertToAttr(value, MARSHALL_OPTIONS);
}

/** marshall's list: undefined and functions left out. */
function listOf(values: readonly unknown[]): AttributeValue[] {
  const list: AttributeValue[] = [];
  for (const value of values) {
    if (value !== undefined && typeof value !== 'function') list.push(attributeOf(value));
  }
  return list;
}

/** marshall's map of an object's enumerable properties (`for...in`, as marshall): undefined and functions left out. */
function fieldsOf(object: Record<string, unknown>): Item {
  const fields: Item = {};
  for (const name in object) {
    const value = object[name];
    if (value !== undefined && typeof value !== 'function') fields[name] = attributeOf(value);
  }
  return fields;
}

/**
 * An object marshall turns into a map by its enumerable properties, and takes as `Object` (its
 * `constructor` is `Object`): what `JSON.parse` makes. One with a field named `constructor` is not, and is
 * left to marshall.
 */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && (value as { constructor?: unknown }).constructor === Object
  );
}

function isFieldContainer(value: unknown): value is Record<string, unknown> | Map<string, unknown> {
  if (value instanceof Map) return true;
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

/** marshall's message without the value it quotes (it may be personal data). */
function marshallReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (message.includes('Special numeric value')) return 'a number that is NaN or Infinity';
  if (message.includes('MAX_SAFE_INTEGER')) {
    return 'a number beyond 2^53 that is not an integer the converter read exactly (a bigint)';
  }
  if (message.includes('Unsupported type')) return 'a value of a type DynamoDB has no attribute type for';
  return 'a value marshall cannot convert';
}

function keyAttribute(record: SinkRecord, ref: RecordReference): AttributeValue {
  switch (ref.source) {
    case 'topic':
      return { S: record.topic };
    case 'partition':
      return { N: String(record.kafkaPartition) };
    case 'offset':
      return { N: String(record.kafkaOffset) };
    case 'key':
    case 'value':
      return scalarAttribute(
        record,
        ref,
        fieldAt(ref.source === 'key' ? record.key : record.value, ref.path),
      );
  }
}

function fieldAt(root: unknown, path: readonly string[]): unknown {
  let at = root;
  for (const field of path) {
    if (at instanceof Map) at = at.get(field);
    else if (typeof at === 'object' && at !== null && !Array.isArray(at) && Object.hasOwn(at, field)) {
      at = (at as Record<string, unknown>)[field];
    } else return undefined;
  }
  return at;
}

function scalarAttribute(record: SinkRecord, ref: RecordReference, value: unknown): AttributeValue {
  const problem = (what: string) =>
    new DynamoDbRecordError(record, `key attribute ${ref.attribute} (${ref.text}) ${what}`);
  switch (typeof value) {
    case 'string':
      if (value.length === 0) throw problem('is an empty string');
      return { S: value };
    case 'number':
      if (!Number.isFinite(value)) throw problem('is NaN or Infinity');
      return { N: String(value) };
    case 'bigint':
      return { N: String(value) };
    case 'undefined':
      throw problem('is missing from the record');
  }
  if (value === null) throw problem('is null');
  if (value instanceof Uint8Array) {
    if (value.byteLength === 0) throw problem('is empty bytes');
    return { B: value };
  }
  const kind = typeof value === 'boolean' ? 'a boolean' : Array.isArray(value) ? 'an array' : 'an object';
  throw problem(`is ${kind}, not a string, number or bytes`);
}
