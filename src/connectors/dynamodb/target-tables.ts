/**
 * The tables one DynamoDB sink task writes, checked before it writes them (table-schema.ts says why): the
 * key the connector's references write ({@link expectedKeyOf}), the exactly-once offsets table's `pk`/`sk`,
 * and per record, the types of its key attributes against the table's.
 *
 * @example
 * ```ts
 * const tables = new TargetTables(client, cache, mapping, offsetsTable);
 * await tables.verify(['orders'], retryOptions); // SinkTargetError for a missing table or another key
 * const key = tables.checkKey(toItemKey(record, mapping)); // DynamoDbRecordError for a mistyped key value
 * ```
 * @module
 */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SinkTargetError } from '../../errors.ts';
import type { SinkRecord } from '../../spi/sink.ts';
import type { RetryOptions } from './batch-writer.ts';
import {
  DynamoDbRecordError,
  type ItemKey,
  type ItemMapping,
  type ItemWrite,
  tableOfTopic,
} from './item-mapping.ts';
import type { RecordReference } from './record-reference.ts';
import {
  type ExpectedAttribute,
  type ExpectedKey,
  type KeySchemaCache,
  type KeyType,
  keySchemaProblem,
  keyTypeProblem,
  type TableKeySchema,
} from './table-schema.ts';

/** The types coordinates give a key attribute. */
const COORDINATE_TYPES: Readonly<Partial<Record<RecordReference['source'], KeyType>>> = {
  topic: 'S',
  partition: 'N',
  offset: 'N',
};

/** The key the connector writes to its data tables, from its references. */
export function expectedKeyOf(mapping: ItemMapping): ExpectedKey {
  const attribute = (ref: RecordReference, key: string): ExpectedAttribute => ({
    name: ref.attribute,
    type: COORDINATE_TYPES[ref.source],
    setting: `${key}=${ref.text}`,
  });
  return {
    hash: attribute(mapping.hash, 'aws.dynamodb.pk.hash'),
    sort: mapping.sort === undefined ? undefined : attribute(mapping.sort, 'aws.dynamodb.pk.sort'),
    noSort: 'aws.dynamodb.pk.sort is empty',
  };
}

/** The key of `exactly.once.offsets.table`: `pk` and `sk`, strings (DESIGN.md §4's layout). */
const OFFSETS_TABLE_KEY: ExpectedKey = {
  hash: { name: 'pk', type: 'S', setting: 'the offset items of exactly.once.offsets.table' },
  sort: { name: 'sk', type: 'S', setting: 'the offset items of exactly.once.offsets.table' },
  noSort: '',
};

/**
 * The tables one task writes, checked in its life: a data table when a topic's records first come (or at
 * `start`, for the assigned topics), the exactly-once offsets table once.
 */
export class TargetTables {
  readonly #client: DynamoDBClient;
  readonly #cache: KeySchemaCache;
  readonly #mapping: ItemMapping;
  readonly #expected: ExpectedKey;
  readonly #offsetsTable: string | undefined;
  readonly #verified = new Map<string, TableKeySchema>();

  constructor(client: DynamoDBClient, cache: KeySchemaCache, mapping: ItemMapping, offsetsTable?: string) {
    this.#client = client;
    this.#cache = cache;
    this.#mapping = mapping;
    this.#expected = expectedKeyOf(mapping);
    this.#offsetsTable = offsetsTable;
  }

  /**
   * Checks the tables of `topics`, and the offsets table, that this task has not checked yet: each must
   * exist, be readable, and have the key the connector writes. Throws SinkTargetError.
   */
  async verify(topics: Iterable<string>, options: RetryOptions): Promise<void> {
    const wanted = new Map<string, ExpectedKey>();
    for (const topic of topics) wanted.set(tableOfTopic(topic, this.#mapping.tableFormat), this.#expected);
    if (this.#offsetsTable !== undefined) wanted.set(this.#offsetsTable, OFFSETS_TABLE_KEY);
    for (const table of this.#verified.keys()) wanted.delete(table);
    if (wanted.size === 0) return;
    const schemas = await Promise.all(
      [...wanted.keys()].map((table) => this.#cache.describe(this.#client, table, options)),
    );
    for (const schema of schemas) {
      const problem = keySchemaProblem(schema, wanted.get(schema.table)!);
      if (problem !== undefined) throw new SinkTargetError(problem);
      this.#verified.set(schema.table, schema);
    }
  }

  /**
   * `key`, or a {@link DynamoDbRecordError} when one of its attributes has another type than its (checked)
   * table's key — the record's value gave it. Checked before the write, so that DynamoDB's own refusals of
   * a key can only mean that the table changed (a target failure).
   */
  checkKey(key: ItemKey | undefined): ItemKey | undefined {
    if (key === undefined) return undefined;
    const { hash, sort } = this.#mapping;
    const item = { [hash.attribute]: key.hash, ...(sort && key.sort ? { [sort.attribute]: key.sort } : {}) };
    this.#check(key.record, key.table, item);
    return key;
  }

  /** `write`, checked as {@link checkKey} checks a key. */
  checkWrite(write: ItemWrite | undefined): ItemWrite | undefined {
    const item = write?.request.PutRequest?.Item ?? write?.request.DeleteRequest?.Key;
    if (write !== undefined && item !== undefined) this.#check(write.record, write.table, item);
    return write;
  }

  #check(record: SinkRecord, table: string, item: Readonly<Record<string, AttributeValue>>): void {
    const schema = this.#verified.get(table);
    const problem = schema === undefined ? undefined : keyTypeProblem(schema, item);
    if (problem !== undefined) throw new DynamoDbRecordError(record, problem);
  }

  /** After a failure of the target: what was checked is described again by the next task. */
  forget(): void {
    this.#cache.forget(this.#client, this.#verified.keys());
    this.#verified.clear();
  }
}
