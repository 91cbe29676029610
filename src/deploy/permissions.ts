/**
 * The AWS permissions one connector's function needs, least privilege, derived from what the code calls:
 *
 * - offsets in DynamoDB (src/offsets/dynamodb-*.ts): the lease is UpdateItem, reads are BatchGetItem,
 *   commits are TransactWriteItems of a ConditionCheck (the lease) and Puts (sources: Deletes too, for a
 *   null offset). IAM authorizes each item action of a transaction, not TransactWriteItems. The table is
 *   created by the infrastructure, so neither CreateTable nor DescribeTable is granted (local runs create
 *   it with `createIfMissing`). A triggered sink keeps no offsets: the event source mapping commits them.
 * - the DynamoDB sink (src/connectors/dynamodb/): DescribeTable of every target before its first write;
 *   at-least-once: BatchWriteItem, with PutItem/DeleteItem one by one after a refused batch; exactly-once:
 *   TransactWriteItems of Puts/Deletes on the targets and an Update of the offset item in
 *   `exactly.once.offsets.table` (its key checked with DescribeTable), read back with GetItem. Deletes only with `behavior.on.null.values=delete`.
 * - the DynamoDB Streams source (src/connectors/dynamodb-streams/): DescribeTable for the table's current
 *   stream (not with `dynamodb.stream.arn`), DescribeStream, GetShardIterator and GetRecords on its streams.
 * - MSK IAM (src/kafka/), only when the bundle authenticates with IAM: Connect and DescribeCluster;
 *   producers are idempotent (WriteDataIdempotently); transactional ids `<group.id>-<name>-<task>`
 *   (exactly-once sources, sinks with offsets in Kafka); ListTransactions (src/offsets/prior-runs.ts)
 *   returns only the ids the role may describe, so sources with offsets in Kafka describe their own; the
 *   offsets topic is read, written and created when missing; a scheduled sink reads its topics group-less
 *   and, with offsets in Kafka, reads (OffsetFetch, DescribeGroups) and commits (TxnOffsetCommit) group
 *   `connect-<name>`. A triggered sink reads nothing itself: the event source mapping polls with the
 *   function's role, so it gets what the mapping needs (AWS's list for MSK event sources).
 *
 * A sink's `topics.regex` matches topics that cannot be known when packaging: topic permissions name the
 * regex's literal prefix followed by `*` (every topic when it has none), and a DynamoDB sink whose
 * `table.name.format` uses `${topic}` cannot be packaged with it (its tables cannot be named).
 * @module
 */
import type { ConnectorConfig } from '../config/connector-config.ts';
import type { WorkerConfig } from '../config/worker-config.ts';
import { ConfigInvalidError } from '../errors.ts';
import type { ConnectorTrigger, Permission } from './manifest.ts';

/** What the permissions depend on, besides the configs. */
export interface PermissionFacts {
  readonly worker: WorkerConfig;
  readonly connector: ConnectorConfig;
  readonly trigger: ConnectorTrigger;
  /** The topics the connector writes (sources) or reads (sinks). */
  readonly topics: readonly string[];
  readonly iam: boolean;
}

type Dynamo = Extract<Permission, { service: 'dynamodb' }>;

const TOPIC_PLACEHOLDER = '${topic}';
const REGEX_META = /[\\^$.|?*+()[\]{}]/;

/**
 * The names `regex` (a sink's `topics.regex`, matched whole) can match, as an IAM name pattern: the
 * literal text every match begins with, then `*`; just `*` when matches share no beginning (an
 * alternation, a leading class or group).
 */
export function regexNamePattern(regex: string): string {
  if (regex.includes('|')) return '*';
  const meta = regex.search(REGEX_META);
  if (meta < 0) return regex;
  // `a?`, `a*` and `a{0,2}` make the character before them optional: it is not part of the prefix.
  const optional = /[?*{]/.test(regex[meta] ?? '');
  return `${regex.slice(0, optional ? Math.max(0, meta - 1) : meta)}*`;
}

function offsetsTablePermission(facts: PermissionFacts): Dynamo[] {
  const { worker, connector, trigger } = facts;
  if (worker.values['offset.storage'] !== 'dynamodb' || trigger === 'kafka') return [];
  const source = connector.kind === 'source';
  const actions = ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:PutItem'];
  if (source) actions.push('dynamodb:DeleteItem');
  actions.push('dynamodb:UpdateItem');
  return [
    {
      service: 'dynamodb',
      actions: actions.sort(),
      tables: [worker.values['offset.storage.table']],
      reason:
        'offset.storage=dynamodb: the task lease (UpdateItem), offset reads (BatchGetItem) and commits ' +
        `(TransactWriteItems of ConditionCheck and Put${source ? ', and Delete for a null offset' : ''})`,
    },
  ];
}

/** The target tables of a DynamoDB sink: `table.name.format` for each of its topics. */
function sinkTables(facts: PermissionFacts): string[] {
  const { connector, topics } = facts;
  const format = String(connector.config['table.name.format']);
  if (!format.includes(TOPIC_PLACEHOLDER)) return [format];
  if (connector.common['topics.regex'] !== undefined) {
    throw new ConfigInvalidError([
      {
        file: connector.file,
        key: 'table.name.format',
        expected:
          'a table name without ${topic} when the connector reads topics.regex: the tables it writes cannot be ' +
          'known when packaging, so no least-privilege IAM policy can name them (list the topics in `topics` instead)',
        got: format,
      },
    ]);
  }
  return [...new Set(topics.map((t) => format.split(TOPIC_PLACEHOLDER).join(t)))].sort();
}

function dynamodbSinkPermissions(facts: PermissionFacts): Dynamo[] {
  const config = facts.connector.config;
  const deletes = config['behavior.on.null.values'] === 'delete';
  const exactlyOnce = config['delivery.guarantee'] === 'exactly-once';
  const actions = ['dynamodb:DescribeTable', 'dynamodb:PutItem'];
  if (deletes) actions.push('dynamodb:DeleteItem');
  if (!exactlyOnce) actions.push('dynamodb:BatchWriteItem');
  const targets: Dynamo = {
    service: 'dynamodb',
    actions: actions.sort(),
    tables: sinkTables(facts),
    reason: exactlyOnce
      ? `sink targets: DescribeTable before the first write, TransactWriteItems of Put${deletes ? ' and Delete' : ''}`
      : `sink targets: DescribeTable before the first write, BatchWriteItem, then PutItem${deletes ? '/DeleteItem' : ''} one by one after a refused batch`,
  };
  if (!exactlyOnce) return [targets];
  return [
    targets,
    {
      service: 'dynamodb',
      actions: ['dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
      tables: [String(config['exactly.once.offsets.table'])],
      reason:
        'exactly.once.offsets.table: its key checked (DescribeTable), the partition offset item updated in each transaction and read back (GetItem)',
    },
  ];
}

/** The table a DynamoDB Streams source reads, named or taken from its stream ARN. */
export function streamsTable(config: ConnectorConfig['config']): string {
  const table = config['dynamodb.table'];
  if (typeof table === 'string') return table;
  return /:table\/([^/]+)\/stream\//.exec(String(config['dynamodb.stream.arn']))?.[1] ?? '';
}

function dynamodbStreamsPermissions(facts: PermissionFacts): Permission[] {
  const config = facts.connector.config;
  const table = streamsTable(config);
  const describe: Permission[] =
    config['dynamodb.stream.arn'] === undefined
      ? [
          {
            service: 'dynamodb',
            actions: ['dynamodb:DescribeTable'],
            tables: [table],
            reason: "dynamodb-streams: the table's current stream (LatestStreamArn)",
          },
        ]
      : [];
  return [
    ...describe,
    {
      service: 'dynamodb-streams',
      actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
      tables: [table],
      reason: "dynamodb-streams: the stream's shards (DescribeStream), iterators and change records",
    },
  ];
}

/** The DynamoDB permissions of a built-in connector, by its plugin name. */
const PLUGIN_PERMISSIONS: Readonly<Record<string, (facts: PermissionFacts) => Permission[]>> = {
  'dynamodb-sink': dynamodbSinkPermissions,
  'dynamodb-streams': dynamodbStreamsPermissions,
};

type Kafka = Extract<Permission, { service: 'kafka-cluster' }>;

function kafka(
  resource: Kafka['resource'],
  actions: string[],
  names: readonly string[],
  reason: string,
): Kafka {
  return {
    service: 'kafka-cluster',
    resource,
    actions: actions.map((a) => `kafka-cluster:${a}`).sort(),
    names: [...names],
    reason,
  };
}

/** What the event source mapping of a triggered sink does with the function's role (MSK IAM). */
function mappingPermissions(group: string, topicNames: readonly string[]): Kafka[] {
  const reason = 'the event source mapping polls with the function role';
  return [
    kafka('cluster', ['Connect', 'DescribeClusterDynamicConfiguration'], [], reason),
    kafka('topic', ['DescribeTopic', 'ReadData'], topicNames, `${reason}: the connector's topics`),
    kafka('group', ['AlterGroup', 'DescribeGroup'], [group], `${reason}: its consumer group`),
  ];
}

function sourceKafkaPermissions(facts: PermissionFacts, transactionalIds: string): Kafka[] {
  const w = facts.worker.values;
  const inKafka = w['offset.storage'] === 'kafka';
  const exactlyOnce = inKafka && w['exactly.once.source.support'] === 'enabled';
  const out = [kafka('topic', ['DescribeTopic', 'WriteData'], facts.topics, 'the topics the source writes')];
  if (inKafka) {
    out.push(
      kafka(
        'topic',
        ['CreateTopic', 'DescribeTopic', 'ReadData', 'WriteData'],
        [w['offset.storage.topic']],
        'offset.storage.topic: offsets read and written, the topic created when missing',
      ),
      exactlyOnce
        ? kafka(
            'transactional-id',
            ['AlterTransactionalId', 'DescribeTransactionalId'],
            [transactionalIds],
            "exactly.once.source.support: each task's transactions; ListTransactions before creating the offsets topic",
          )
        : kafka(
            'transactional-id',
            ['DescribeTransactionalId'],
            [transactionalIds],
            "ListTransactions before creating the offsets topic sees only this connector's ids",
          ),
    );
  }
  return out;
}

function sinkKafkaPermissions(facts: PermissionFacts, group: string, transactionalIds: string): Kafka[] {
  const regex = facts.connector.common['topics.regex'];
  const topicNames = regex === undefined ? facts.topics : [regexNamePattern(regex)];
  if (facts.trigger === 'kafka') return mappingPermissions(group, topicNames);
  const out = [
    kafka('topic', ['DescribeTopic', 'ReadData'], topicNames, 'the topics the sink reads, group-less'),
  ];
  if (facts.worker.values['offset.storage'] === 'kafka') {
    out.push(
      kafka(
        'group',
        ['AlterGroup', 'DescribeGroup'],
        [group],
        'offset.storage=kafka: the committed offsets of the sink (OffsetFetch, DescribeGroups, TxnOffsetCommit)',
      ),
      kafka(
        'transactional-id',
        ['AlterTransactionalId', 'DescribeTransactionalId'],
        [transactionalIds],
        "offset.storage=kafka: each task's offset commits are transactions that fence older invocations",
      ),
    );
  }
  return out;
}

/** MSK IAM permissions: none without IAM. */
function kafkaPermissions(facts: PermissionFacts): Kafka[] {
  if (!facts.iam) return [];
  const name = facts.connector.name;
  const group = `connect-${name}`;
  const transactionalIds = `${facts.worker.values['group.id']}-${name}-*`;
  const produces =
    facts.connector.kind === 'source' ||
    (facts.trigger === 'schedule' && facts.worker.values['offset.storage'] === 'kafka');
  const cluster = kafka(
    'cluster',
    produces ? ['Connect', 'DescribeCluster', 'WriteDataIdempotently'] : ['Connect', 'DescribeCluster'],
    [],
    produces ? 'connect, read metadata, produce idempotently' : 'connect and read metadata',
  );
  const own =
    facts.connector.kind === 'source'
      ? sourceKafkaPermissions(facts, transactionalIds)
      : sinkKafkaPermissions(facts, group, transactionalIds);
  return facts.trigger === 'kafka' ? own : [cluster, ...own];
}

/** Every permission the connector's function needs; throws `ConfigInvalidError` when one cannot be named. */
export function derivePermissions(facts: PermissionFacts): Permission[] {
  return [
    ...offsetsTablePermission(facts),
    ...(PLUGIN_PERMISSIONS[facts.connector.plugin]?.(facts) ?? []),
    ...kafkaPermissions(facts),
  ];
}
