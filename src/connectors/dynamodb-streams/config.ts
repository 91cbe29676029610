/**
 * Configuration of the `dynamodb-streams` source connector: a DynamoDB table's stream (change data
 * capture) into Kafka. Key names follow the Kafka Connect DynamoDB connectors a user may know:
 *
 * - `dynamodb.table`, `aws.region` and `dynamodb.service.endpoint` as in trustpilot's
 *   kafka-connect-dynamodb source (`dynamodb.table.whitelist` there names several tables; we read one);
 * - `topic.format` with its `${table}` placeholder and default as in shikhar's kafka-connect-dynamodb
 *   (dynamok) source;
 * - `dynamodb.stream.position` after Confluent's Kinesis source (`kinesis.position`): where to start when
 *   nothing is committed;
 * - `batch.size` as in our other sources (most records one poll returns, and GetRecords' `Limit`).
 *
 * `${table}` contains no `:`, so it is never taken for a config provider reference (`${provider:path:key}`).
 * @module
 */
import { k } from '../../config/keys.ts';
import type { ConnectorDef } from '../../config/registry.ts';
import { TOPIC_NAME, TOPIC_NAME_RULE } from '../topic-key.ts';

/** Where a shard starts when nothing is committed for its lineage. */
export const STREAM_POSITIONS = ['TRIM_HORIZON', 'LATEST'] as const;
export type StreamPosition = (typeof STREAM_POSITIONS)[number];

/** What a committed sequence number older than the stream's 24-hour retention does. */
export const TRIMMED_POLICIES = ['fail', 'trim_horizon'] as const;
export type TrimmedPolicy = (typeof TRIMMED_POLICIES)[number];

/** The placeholder of `topic.format`. */
export const TABLE_PLACEHOLDER = '${table}';

/** DynamoDB table names: 3-255 of letters, digits, `_`, `-` and `.`. */
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/** A stream ARN: `arn:<partition>:dynamodb:<region>:<account>:table/<table>/stream/<label>`. */
export const STREAM_ARN = /^arn:[^:]+:dynamodb:[^:]*:[^:]*:table\/([A-Za-z0-9_.-]{3,255})\/stream\/[^/\s]+$/;

/** The topic of `table`'s changes. */
export function topicFor(format: string, table: string): string {
  return format.split(TABLE_PLACEHOLDER).join(table);
}

function parseTopicFormat(raw: string): string | undefined {
  const format = raw.trim();
  // The longest topic it can give is checked per table at start; here its shape, with a short name.
  return TOPIC_NAME.test(topicFor(format, 'abc')) ? format : undefined;
}

export const dynamoDbStreamsKeys = {
  'dynamodb.table': k.optional(
    k.custom(
      'string',
      "The table whose changes to read, through its current stream (DescribeTable's LatestStreamArn). Set this, dynamodb.stream.arn, or both.",
      'a DynamoDB table name (3-255 of letters, digits, _ - .)',
      (raw) => (TABLE_NAME.test(raw.trim()) ? raw.trim() : undefined),
    ),
  ),
  'dynamodb.stream.arn': k.optional(
    k.custom(
      'string',
      'A specific stream to read instead of the table’s current one (arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>); the table name is taken from it.',
      'a DynamoDB stream ARN',
      (raw) => (STREAM_ARN.test(raw.trim()) ? raw.trim() : undefined),
    ),
  ),
  'aws.region': k.optional(
    k.string('AWS region of the table; default: the SDK chain (AWS_REGION in Lambda).', { nonEmpty: true }),
  ),
  'dynamodb.service.endpoint': k.optional(
    k.url(
      'DynamoDB (and DynamoDB Streams) endpoint, e.g. DynamoDB Local; default: the region’s AWS endpoints.',
    ),
  ),
  'topic.format': k.custom(
    'string',
    'The topic of the change records: a fixed name, or a format where ${table} stands for the table name.',
    `${TOPIC_NAME_RULE}, where \${table} may stand for the table name`,
    parseTopicFormat,
    { default: TABLE_PLACEHOLDER },
  ),
  'dynamodb.stream.position': k.enum(
    STREAM_POSITIONS,
    'Where to start reading a shard lineage nothing was committed for: TRIM_HORIZON (the oldest change kept, up to 24 h back) or LATEST (changes from now on; see the connector docs for what LATEST cannot see before the first change is captured).',
    { default: 'TRIM_HORIZON', caseInsensitive: true },
  ),
  'dynamodb.stream.trimmed.policy': k.enum(
    TRIMMED_POLICIES,
    'When a committed position is older than the stream keeps (24 h): fail (stop; the operator resets the offset) or trim_horizon (log the gap as a warning and continue from the oldest change kept).',
    { default: 'fail', caseInsensitive: true },
  ),
  'batch.size': k.int('Most change records one poll returns (the Limit of each GetRecords call).', {
    default: 1000,
    min: 1,
    max: 1000,
  }),
} as const;

export const dynamoDbStreamsDef: ConnectorDef<typeof dynamoDbStreamsKeys> = {
  name: 'dynamodb-streams',
  aliases: ['DynamoDbStreamsSource', 'DynamoDbStreamsSourceConnector'],
  kind: 'source',
  doc: 'Changes of a DynamoDB table (its stream) into Kafka, one record per change. Offsets: {table, shard} -> {sequence}.',
  schema: { keys: dynamoDbStreamsKeys },
  check(values, report) {
    const table = values['dynamodb.table'];
    const arn = values['dynamodb.stream.arn'];
    if (table === undefined && arn === undefined) {
      report({ key: 'dynamodb.table', expected: 'set (or dynamodb.stream.arn): the table to read' });
    }
    if (typeof table === 'string' && typeof arn === 'string' && tableOfStreamArn(arn) !== table) {
      report({ key: 'dynamodb.stream.arn', expected: `a stream of table ${table}` });
    }
    const name =
      typeof table === 'string' ? table : typeof arn === 'string' ? tableOfStreamArn(arn) : undefined;
    const format = values['topic.format'];
    if (name !== undefined && typeof format === 'string' && !TOPIC_NAME.test(topicFor(format, name))) {
      report({
        key: 'topic.format',
        expected: `${TOPIC_NAME_RULE}, once \${table} is ${name}`,
      });
    }
  },
};

/** The table name inside a stream ARN (undefined when it is not one). */
export function tableOfStreamArn(arn: string): string | undefined {
  return STREAM_ARN.exec(arn)?.[1];
}
