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
import { ConnectFnError, type ConnectFnErrorOptions, Stage } from '../../errors.ts';
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
  const isTombstone = record.value === null || record.value === undefined;
  if (isTombstone && mapping.onNull === 'ignore') return undefined;
  if (isTombstone && mapping.onNull === 'fail') {
    throw new DynamoDbRecordError(record, 'a null value (tombstone) and behavior.on.null.values=fail');
  }
  const table = tableName(record, mapping.tableFormat);
  const key: Item = {};
  for (const ref of mapping.sort === undefined ? [mapping.hash] : [mapping.hash, mapping.sort]) {
    key[ref.attribute] = keyAttribute(record, ref);
  }
  const identity = `${table}\u0000${Object.values(key).map(attributeIdentity).join('\u0000')}`;
  if (isTombstone) return { record, table, identity, request: { DeleteRequest: { Key: key } } };
  return { record, table, identity, request: { PutRequest: { Item: { ...itemOf(record), ...key } } } };
}

/** A scalar attribute value as text: `S:abc`, `N:12`, `B:<base64>`. */
export function attributeIdentity(value: AttributeValue): string {
  if (value.S !== undefined) return `S:${value.S}`;
  if (value.N !== undefined) return `N:${value.N}`;
  if (value.B !== undefined) return `B:${Buffer.from(value.B).toString('base64')}`;
  return `?:${JSON.stringify(value)}`;
}

function tableName(record: SinkRecord, format: string): string {
  const table = format.replaceAll(TOPIC_PLACEHOLDER, record.topic);
  if (!TABLE_NAME.test(table)) {
    throw new DynamoDbRecordError(
      record,
      `table.name.format gives "${table}", which is not a DynamoDB table name`,
    );
  }
  return table;
}

function itemOf(record: SinkRecord): Item {
  const value = record.value;
  try {
    if (isFieldContainer(value)) return marshall(value, MARSHALL_OPTIONS) as Item;
    return { value: convertToAttr(value, MARSHALL_OPTIONS) };
  } catch (err) {
    throw new DynamoDbRecordError(record, `its value has no DynamoDB form: ${marshallReason(err)}`, {
      cause: err,
    });
  }
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
