/**
 * Package directories as `connect-fn package <bundle> --out DIR` writes them (`DIR/<connector>/manifest.json`
 * + the zip it names), for the IaC tests: realistic manifests of every connector kind, trigger and offsets
 * storage, with small stand-in zips whose sha256 the manifests carry.
 *
 * Two bundles, as a bundle has one Kafka cluster (its worker's):
 * - `mskBundle`: Amazon MSK with IAM — a datagen source (offsets in Kafka, exactly-once, tasks.max=2), a file
 *   source (offsets in DynamoDB), a scheduled dynamodb-sink (offsets in the same table), a triggered
 *   dynamodb-sink;
 * - `selfManagedBundle`: self-managed Kafka with SASL/SCRAM — a triggered dynamodb-sink whose bundle reads
 *   `${env:KAFKA_USERNAME}` and `${env:KAFKA_PASSWORD}`.
 * @module
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ConnectorManifest, MANIFEST_VERSION, type Permission } from '../../src/deploy/manifest.ts';

export const MSK_CLUSTER_ARN =
  'arn:aws:kafka:eu-west-1:123456789012:cluster/orders-cluster/6a1b2c3d-1111-2222-3333-444455556666-7';
export const SASL_SECRET_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_connect-fn-AbCdEf';

/** The fields a fixture chooses; the rest is what the package command derives the same way for all. */
type Spec = Pick<
  ConnectorManifest,
  | 'connector'
  | 'plugin'
  | 'connectorClass'
  | 'kind'
  | 'trigger'
  | 'schedule'
  | 'tasks'
  | 'topics'
  | 'kafka'
  | 'offsets'
  | 'eventSource'
  | 'permissions'
> & {
  readonly requiredEnvironment?: readonly string[];
};

const MSK_IAM = { securityProtocol: 'SASL_SSL', saslMechanism: 'AWS_MSK_IAM', iam: true } as const;
const SCRAM = { securityProtocol: 'SASL_SSL', saslMechanism: 'SCRAM-SHA-512', iam: false } as const;

const connect: Permission = {
  service: 'kafka-cluster',
  actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
  resource: 'cluster',
  names: [],
  reason: 'connect to the cluster',
};

function topic(actions: readonly string[], names: readonly string[], reason: string): Permission {
  return {
    service: 'kafka-cluster',
    actions: actions.map((a) => `kafka-cluster:${a}`),
    resource: 'topic',
    names,
    reason,
  };
}

function table(actions: readonly string[], tables: readonly string[], reason: string): Permission {
  return { service: 'dynamodb', actions: actions.map((a) => `dynamodb:${a}`), tables, reason };
}

const OFFSETS_ACTIONS = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'];

export const mskBundle: readonly Spec[] = [
  {
    connector: 'orders-datagen',
    plugin: 'datagen',
    connectorClass: 'io.confluent.kafka.connect.datagen.DatagenConnector',
    kind: 'source',
    trigger: 'schedule',
    schedule: 'rate(1 minute)',
    tasks: 2,
    topics: ['orders'],
    kafka: MSK_IAM,
    offsets: { storage: 'kafka', topic: 'connect-offsets', table: null },
    eventSource: null,
    permissions: [
      { ...connect, actions: [...connect.actions, 'kafka-cluster:WriteDataIdempotently'] },
      topic(['DescribeTopic', 'WriteData'], ['orders'], 'records'),
      topic(['DescribeTopic', 'CreateTopic', 'ReadData', 'WriteData'], ['connect-offsets'], 'offsets topic'),
      {
        service: 'kafka-cluster',
        actions: ['kafka-cluster:DescribeTransactionalId', 'kafka-cluster:AlterTransactionalId'],
        resource: 'transactional-id',
        names: ['connect-fn-orders-datagen-*'],
        reason: 'exactly-once transactions of every task',
      },
    ],
  },
  {
    connector: 'lines-source',
    plugin: 'file-source',
    connectorClass: 'FileStreamSource',
    kind: 'source',
    trigger: 'schedule',
    schedule: 'rate(5 minutes)',
    tasks: 1,
    topics: ['lines'],
    kafka: MSK_IAM,
    offsets: { storage: 'dynamodb', topic: null, table: 'connect-fn-offsets' },
    eventSource: null,
    permissions: [
      connect,
      topic(['DescribeTopic', 'WriteData'], ['lines'], 'records'),
      table(OFFSETS_ACTIONS, ['connect-fn-offsets'], 'offsets table'),
    ],
  },
  {
    connector: 'orders-to-dynamodb',
    plugin: 'dynamodb-sink',
    connectorClass: 'io.confluent.connect.aws.dynamodb.DynamoDbSinkConnector',
    kind: 'sink',
    trigger: 'schedule',
    schedule: 'cron(0/10 * * * ? *)',
    tasks: 1,
    topics: ['orders'],
    kafka: MSK_IAM,
    offsets: { storage: 'dynamodb', topic: null, table: 'connect-fn-offsets' },
    eventSource: null,
    permissions: [
      connect,
      topic(['DescribeTopic', 'ReadData'], ['orders'], 'records'),
      table(OFFSETS_ACTIONS, ['connect-fn-offsets'], 'offsets table'),
      table(['DescribeTable', 'BatchWriteItem'], ['orders'], 'sink target'),
    ],
  },
  {
    connector: 'orders-archive',
    plugin: 'dynamodb-sink',
    connectorClass: 'DynamoDbSinkConnector',
    kind: 'sink',
    trigger: 'kafka',
    schedule: null,
    tasks: 1,
    topics: ['orders'],
    kafka: MSK_IAM,
    offsets: { storage: 'kafka', topic: null, table: null },
    eventSource: {
      topics: ['orders'],
      consumerGroupId: 'connect-orders-archive',
      batchSize: 500,
      startingPosition: 'TRIM_HORIZON',
    },
    // What the package command grants a triggered sink's mapping under MSK IAM (it polls with the role).
    permissions: [
      {
        service: 'kafka-cluster',
        actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeClusterDynamicConfiguration'],
        resource: 'cluster',
        names: [],
        reason: 'the event source mapping polls with the function role',
      },
      topic(
        ['DescribeTopic', 'ReadData'],
        ['orders'],
        "the event source mapping polls with the function role: the connector's topics",
      ),
      {
        service: 'kafka-cluster',
        actions: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
        resource: 'group',
        names: ['connect-orders-archive'],
        reason: 'the event source mapping polls with the function role: its consumer group',
      },
      table(['BatchWriteItem', 'DescribeTable', 'PutItem'], ['orders-archive'], 'sink targets'),
    ],
  },
];

export const selfManagedBundle: readonly Spec[] = [
  {
    connector: 'audit-sink',
    plugin: 'dynamodb-sink',
    connectorClass: 'DynamoDbSinkConnector',
    kind: 'sink',
    trigger: 'kafka',
    schedule: null,
    tasks: 1,
    topics: ['audit'],
    kafka: SCRAM,
    offsets: { storage: 'kafka', topic: null, table: null },
    eventSource: {
      topics: ['audit'],
      consumerGroupId: 'connect-audit-sink',
      batchSize: 100,
      startingPosition: 'LATEST',
    },
    permissions: [table(['DescribeTable', 'BatchWriteItem'], ['audit'], 'sink target')],
    requiredEnvironment: ['KAFKA_USERNAME', 'KAFKA_PASSWORD'],
  },
];

/** The manifest the package command would write for `spec` and a zip of `zip`. */
export function manifestOf(spec: Spec, zip: Buffer): ConnectorManifest {
  const { requiredEnvironment = [], ...fields } = spec;
  return {
    manifestVersion: MANIFEST_VERSION,
    ...fields,
    topicsRegex: null,
    function: {
      handler: 'index.handler',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memoryMb: spec.kind === 'source' ? 512 : 1024,
      timeoutSeconds: 60,
      environment: { CONNECT_FN_CONNECTOR: spec.connector, NODE_OPTIONS: '--enable-source-maps' },
      requiredEnvironment,
    },
    artifact: {
      file: `${spec.connector}.zip`,
      sha256: createHash('sha256').update(zip).digest('hex'),
      bytes: zip.length,
    },
  };
}

/** An empty zip archive (its end-of-central-directory record only) that names the connector in its comment. */
function standInZip(connector: string): Buffer {
  const comment = Buffer.from(`stand-in for ${connector}`);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(comment.length, 20);
  return Buffer.concat([eocd, comment]);
}

/** Writes the package directory of `specs` (each optionally changed by `edit`) into `dir`; returns `dir`. */
export function writePackageDir(
  dir: string,
  specs: readonly Spec[],
  edit: (manifest: ConnectorManifest) => ConnectorManifest = (m) => m,
): string {
  mkdirSync(dir, { recursive: true });
  for (const spec of specs) {
    const zip = standInZip(spec.connector);
    const manifest = edit(manifestOf(spec, zip));
    mkdirSync(join(dir, spec.connector));
    writeFileSync(join(dir, spec.connector, manifest.artifact.file), zip);
    writeFileSync(join(dir, spec.connector, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  }
  return dir;
}
