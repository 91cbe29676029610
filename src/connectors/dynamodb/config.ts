/**
 * Configuration of the `dynamodb-sink` connector: Kafka records → items of a DynamoDB table. The keys are
 * those of Confluent's DynamoDB sink (`io.confluent.connect.aws.dynamodb.DynamoDbSinkConnector`) where it
 * has one — `aws.dynamodb.region`, `aws.dynamodb.endpoint`, `table.name.format`, `aws.dynamodb.pk.hash`,
 * `aws.dynamodb.pk.sort`, with the same defaults — so a Confluent configuration validates; plus
 * `behavior.on.null.values` (the name Confluent's Elasticsearch, S3 and JDBC sinks give tombstone
 * handling) and `delivery.guarantee`.
 *
 * Differences from Confluent, on purpose: the table must exist (no auto-creation: a function's role should
 * not need CreateTable); `topic` is a record reference too; retries are bounded by the invocation's
 * deadline, not by `aws.dynamodb.max.retry.time.seconds` (not supported).
 * @module
 */
import { k } from '../../config/keys.ts';
import type { ConnectorDef } from '../../config/registry.ts';
import { parseRecordReference, REFERENCE_EXPECTED } from './record-reference.ts';

/** The placeholder of `table.name.format`. */
export const TOPIC_PLACEHOLDER = '${topic}';

/** DynamoDB's table names: 3-255 of letters, digits, `_`, `-` and `.`. */
export const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

const TABLE_FORMAT_EXPECTED =
  'a table name (letters, digits, "_", "-", "."), where ${topic} stands for the record\'s topic';

function parseTableFormat(raw: string): string | undefined {
  const format = raw.trim();
  // A topic is 1-249 of the same characters: "abc" stands in for the shortest legal name.
  const sample = format.replaceAll(TOPIC_PLACEHOLDER, 'abc');
  return /^[A-Za-z0-9_.-]+$/.test(sample) && sample.length <= 255 ? format : undefined;
}

function referenceKey(doc: string, dflt: string, allowEmpty: boolean) {
  const expected = allowEmpty ? `${REFERENCE_EXPECTED}; or empty for none` : REFERENCE_EXPECTED;
  return k.custom(
    'string',
    doc,
    expected,
    (raw) => {
      if (allowEmpty && raw.trim() === '') return '';
      return parseRecordReference(raw) === undefined ? undefined : raw.trim();
    },
    { default: dflt },
  );
}

export const NULL_VALUE_BEHAVIORS = ['ignore', 'delete', 'fail'] as const;
export type NullValueBehavior = (typeof NULL_VALUE_BEHAVIORS)[number];

export const DELIVERY_GUARANTEES = ['at-least-once', 'exactly-once'] as const;
export type DeliveryGuarantee = (typeof DELIVERY_GUARANTEES)[number];

export const dynamodbSinkKeys = {
  'aws.dynamodb.region': k.optional(
    k.string(
      'AWS region of the table (e.g. eu-west-1). Unset: the SDK default chain (AWS_REGION, which Lambda sets); us-east-1 against a local aws.dynamodb.endpoint.',
      { nonEmpty: true },
    ),
  ),
  'aws.dynamodb.endpoint': k.optional(
    k.url(
      'DynamoDB endpoint URL; unset for AWS itself. Set it to reach DynamoDB Local (e.g. http://localhost:8000); without AWS credentials in the environment, dummy ones are used then.',
    ),
  ),
  'table.name.format': k.custom(
    'string',
    'Name of the table to write each record to; ${topic} is replaced by the record\'s topic (e.g. "kafka_${topic}"). The table must exist, with the key attributes of aws.dynamodb.pk.hash and aws.dynamodb.pk.sort (checked with DescribeTable before the first write: otherwise the invocation fails, whatever errors.tolerance says).',
    TABLE_FORMAT_EXPECTED,
    parseTableFormat,
    { default: TOPIC_PLACEHOLDER },
  ),
  'aws.dynamodb.pk.hash': referenceKey(
    "Where the item's partition (hash) key comes from: topic, partition, offset, key (the record key itself), key.<field> or value.<field> (a field of the record key or value; dots descend into nested objects), optionally :<attribute name> (default: the last field). Its value must be a string, a number or bytes. Replays of a record write the same key, so they overwrite, never duplicate.",
    'partition',
    false,
  ),
  'aws.dynamodb.pk.sort': referenceKey(
    "Where the item's sort (range) key comes from, as aws.dynamodb.pk.hash; empty when the table has no sort key.",
    'offset',
    true,
  ),
  'behavior.on.null.values': k.enum(
    NULL_VALUE_BEHAVIORS,
    'What a tombstone (a record with a null value) does: ignore it; delete the item with its key (built from the record key or its coordinates: the key references must not be value.*); or fail (a record-level error).',
    { default: 'ignore', caseInsensitive: true },
  ),
  'delivery.guarantee': k.enum(
    DELIVERY_GUARANTEES,
    "at-least-once: BatchWriteItem; after a failure, records since the last commit are written again (same keys: the items are overwritten with the same values). exactly-once: TransactWriteItems, each transaction holding its items and a conditional update of the partition's offset item in exactly.once.offsets.table, so a replayed batch (a retried trigger, a zombie invocation, a crash before the commit) is refused by the condition and skipped; costs twice the write capacity.",
    {
      default: 'at-least-once',
      caseInsensitive: true,
      aliases: { AT_LEAST_ONCE: 'at-least-once', EXACTLY_ONCE: 'exactly-once' },
    },
  ),
  'exactly.once.offsets.table': k.optional(
    k.custom(
      'string',
      'delivery.guarantee=exactly-once (required there): the table holding the partition offset items the transactions update, in the region and account of the target tables; key pk (S) and sk (S), as offset.storage.table (it may be that table). Item: pk = connector name, sk = #eos#{"kafka_topic":...,"kafka_partition":...}, kafka_offset (N) = the offset after the last record applied. The function needs GetItem, UpdateItem and DescribeTable on it.',
      'a DynamoDB table name (3-255 of letters, digits, "_", "-", ".")',
      (raw) => (TABLE_NAME.test(raw.trim()) ? raw.trim() : undefined),
    ),
  ),
} as const;

export const dynamodbSinkDef: ConnectorDef<typeof dynamodbSinkKeys> = {
  name: 'dynamodb-sink',
  aliases: ['DynamoDbSinkConnector', 'io.confluent.connect.aws.dynamodb.DynamoDbSinkConnector'],
  kind: 'sink',
  doc: "Record values as items of a DynamoDB table, keyed by Kafka coordinates or by fields of the record key or value (the keys of Confluent's DynamoDB sink). At-least-once with BatchWriteItem, or exactly-once with TransactWriteItems and a conditional offset item per partition; tombstones ignored or deleted.",
  schema: { keys: dynamodbSinkKeys },
  check(values, report) {
    const hash = parseRecordReference(String(values['aws.dynamodb.pk.hash'] ?? ''));
    const sortText = String(values['aws.dynamodb.pk.sort'] ?? '');
    const sort = sortText === '' ? undefined : parseRecordReference(sortText);
    if (hash !== undefined && sort !== undefined && hash.attribute === sort.attribute) {
      report({
        key: 'aws.dynamodb.pk.sort',
        expected: `an attribute other than the hash key's (${hash.attribute}): add :<attribute name>`,
        got: sortText,
      });
    }
    if (values['behavior.on.null.values'] === 'delete') {
      for (const [key, ref] of [
        ['aws.dynamodb.pk.hash', hash],
        ['aws.dynamodb.pk.sort', sort],
      ] as const) {
        if (ref?.source === 'value') {
          report({
            key,
            expected:
              'a reference to the record key or its coordinates when behavior.on.null.values=delete (a tombstone has no value)',
            got: ref.text,
          });
        }
      }
    }
    if (
      values['delivery.guarantee'] === 'exactly-once' &&
      values['exactly.once.offsets.table'] === undefined
    ) {
      report({
        key: 'exactly.once.offsets.table',
        expected:
          "the table of the exactly-once offset items (key pk S, sk S; e.g. the worker's offset.storage.table) when delivery.guarantee=exactly-once",
      });
    }
  },
};
