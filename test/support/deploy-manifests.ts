/**
 * Fixture deployment manifests (what `connect-fn package` writes) for the IaC tests of both paths: bundles
 * covering every connector kind, trigger and offsets storage, each with the deployment options it needs, and
 * `writePackageDir`, which lays them out as `<dir>/<connector>/manifest.json` + a tiny zip. (The real
 * `connect-fn package examples/quickstart` is compared too: test/unit/infra/iac-equivalence.test.ts.)
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { DeploymentOptions } from '../../infra/lib/plan.ts';
import type { ConnectorManifest, Permission } from '../../src/deploy/manifest.ts';

export const MSK_CLUSTER_ARN =
  'arn:aws:kafka:eu-west-1:123456789012:cluster/prod-kafka/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d-2';
export const SCRAM_SECRET_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_connect-fn-AbCdEf';
export const CLIENT_CERTIFICATE_SECRET_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:connect-fn-client-cert-AbCdEf';
export const ROOT_CA_SECRET_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:connect-fn-root-ca-AbCdEf';

type Overrides = Partial<Omit<ConnectorManifest, 'function'>> & {
  readonly function?: Partial<ConnectorManifest['function']>;
};

/** A manifest with the package command's defaults, as `connect-fn package` would write it. */
export function manifest(connector: string, overrides: Overrides): ConnectorManifest {
  const { function: fn, ...rest } = overrides;
  return {
    manifestVersion: 1,
    connector,
    plugin: 'datagen',
    connectorClass: 'datagen',
    kind: 'source',
    trigger: 'schedule',
    schedule: 'rate(1 minute)',
    tasks: 1,
    topics: [],
    topicsRegex: null,
    artifact: { file: `${connector}.zip`, sha256: '', bytes: 0 },
    kafka: { securityProtocol: 'PLAINTEXT', saslMechanism: null, iam: false },
    offsets: { storage: 'kafka', topic: 'connect-offsets', table: null },
    eventSource: null,
    permissions: [],
    ...rest,
    function: {
      handler: 'index.handler',
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memoryMb: 512,
      timeoutSeconds: 60,
      environment: { CONNECT_FN_CONNECTOR: connector, NODE_OPTIONS: '--enable-source-maps' },
      requiredEnvironment: ['KAFKA_BROKERS'],
      ...fn,
    },
  };
}

const ddb = (actions: string[], tables: string[], reason: string): Permission => ({
  service: 'dynamodb',
  actions: actions.map((a) => `dynamodb:${a}`),
  tables,
  reason,
});
const msk = (
  actions: string[],
  resource: 'cluster' | 'topic' | 'group' | 'transactional-id',
  names: string[],
  reason: string,
): Permission => ({
  service: 'kafka-cluster',
  actions: actions.map((a) => `kafka-cluster:${a}`),
  resource,
  names,
  reason,
});

/** The quickstart's datagen source: two tasks, offsets in connect-offsets, exactly once. */
const orders = manifest('orders', {
  tasks: 2,
  topics: ['orders'],
  function: { memoryMb: 1024, timeoutSeconds: 120 },
});

/** The quickstart's DynamoDB sink, scheduled, offsets in group connect-orders-table, exactly-once table. */
const ordersTable = manifest('orders-table', {
  plugin: 'dynamodb-sink',
  connectorClass: 'dynamodb-sink',
  kind: 'sink',
  topics: ['orders'],
  offsets: { storage: 'kafka', topic: null, table: null },
  permissions: [
    ddb(['DescribeTable', 'BatchWriteItem', 'PutItem', 'UpdateItem'], ['orders'], 'sink target'),
    ddb(
      ['DescribeTable', 'GetItem', 'PutItem', 'UpdateItem', 'ConditionCheckItem'],
      ['quickstart-eos-offsets'],
      'exactly-once offsets table',
    ),
  ],
});

/** The quickstart's change stream of table orders into topic orders-changes. */
const ordersChanges = manifest('orders-changes', {
  plugin: 'dynamodb-streams',
  connectorClass: 'dynamodb-streams',
  topics: ['orders-changes'],
  function: { requiredEnvironment: ['KAFKA_BROKERS', 'DYNAMODB_ENDPOINT'] },
  permissions: [
    ddb(['DescribeTable'], ['orders'], 'the stream of the source table'),
    {
      service: 'dynamodb-streams',
      actions: ['dynamodb:DescribeStream', 'dynamodb:GetShardIterator', 'dynamodb:GetRecords'],
      tables: ['orders'],
      reason: 'source stream',
    },
  ],
});

/** FileStreamSource with offsets in DynamoDB (two connectors share the table). */
const offsetsActions = ['DescribeTable', 'GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'];
const fileSource = (name: string, topic: string): ConnectorManifest =>
  manifest(name, {
    plugin: 'file-source',
    connectorClass: 'FileStreamSource',
    topics: [topic],
    schedule: 'rate(5 minutes)',
    offsets: { storage: 'dynamodb', topic: null, table: 'connect-fn-offsets' },
    permissions: [ddb(offsetsActions, ['connect-fn-offsets'], 'offsets table')],
  });

/** A FileStreamSink triggered by an MSK event source mapping, MSK IAM; its DLQ topic written with IAM. */
const ordersArchive = manifest('orders-archive', {
  plugin: 'file-sink',
  connectorClass: 'FileStreamSink',
  kind: 'sink',
  trigger: 'kafka',
  schedule: null,
  topics: ['orders'],
  kafka: { securityProtocol: 'SASL_SSL', saslMechanism: 'AWS_MSK_IAM', iam: true },
  offsets: { storage: 'kafka', topic: null, table: null },
  eventSource: {
    topics: ['orders'],
    consumerGroupId: 'connect-orders-archive',
    batchSize: 500,
    startingPosition: 'TRIM_HORIZON',
  },
  function: { requiredEnvironment: [] },
  permissions: [
    // What connect-fn package lists for a triggered sink with MSK IAM: the mapping polls with the function role.
    msk(
      ['Connect', 'DescribeClusterDynamicConfiguration'],
      'cluster',
      [],
      'the event source mapping polls with the function role',
    ),
    msk(
      ['DescribeTopic', 'ReadData'],
      'topic',
      ['orders'],
      "the event source mapping polls with the function role: the connector's topics",
    ),
    msk(
      ['AlterGroup', 'DescribeGroup'],
      'group',
      ['connect-orders-archive'],
      'the event source mapping polls with the function role: its consumer group',
    ),
  ],
});

const MSK_IAM = { securityProtocol: 'SASL_SSL', saslMechanism: 'AWS_MSK_IAM', iam: true } as const;

/** Datagen on MSK with IAM, exactly once: writes orders and connect-offsets in transactions. */
function datagenOnMsk(name: string, overrides: Overrides, clusterActions: string[] = []): ConnectorManifest {
  return manifest(name, {
    topics: ['orders'],
    kafka: MSK_IAM,
    permissions: [
      msk(['Connect', 'DescribeCluster', ...clusterActions], 'cluster', [], 'connect with IAM'),
      msk(['DescribeTopic', 'WriteData'], 'topic', ['orders'], 'data topic'),
      msk(
        ['CreateTopic', 'DescribeTopic', 'ReadData', 'WriteData'],
        'topic',
        ['connect-offsets'],
        'offsets topic',
      ),
      msk(
        ['DescribeTransactionalId', 'AlterTransactionalId'],
        'transactional-id',
        [`connect-fn-${name}-*`],
        'exactly-once transactions of every task',
      ),
    ],
    ...overrides,
  });
}
const ordersMsk = datagenOnMsk('orders', { function: { requiredEnvironment: ['KAFKA_BROKERS'] } });

/** A DynamoDB sink triggered by self-managed Kafka with SASL/SCRAM-SHA-512, in a VPC. */
const paymentsTable = manifest('payments-table', {
  plugin: 'dynamodb-sink',
  connectorClass: 'dynamodb-sink',
  kind: 'sink',
  trigger: 'kafka',
  schedule: null,
  topics: ['payments'],
  kafka: { securityProtocol: 'SASL_SSL', saslMechanism: 'SCRAM-SHA-512', iam: false },
  offsets: { storage: 'kafka', topic: null, table: null },
  eventSource: {
    topics: ['payments'],
    consumerGroupId: 'connect-payments-table',
    batchSize: 100,
    startingPosition: 'LATEST',
  },
  function: { memoryMb: 256, timeoutSeconds: 30, requiredEnvironment: ['KAFKA_BROKERS', 'KAFKA_PASSWORD'] },
  permissions: [ddb(['DescribeTable', 'BatchWriteItem', 'PutItem'], ['payments'], 'sink target')],
});

/** A DynamoDB sink triggered by self-managed Kafka over mTLS (client certificate), brokers on a private CA. */
const paymentsTableMtls = manifest('payments-table-mtls', {
  plugin: 'dynamodb-sink',
  connectorClass: 'dynamodb-sink',
  kind: 'sink',
  trigger: 'kafka',
  schedule: null,
  topics: ['payments'],
  kafka: {
    securityProtocol: 'SSL',
    saslMechanism: null,
    iam: false,
    clientCertificate: true,
    privateCa: true,
  },
  offsets: { storage: 'kafka', topic: null, table: null },
  eventSource: {
    topics: ['payments'],
    consumerGroupId: 'connect-payments-table-mtls',
    batchSize: 100,
    startingPosition: 'TRIM_HORIZON',
  },
  function: { memoryMb: 256, timeoutSeconds: 30, requiredEnvironment: ['KAFKA_BROKERS'] },
  permissions: [ddb(['DescribeTable', 'BatchWriteItem', 'PutItem'], ['payments'], 'sink target')],
});

/**
 * Every kind on MSK with IAM, as one bundle: a datagen source (offsets in Kafka, exactly-once, two tasks), a
 * file source with offsets in DynamoDB, a scheduled DynamoDB sink keeping offsets in the same table, and a
 * triggered DynamoDB sink.
 */
const connect = () => msk(['Connect', 'DescribeCluster'], 'cluster', [], 'connect to the cluster');
const OFFSETS_TABLE_ACTIONS = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'];
const everyKindOnMsk: readonly ConnectorManifest[] = [
  datagenOnMsk('orders-datagen', { tasks: 2, function: { requiredEnvironment: [] } }, [
    'WriteDataIdempotently',
  ]),
  manifest('lines-source', {
    plugin: 'file-source',
    connectorClass: 'FileStreamSource',
    schedule: 'rate(5 minutes)',
    topics: ['lines'],
    kafka: MSK_IAM,
    offsets: { storage: 'dynamodb', topic: null, table: 'connect-fn-offsets' },
    function: { requiredEnvironment: [] },
    permissions: [
      connect(),
      msk(['DescribeTopic', 'WriteData'], 'topic', ['lines'], 'records'),
      ddb(OFFSETS_TABLE_ACTIONS, ['connect-fn-offsets'], 'offsets table'),
    ],
  }),
  manifest('orders-to-dynamodb', {
    plugin: 'dynamodb-sink',
    connectorClass: 'io.confluent.connect.aws.dynamodb.DynamoDbSinkConnector',
    kind: 'sink',
    schedule: 'cron(0/10 * * * ? *)',
    topics: ['orders'],
    kafka: MSK_IAM,
    offsets: { storage: 'dynamodb', topic: null, table: 'connect-fn-offsets' },
    function: { requiredEnvironment: [], memoryMb: 1024 },
    permissions: [
      connect(),
      msk(['DescribeTopic', 'ReadData'], 'topic', ['orders'], 'records'),
      ddb(OFFSETS_TABLE_ACTIONS, ['connect-fn-offsets'], 'offsets table'),
      ddb(['DescribeTable', 'BatchWriteItem'], ['orders'], 'sink target'),
    ],
  }),
  {
    ...ordersArchive,
    plugin: 'dynamodb-sink',
    connectorClass: 'DynamoDbSinkConnector',
    function: { ...ordersArchive.function, memoryMb: 1024 },
    permissions: [
      ...ordersArchive.permissions,
      ddb(['BatchWriteItem', 'DescribeTable', 'PutItem'], ['orders-archive'], 'sink targets'),
    ],
  },
];

export interface FixtureBundle {
  readonly manifests: readonly ConnectorManifest[];
  readonly options: DeploymentOptions;
}

const VPC = { subnetIds: ['subnet-0a1b2c3d', 'subnet-4e5f6a7b'], securityGroupIds: ['sg-0123456789abcdef0'] };

/** Every fixture bundle with the options a user would give it. */
export const BUNDLES: Readonly<Record<string, FixtureBundle>> = {
  quickstart: {
    manifests: [orders, ordersTable, ordersChanges],
    options: {
      environment: {
        KAFKA_BROKERS: 'broker-1:9092',
        DYNAMODB_ENDPOINT: 'https://dynamodb.eu-west-1.amazonaws.com',
      },
    },
  },
  'file-dynamodb': {
    manifests: [fileSource('lines-a', 'lines-a'), fileSource('lines-b', 'lines-b')],
    options: { environment: { KAFKA_BROKERS: 'broker-1:9092' }, logRetentionDays: 14, prefix: 'prod-' },
  },
  'msk-iam': {
    manifests: [ordersMsk, ordersArchive],
    options: {
      kafka: { type: 'msk', clusterArn: MSK_CLUSTER_ARN },
      vpc: VPC,
      environment: { KAFKA_BROKERS: 'b-1.prod-kafka.abc123.c2.kafka.eu-west-1.amazonaws.com:9098' },
    },
  },
  'msk-every-kind': {
    manifests: everyKindOnMsk,
    options: { kafka: { type: 'msk', clusterArn: MSK_CLUSTER_ARN } },
  },
  'self-managed-scram': {
    manifests: [paymentsTable],
    options: {
      kafka: {
        type: 'self-managed',
        bootstrapServers: ['kafka-1.internal:9096', 'kafka-2.internal:9096'],
        secretArn: SCRAM_SECRET_ARN,
      },
      vpc: VPC,
      environment: {
        KAFKA_BROKERS: 'kafka-1.internal:9096,kafka-2.internal:9096',
        KAFKA_PASSWORD: 'fixture-password',
      },
    },
  },
  'self-managed-mtls': {
    manifests: [paymentsTableMtls],
    options: {
      kafka: {
        type: 'self-managed',
        bootstrapServers: ['kafka-1.internal:9094'],
        clientCertificateSecretArn: CLIENT_CERTIFICATE_SECRET_ARN,
        rootCaSecretArn: ROOT_CA_SECRET_ARN,
      },
      environment: { KAFKA_BROKERS: 'kafka-1.internal:9094' },
    },
  },
};

/** The smallest valid zip (an empty archive: its end-of-central-directory record). */
const EMPTY_ZIP = Buffer.concat([Buffer.from('PK\x05\x06'), Buffer.alloc(18)]);

const made: string[] = [];

afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temp dir removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Lays `manifests` out as `connect-fn package --out` does, in `dir` (a fresh temp dir by default). */
export function writePackageDir(
  manifests: readonly ConnectorManifest[],
  dir = tempDir('connect-fn-package-'),
): string {
  for (const m of manifests) {
    const connectorDir = join(dir, m.connector);
    mkdirSync(connectorDir, { recursive: true });
    writeFileSync(join(connectorDir, m.artifact.file), EMPTY_ZIP);
    const artifact = {
      ...m.artifact,
      sha256: createHash('sha256').update(EMPTY_ZIP).digest('hex'),
      bytes: EMPTY_ZIP.length,
    };
    writeFileSync(join(connectorDir, 'manifest.json'), `${JSON.stringify({ ...m, artifact }, null, 2)}\n`);
  }
  return dir;
}
