import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PackagedConnector } from '../../../infra/lib/manifests.ts';
import { loadPackageDir } from '../../../infra/lib/manifests.ts';
import { planDeployment } from '../../../infra/lib/plan.ts';
import { offsetsTableSchema } from '../../../src/deploy/offsets-table.ts';
import {
  BUNDLES,
  CLIENT_CERTIFICATE_SECRET_ARN,
  MSK_CLUSTER_ARN,
  manifest,
  ROOT_CA_SECRET_ARN,
  SCRAM_SECRET_ARN,
  writePackageDir,
} from '../../support/deploy-manifests.ts';

const packaged = (name: string): PackagedConnector[] =>
  loadPackageDir(writePackageDir(BUNDLES[name]!.manifests));
const one = (m: ReturnType<typeof manifest>): PackagedConnector[] => [
  { manifest: m, artifactPath: '/x.zip' },
];
const triggered = (overrides: Parameters<typeof manifest>[1] = {}) =>
  manifest('sink', {
    kind: 'sink',
    trigger: 'kafka',
    schedule: null,
    topics: ['t'],
    eventSource: {
      topics: ['t'],
      consumerGroupId: 'connect-sink',
      batchSize: 100,
      startingPosition: 'LATEST',
    },
    function: { requiredEnvironment: [] },
    ...overrides,
  });

describe('planDeployment', () => {
  it('gives each task of a scheduled connector its own schedule and input', () => {
    const plan = planDeployment(packaged('quickstart'), BUNDLES.quickstart!.options);
    const orders = plan.functions.find((f) => f.connector === 'orders')!;
    expect(orders.schedules.map((s) => [s.name, s.input])).toEqual([
      ['orders-task-0', '{"task":0}'],
      ['orders-task-1', '{"task":1}'],
    ]);
    expect(orders.asyncMaximumRetryAttempts).toBe(0);
  });

  it('creates one table per distinct offsets table, naming the connectors that share it: the key schema local runs create, recoverable, protected', () => {
    const plan = planDeployment(packaged('file-dynamodb'), BUNDLES['file-dynamodb']!.options);
    expect(plan.tables).toEqual([
      {
        tableName: 'connect-fn-offsets',
        connectors: ['lines-a', 'lines-b'],
        properties: {
          ...offsetsTableSchema('connect-fn-offsets'),
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        },
      },
    ]);
  });

  it('refuses a missing required variable, naming the connector and the variable', () => {
    expect(() =>
      planDeployment(packaged('quickstart'), { environment: { KAFKA_BROKERS: 'b:9092' } }),
    ).toThrow(/connector orders-changes reads \$\{env:DYNAMODB_ENDPOINT\}/);
  });

  it('refuses a variable no connector reads', () => {
    const environment = { ...BUNDLES.quickstart!.options.environment, KAFKA_BROKER: 'typo' };
    expect(() => planDeployment(packaged('quickstart'), { environment })).toThrow(
      /environment: KAFKA_BROKER is read by no connector/,
    );
  });

  it('refuses a triggered sink without a cluster, or with more than one topic', () => {
    expect(() => planDeployment(one(triggered()), {})).toThrow(/connector sink is triggered by Kafka/);
    const two = triggered({
      topics: ['a', 'b'],
      eventSource: {
        topics: ['a', 'b'],
        consumerGroupId: 'connect-sink',
        batchSize: 100,
        startingPosition: 'LATEST',
      },
    });
    expect(() => planDeployment(one(two), { kafka: { type: 'msk', clusterArn: MSK_CLUSTER_ARN } })).toThrow(
      /reads exactly one topic/,
    );
  });

  it('needs the SCRAM secret for a SASL mapping, and MSK for MSK IAM permissions', () => {
    const scram = triggered({
      kafka: { securityProtocol: 'SASL_SSL', saslMechanism: 'SCRAM-SHA-256', iam: false },
    });
    const selfManaged = { type: 'self-managed' as const, bootstrapServers: ['k:9096'] };
    expect(() => planDeployment(one(scram), { kafka: selfManaged })).toThrow(
      /needs the Secrets Manager secret/,
    );
    const plan = planDeployment(one(scram), { kafka: { ...selfManaged, secretArn: SCRAM_SECRET_ARN } });
    expect(plan.functions[0]!.mappings[0]!.sourceAccess).toEqual([
      { type: 'SASL_SCRAM_256_AUTH', uri: SCRAM_SECRET_ARN },
    ]);
    expect(() =>
      planDeployment(one(scram), {
        kafka: { type: 'msk', clusterArn: MSK_CLUSTER_ARN, secretArn: SCRAM_SECRET_ARN },
      }),
    ).toThrow(/cannot log in with sasl.mechanism=SCRAM-SHA-256 on Amazon MSK \(IAM or SCRAM-SHA-512\)/);
    const gssapi = triggered({
      kafka: { securityProtocol: 'SASL_SSL', saslMechanism: 'GSSAPI', iam: false },
    });
    expect(() => planDeployment(one(gssapi), { kafka: selfManaged })).toThrow(
      /sasl.mechanism=GSSAPI on self-managed Kafka \(PLAIN, SCRAM-SHA-256, SCRAM-SHA-512\)/,
    );
    const mskScram = triggered({
      kafka: { securityProtocol: 'SASL_SSL', saslMechanism: 'SCRAM-SHA-512', iam: false },
    });
    const onMsk = { type: 'msk' as const, clusterArn: MSK_CLUSTER_ARN, secretArn: SCRAM_SECRET_ARN };
    expect(() => planDeployment(one(mskScram), { kafka: onMsk })).toThrow(
      /give it with -c kafkaSecretKmsKeyArn=/,
    );
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const withKey = planDeployment(one(mskScram), { kafka: { ...onMsk, secretKmsKeyArn: key } })
      .functions[0]!;
    expect(withKey.statements).toContainEqual({
      sid: 'MappingSecretKey',
      actions: ['kms:Decrypt'],
      resources: [key],
    });
    expect(withKey.mappings[0]!.sourceAccess).toEqual([
      { type: 'SASL_SCRAM_512_AUTH', uri: SCRAM_SECRET_ARN },
    ]);
    const iam = manifest('src', {
      function: { requiredEnvironment: [] },
      permissions: [
        {
          service: 'kafka-cluster',
          actions: ['kafka-cluster:Connect'],
          resource: 'cluster',
          names: [],
          reason: 'iam',
        },
      ],
    });
    expect(() => planDeployment(one(iam), {})).toThrow(/connector src authenticates to Kafka with MSK IAM/);
  });

  it('refuses a wildcard action in a manifest, a bad cluster ARN and a retention CloudWatch does not offer', () => {
    const wild = manifest('src', {
      function: { requiredEnvironment: [] },
      permissions: [{ service: 'dynamodb', actions: ['dynamodb:*'], tables: ['t'], reason: 'offsets' }],
    });
    expect(() => planDeployment(one(wild), {})).toThrow(
      /"dynamodb:\*" \(offsets\) is not a named dynamodb:\* action/,
    );
    expect(() =>
      planDeployment(one(triggered()), { kafka: { type: 'msk', clusterArn: 'arn:aws:kafka:x' } }),
    ).toThrow(/mskClusterArn: expected an MSK cluster ARN/);
    expect(() => planDeployment([], { logRetentionDays: 31 })).toThrow(/logRetentionDays: 31/);
    const big = manifest('big', { function: { requiredEnvironment: [], timeoutSeconds: 901 } });
    expect(() => planDeployment(one(big), {})).toThrow(/connector big: function.timeoutSeconds 901/);
  });

  it('gives a TLS mapping its client certificate and root CA secrets, and the role only those', () => {
    const mtls = triggered({
      kafka: {
        securityProtocol: 'SSL',
        saslMechanism: null,
        iam: false,
        clientCertificate: true,
        privateCa: true,
      },
    });
    const selfManaged = { type: 'self-managed' as const, bootstrapServers: ['k:9094'] };
    expect(() => planDeployment(one(mtls), { kafka: selfManaged })).toThrow(
      /connector sink authenticates with a client certificate \(ssl.keystore.\*\): .*give it with -c kafkaClientCertificateSecretArn=/,
    );
    const withCert = { ...selfManaged, clientCertificateSecretArn: CLIENT_CERTIFICATE_SECRET_ARN };
    expect(() => planDeployment(one(mtls), { kafka: withCert })).toThrow(
      /trusts the brokers through ssl.truststore.\* \(a private CA\): .*give it with -c kafkaRootCaSecretArn=/,
    );
    const sink = planDeployment(one(mtls), { kafka: { ...withCert, rootCaSecretArn: ROOT_CA_SECRET_ARN } })
      .functions[0]!;
    expect(sink.mappings[0]!.sourceAccess).toEqual([
      { type: 'CLIENT_CERTIFICATE_TLS_AUTH', uri: CLIENT_CERTIFICATE_SECRET_ARN },
      { type: 'SERVER_ROOT_CA_CERTIFICATE', uri: ROOT_CA_SECRET_ARN },
    ]);
    expect(sink.statements.filter((s) => s.actions.some((a) => a.startsWith('secretsmanager:')))).toEqual([
      {
        sid: 'MappingSecret',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [CLIENT_CERTIFICATE_SECRET_ARN, ROOT_CA_SECRET_ARN],
      },
    ]);
    // MSK: the client certificate, never a root CA (its brokers' certificates are publicly trusted).
    const onMsk = { type: 'msk' as const, clusterArn: MSK_CLUSTER_ARN };
    const mskSink = planDeployment(one(mtls), {
      kafka: { ...onMsk, clientCertificateSecretArn: CLIENT_CERTIFICATE_SECRET_ARN },
    }).functions[0]!;
    expect(mskSink.mappings[0]!.sourceAccess).toEqual([
      { type: 'CLIENT_CERTIFICATE_TLS_AUTH', uri: CLIENT_CERTIFICATE_SECRET_ARN },
    ]);
    expect(() =>
      planDeployment(one(mtls), {
        kafka: {
          ...onMsk,
          clientCertificateSecretArn: CLIENT_CERTIFICATE_SECRET_ARN,
          rootCaSecretArn: ROOT_CA_SECRET_ARN,
        },
      }),
    ).toThrow(/kafkaRootCaSecretArn: no triggered sink on self-managed Kafka trusts a private CA/);
    const plainTls = triggered({ kafka: { securityProtocol: 'SSL', saslMechanism: null, iam: false } });
    expect(() => planDeployment(one(plainTls), { kafka: withCert })).toThrow(
      /kafkaClientCertificateSecretArn: no triggered sink authenticates with a client certificate/,
    );
    const scramAndCert = triggered({
      kafka: {
        securityProtocol: 'SASL_SSL',
        saslMechanism: 'SCRAM-SHA-512',
        iam: false,
        clientCertificate: true,
      },
    });
    expect(() =>
      planDeployment(one(scramAndCert), { kafka: { ...withCert, secretArn: SCRAM_SECRET_ARN } }),
    ).toThrow(
      /authenticates with SASL \(sasl.mechanism=SCRAM-SHA-512\) or a client certificate \(ssl.keystore.\*\), not both/,
    );
  });

  it('refuses a cluster or a secret no connector needs, naming the option', () => {
    const scheduled = one(manifest('src', { function: { requiredEnvironment: [] } }));
    expect(() => planDeployment(scheduled, { kafka: { type: 'msk', clusterArn: MSK_CLUSTER_ARN } })).toThrow(
      'mskClusterArn: no connector needs it (no triggered sink, no MSK IAM); leave it out',
    );
    expect(() =>
      planDeployment(scheduled, { kafka: { type: 'self-managed', bootstrapServers: ['k:9092'] } }),
    ).toThrow('bootstrapServers: no connector needs it (no triggered sink); leave it out');
    const iamOnly = {
      kafka: { type: 'msk' as const, clusterArn: MSK_CLUSTER_ARN, secretArn: SCRAM_SECRET_ARN },
    };
    expect(() => planDeployment(one(triggered()), iamOnly)).toThrow(
      /kafkaSecretArn: no triggered sink logs in with SASL/,
    );
  });

  it('refuses a permission without actions', () => {
    const none = manifest('src', {
      function: { requiredEnvironment: [] },
      permissions: [{ service: 'dynamodb', actions: [], tables: ['t'], reason: 'offsets' }],
    });
    expect(() => planDeployment(one(none), {})).toThrow(
      /connector src: permission \(offsets\) has no action/,
    );
  });

  it('refuses a function name Lambda or the schedule names cannot take', () => {
    const m = manifest('orders', { function: { requiredEnvironment: [] } });
    expect(() => planDeployment(one(m), { prefix: 'a'.repeat(50) })).toThrow(/1-55 characters/);
    expect(() => planDeployment(one(m), { prefix: 'prod.' })).toThrow(/function name "prod.orders"/);
  });
});

describe('loadPackageDir', () => {
  it('refuses a manifest of another version and a missing zip, naming the file', () => {
    const dir = writePackageDir([manifest('a', {})]);
    const file = join(dir, 'a', 'manifest.json');
    const written = JSON.parse(readFileSync(file, 'utf8')) as ReturnType<typeof manifest>;
    writeFileSync(file, JSON.stringify({ manifestVersion: 2 }));
    expect(() => loadPackageDir(dir)).toThrow(`${file}: manifestVersion 2, expected 1`);
    writeFileSync(file, JSON.stringify({ ...written, artifact: { ...written.artifact, file: 'b.zip' } }));
    expect(() => loadPackageDir(dir)).toThrow(`${join(dir, 'a', 'b.zip')}: missing, named by ${file}`);
  });
});
