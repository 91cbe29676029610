/**
 * The key schema of the tables the DynamoDB sink writes, checked before anything is written.
 *
 * Why: DynamoDB answers an item that lacks the table's key with a ValidationException, the same error as
 * for an item that is bad in itself (over 400 KB, an empty key). Taken record by record, a table whose key
 * is not the one the connector writes (`aws.dynamodb.pk.hash=key:orderId` against a table keyed `id`)
 * turns every record into a record-level error — and under `errors.tolerance=all` every record is skipped,
 * its offset committed, the table left empty. Worse, a table keyed by `id` alone takes an item written
 * with `id` and `offset` without complaint: `offset` is just another attribute, and items overwrite each
 * other. So the task asks DynamoDB (DescribeTable) for each table's key before its first write and
 * compares it with what the configuration writes; a difference, a missing table, or access denied is a
 * {@link SinkTargetError}: the invocation fails, nothing is written or committed.
 *
 * DescribeTable is a control-plane call (AWS asks callers to cache its answers, and throttles the control
 * plane at 2,500 requests/s): answers are kept in a {@link KeySchemaCache} for the life of the process (a
 * cold start). A table whose key schema changes while the process lives is caught at the write: DynamoDB
 * then refuses items for their key, which is a target failure too, and the
 * task forgets the table so the next invocation describes it again (target-failures.ts).
 *
 * @example
 * ```ts
 * const schema = await cache.describe(client, 'orders', retryOptions);
 * const problem = keySchemaProblem(schema, { hash: { name: 'orderId', setting: 'aws.dynamodb.pk.hash=key:orderId' } });
 * if (problem !== undefined) throw new SinkTargetError(problem);
 * ```
 * @module
 */
import {
  type AttributeValue,
  DescribeTableCommand,
  type DynamoDBClient,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { SinkTargetError } from '../../errors.ts';
import {
  backoff,
  DynamoDbWriteError,
  errorName,
  isTransientFailure,
  type RetryOptions,
  withinDeadline,
} from './batch-writer.ts';

/** DynamoDB's scalar types, the only ones a key attribute may have. */
export type KeyType = 'S' | 'N' | 'B';

export interface KeyAttribute {
  readonly name: string;
  readonly type: KeyType;
}

/** A table's key, as DescribeTable gives it. */
export interface TableKeySchema {
  readonly table: string;
  readonly hash: KeyAttribute;
  readonly sort: KeyAttribute | undefined;
}

/** A key attribute the connector writes. */
export interface ExpectedAttribute {
  readonly name: string;
  /** Set when the configuration fixes it (coordinates: `topic` S, `partition` and `offset` N). */
  readonly type?: KeyType | undefined;
  /** Where it comes from, for messages: `aws.dynamodb.pk.hash=key:orderId`. */
  readonly setting: string;
}

/** The key the connector writes to a table. */
export interface ExpectedKey {
  readonly hash: ExpectedAttribute;
  /** Undefined: the connector writes no sort key (and the table must have none). */
  readonly sort: ExpectedAttribute | undefined;
  /** For the message when the connector writes no sort key: `aws.dynamodb.pk.sort is empty`. */
  readonly noSort: string;
}

const TYPE_NAMES: Readonly<Record<KeyType, string>> = { S: 'a string', N: 'a number', B: 'bytes' };

/** DescribeTable's answers for the life of the process, by client (one per region and endpoint) and table. */
export class KeySchemaCache {
  readonly #known = new WeakMap<DynamoDBClient, Map<string, TableKeySchema>>();

  /** The key schema of `table` (described once, then from the cache). Throws SinkTargetError. */
  async describe(client: DynamoDBClient, table: string, options: RetryOptions): Promise<TableKeySchema> {
    const known = this.#tables(client);
    const cached = known.get(table);
    if (cached !== undefined) return cached;
    const schema = await describeKeySchema(client, table, options);
    known.set(table, schema);
    return schema;
  }

  /** Forgets `tables` (their key schema turned out to have changed): the next call describes them again. */
  forget(client: DynamoDBClient, tables: Iterable<string>): void {
    const known = this.#tables(client);
    for (const table of tables) known.delete(table);
  }

  #tables(client: DynamoDBClient): Map<string, TableKeySchema> {
    let known = this.#known.get(client);
    if (known === undefined) {
      known = new Map();
      this.#known.set(client, known);
    }
    return known;
  }
}

/** DescribeTable of `table`, retried while the failure is transient, within the deadline. */
export async function describeKeySchema(
  client: DynamoDBClient,
  table: string,
  options: RetryOptions,
): Promise<TableKeySchema> {
  const command = new DescribeTableCommand({ TableName: table });
  for (let attempt = 0; ; attempt++) {
    try {
      const out = await withinDeadline(options, (abortSignal) => client.send(command, { abortSignal }));
      return schemaOf(table, out.Table?.KeySchema ?? [], out.Table?.AttributeDefinitions ?? []);
    } catch (err) {
      if (err instanceof DynamoDbWriteError || err instanceof SinkTargetError) throw err;
      if (!isTransientFailure(err)) throw describeFailure(table, err);
      await backoff(options, attempt, errorName(err), [table], err);
    }
  }
}

function schemaOf(
  table: string,
  keys: readonly KeySchemaElement[],
  attributes: readonly { AttributeName?: string | undefined; AttributeType?: string | undefined }[],
): TableKeySchema {
  const attribute = (role: 'HASH' | 'RANGE'): KeyAttribute | undefined => {
    const name = keys.find((k) => k.KeyType === role)?.AttributeName;
    if (name === undefined) return undefined;
    const type = attributes.find((a) => a.AttributeName === name)?.AttributeType;
    if (type !== 'S' && type !== 'N' && type !== 'B') {
      throw new SinkTargetError(`dynamodb sink: DescribeTable of "${table}" gave key ${name} no scalar type`);
    }
    return { name, type };
  };
  const hash = attribute('HASH');
  if (hash === undefined) {
    throw new SinkTargetError(`dynamodb sink: DescribeTable of "${table}" gave no partition (HASH) key`);
  }
  return { table, hash, sort: attribute('RANGE') };
}

/** A DescribeTable that failed for good: the table is missing, or not ours to read. */
function describeFailure(table: string, err: unknown): SinkTargetError {
  const name = err instanceof Error ? err.name : '';
  const detail = `${errorName(err)}: ${err instanceof Error ? err.message : String(err)}`;
  if (name === 'ResourceNotFoundException') {
    return new SinkTargetError(
      `dynamodb sink: table "${table}" does not exist (${detail}); the sink does not create tables`,
      { cause: err },
    );
  }
  if (name === 'AccessDeniedException') {
    return new SinkTargetError(
      `dynamodb sink: not allowed to describe table "${table}" (${detail}): the function's role needs dynamodb:DescribeTable on it, as the sink checks the table's key before writing`,
      { cause: err },
    );
  }
  return new SinkTargetError(`dynamodb sink: DescribeTable of "${table}" failed: ${detail}`, { cause: err });
}

function describeAttribute(a: KeyAttribute): string {
  return `${a.name} (${TYPE_NAMES[a.type]})`;
}

/**
 * Why the connector cannot write `schema`'s table with the key `expected`, or undefined when it can: the
 * attribute names must be the table's, the sort key present exactly when the table has one, and a type
 * fixed by the configuration the table's.
 */
export function keySchemaProblem(schema: TableKeySchema, expected: ExpectedKey): string | undefined {
  const table = `table "${schema.table}" has the key ${describeAttribute(schema.hash)}${schema.sort === undefined ? ' and no sort key' : `, sort key ${describeAttribute(schema.sort)}`}`;
  const wanted = `the connector writes ${expected.hash.name} (${expected.hash.setting})${expected.sort === undefined ? ` and no sort key (${expected.noSort})` : `, sort key ${expected.sort.name} (${expected.sort.setting})`}`;
  const mismatch =
    schema.hash.name !== expected.hash.name ||
    schema.sort?.name !== expected.sort?.name ||
    typeMismatch(schema.hash, expected.hash) ||
    (schema.sort !== undefined && expected.sort !== undefined && typeMismatch(schema.sort, expected.sort));
  if (!mismatch) return undefined;
  return `dynamodb sink: ${table}, but ${wanted}: name the table's key attributes (and types) in the configuration, or write to a table with this key; nothing was written`;
}

function typeMismatch(actual: KeyAttribute, expected: ExpectedAttribute): boolean {
  return expected.type !== undefined && expected.type !== actual.type;
}

/**
 * Why `item`'s key does not fit `schema`, or undefined: a key attribute of another type than the table's.
 * (About the record: its value gave the key attribute another type. Checked before the write, so that
 * DynamoDB's own refusals of a key can only mean that the table changed.)
 */
export function keyTypeProblem(
  schema: TableKeySchema,
  item: Readonly<Record<string, AttributeValue>>,
): string | undefined {
  for (const key of [schema.hash, schema.sort]) {
    if (key === undefined) continue;
    const value = item[key.name];
    const type =
      value?.S !== undefined ? 'S' : value?.N !== undefined ? 'N' : value?.B !== undefined ? 'B' : '';
    if (type !== key.type) {
      const got = type === '' ? 'missing' : TYPE_NAMES[type];
      return `key attribute ${key.name} is ${got}, but table "${schema.table}" keys it as ${TYPE_NAMES[key.type]}`;
    }
  }
  return undefined;
}
