/**
 * The Serverless derivation's refusals: a package directory or a deployment parameter that cannot make a
 * correct template fails with a message naming the file, connector or parameter — before osls writes
 * anything — and never shows a value given for a bundle's variables.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeployConfigError } from '../../../infra/lib/errors.ts';
import { deriveFromOsls } from '../../../infra/serverless/derive.ts';
import { readPackageDir } from '../../../infra/serverless/package-dir.ts';
import { deriveService } from '../../../infra/serverless/service.ts';
import { type DeploySettings, readSettings } from '../../../infra/serverless/settings.ts';
import type { ConnectorManifest } from '../../../src/deploy/manifest.ts';
import {
  BUNDLES,
  CLIENT_CERTIFICATE_SECRET_ARN,
  MSK_CLUSTER_ARN,
  ROOT_CA_SECRET_ARN,
  SCRAM_SECRET_ARN,
  writePackageDir,
} from '../../support/deploy-manifests.ts';

/** orders-datagen, lines-source, orders-to-dynamodb (scheduled) and orders-archive (triggered), MSK IAM. */
const mskBundle = BUNDLES['msk-every-kind']!.manifests;
/** payments-table: triggered by self-managed Kafka with SCRAM-SHA-512; reads KAFKA_BROKERS, KAFKA_PASSWORD. */
const selfManagedBundle = BUNDLES['self-managed-scram']!.manifests;

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'connect-fn-derive-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const params = (values: Record<string, string>) => async (name: string) => values[name] ?? null;

const MSK: DeploySettings = {
  prefix: '',
  cluster: {
    kind: 'msk',
    msk: {
      arn: MSK_CLUSTER_ARN,
      partition: 'aws',
      region: 'eu-west-1',
      account: '123456789012',
      clusterName: 'prod-kafka',
      uuid: 'u',
    },
  },
  kafkaSecretArn: null,
  kafkaSecretKmsKeyArn: null,
  vpc: null,
  environment: {},
};

async function derive(
  manifests: readonly ConnectorManifest[],
  settings: DeploySettings,
  edit: (m: ConnectorManifest) => ConnectorManifest = (m) => m,
) {
  return deriveService(
    await readPackageDir(writePackageDir(manifests.map(edit), mkdtempSync(join(work, 'dist-')))),
    settings,
  );
}

describe('the package directory', () => {
  it('must exist and hold connectors', async () => {
    await expect(readPackageDir(join(work, 'nope'))).rejects.toThrow(
      /package directory .*nope: does not exist; run `connect-fn package <bundle> --out/,
    );
    await expect(readPackageDir(work)).rejects.toThrow(/no connector in it/);
  });

  it('refuses a manifest of another version, naming the file', async () => {
    const dir = writePackageDir(
      mskBundle.slice(0, 1).map((m) => ({
        ...m,
        manifestVersion: 2 as 1,
      })),
    );
    await expect(readPackageDir(dir)).rejects.toThrow(
      /orders-datagen\/manifest\.json: manifestVersion 2, expected 1/,
    );
  });

  it('refuses a manifest that is not the contract, naming the key', async () => {
    const dir = writePackageDir(
      mskBundle.slice(0, 1).map((m) => ({
        ...m,
        function: { ...m.function, memoryMb: 64 },
      })),
    );
    await expect(readPackageDir(dir)).rejects.toThrow(
      /manifest\.json: not a connector manifest:\n {2}function\.memoryMb: /,
    );
  });

  it('refuses a zip whose bytes are not the ones its manifest names', async () => {
    const dir = writePackageDir(mskBundle.slice(0, 1));
    writeFileSync(join(dir, 'orders-datagen', 'orders-datagen.zip'), 'rebuilt');
    await expect(readPackageDir(dir)).rejects.toThrow(
      /orders-datagen\.zip: sha256 [0-9a-f]{64}, but .* says [0-9a-f]{64}: the package is stale/,
    );
  });

  it('refuses two zips of one file name, which osls would upload to one key', async () => {
    const dir = writePackageDir(
      mskBundle.slice(0, 2).map((m) => ({
        ...m,
        artifact: { ...m.artifact, file: 'function.zip' },
      })),
    );
    await expect(readPackageDir(dir)).rejects.toThrow(
      /orders-datagen\/manifest\.json: artifact function\.zip has the file name of lines-source's/,
    );
  });

  it("refuses a manifest in another connector's directory", async () => {
    const dir = writePackageDir(mskBundle.slice(0, 1));
    const file = join(dir, 'orders-datagen', 'manifest.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), connector: 'other' }));
    await expect(readPackageDir(dir)).rejects.toThrow(/connector is "other", expected "orders-datagen"/);
  });
});

describe('the deployment parameters', () => {
  it('name the variable and connector a bundle reads and the deployment did not give, and never a given value', async () => {
    const settings: DeploySettings = {
      ...MSK,
      cluster: { kind: 'self-managed', bootstrapServers: ['b:9096'] },
      kafkaSecretArn: SCRAM_SECRET_ARN,
      environment: { KAFKA_BROKERS: 'user-value-7' },
    };
    const err = await derive(selfManagedBundle, settings).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeployConfigError);
    expect((err as Error).message).toBe(
      'connector payments-table reads ${env:KAFKA_PASSWORD}: give its value with --param="KAFKA_PASSWORD=..." (or under params: in serverless.yml)',
    );
  });

  it('need a cluster for a triggered sink and an MSK cluster for MSK IAM', async () => {
    await expect(derive(mskBundle.slice(0, 1), { ...MSK, cluster: null })).rejects.toThrow(
      /connector orders-datagen authenticates to Kafka with MSK IAM \(.*\): give the MSK cluster with --param="mskClusterArn=/,
    );
    const noIam = mskBundle.slice(3).map((s) => ({
      ...s,
      kafka: { securityProtocol: 'SSL', saslMechanism: null, iam: false },
      permissions: [],
    }));
    await expect(derive(noIam, { ...MSK, cluster: null })).rejects.toThrow(
      /connector orders-archive is triggered by Kafka \(trigger=kafka\): give its cluster with --param="mskClusterArn=.*or --param="bootstrapServers=/,
    );
  });

  it('need the SASL secret a mapping logs in with', async () => {
    const settings: DeploySettings = {
      ...MSK,
      cluster: { kind: 'self-managed', bootstrapServers: ['b:9096'] },
      environment: { KAFKA_BROKERS: 'u', KAFKA_PASSWORD: 'p' },
    };
    await expect(derive(selfManagedBundle, settings)).rejects.toThrow(
      /connector payments-table authenticates with SASL SCRAM-SHA-512: .*give it with --param="kafkaSecretArn=/,
    );
  });

  it("need the KMS key of an MSK SCRAM secret, which the mapping decrypts with the function's role", async () => {
    const settings: DeploySettings = {
      ...MSK,
      kafkaSecretArn: SCRAM_SECRET_ARN,
      environment: { KAFKA_BROKERS: 'u', KAFKA_PASSWORD: 'p' },
    };
    await expect(derive(selfManagedBundle, settings)).rejects.toThrow(
      /an MSK SCRAM secret is encrypted with a customer managed KMS key.*--param="kafkaSecretKmsKeyArn=/,
    );
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const service = await derive(selfManagedBundle, { ...settings, kafkaSecretKmsKeyArn: key });
    const role = service.resources.Resources.PaymentsDashtableExecutionRole?.Properties as {
      Policies: { PolicyDocument: { Statement: unknown[] } }[];
    };
    expect(role.Policies[0]?.PolicyDocument.Statement).toContainEqual({
      Sid: 'MappingSecretKey',
      Effect: 'Allow',
      Action: ['kms:Decrypt'],
      Resource: [key],
    });
  });

  it('give a TLS mapping its client certificate and root CA secrets, and refuse them without a cluster', async () => {
    const settings: DeploySettings = {
      ...MSK,
      cluster: { kind: 'self-managed', bootstrapServers: ['b:9094'] },
      environment: { KAFKA_BROKERS: 'b:9094' },
    };
    const mtls = BUNDLES['self-managed-mtls']!.manifests;
    await expect(derive(mtls, settings)).rejects.toThrow(
      /authenticates with a client certificate .*--param="kafkaClientCertificateSecretArn=/,
    );
    const tls = {
      kafkaClientCertificateSecretArn: CLIENT_CERTIFICATE_SECRET_ARN,
      kafkaRootCaSecretArn: ROOT_CA_SECRET_ARN,
    };
    const service = await derive(mtls, { ...settings, ...tls });
    const mapping = Object.values(service.resources.Resources).find(
      (r) => r.Type === 'AWS::Lambda::EventSourceMapping',
    );
    expect(mapping?.Properties.SourceAccessConfigurations).toEqual([
      { Type: 'CLIENT_CERTIFICATE_TLS_AUTH', URI: CLIENT_CERTIFICATE_SECRET_ARN },
      { Type: 'SERVER_ROOT_CA_CERTIFICATE', URI: ROOT_CA_SECRET_ARN },
    ]);
    await expect(derive(mtls, { ...settings, ...tls, cluster: null })).rejects.toThrow(
      /kafkaClientCertificateSecretArn and kafkaRootCaSecretArn need mskClusterArn or bootstrapServers/,
    );
    await expect(readSettings(params({ kafkaRootCaSecretArn: 'root-ca' }), [])).rejects.toThrow(
      /kafkaRootCaSecretArn: expected a Secrets Manager secret ARN/,
    );
  });

  it('prefix every name a deployment of one bundle per stage must not share', async () => {
    const service = await derive(mskBundle.slice(0, 1), { ...MSK, prefix: 'prod-' });
    expect(service.functions['orders-datagen']).toMatchObject({
      name: 'prod-orders-datagen',
      environment: { CONNECT_FN_CONNECTOR: 'orders-datagen' },
    });
    const names = Object.values(service.resources.Resources).map(
      (r) => r.Properties.Name ?? r.Properties.AlarmName,
    );
    expect(names.filter((n) => n !== undefined).sort()).toEqual([
      'prod-orders-datagen-errors',
      'prod-orders-datagen-stopreason-error',
      'prod-orders-datagen-task-0',
      'prod-orders-datagen-task-1',
      'prod-orders-datagen-throttles',
    ]);
    expect(JSON.stringify(service.resources)).toContain('log-group:/aws/lambda/prod-orders-datagen:*');
    await expect(derive(mskBundle.slice(0, 1), { ...MSK, prefix: 'p'.repeat(42) })).rejects.toThrow(
      /function name "p+orders-datagen" must be 1-55 characters/,
    );
  });

  it('are refused when no connector needs them', async () => {
    const scheduled = mskBundle.slice(0, 1).map((spec) => ({
      ...spec,
      kafka: { securityProtocol: 'SSL', saslMechanism: null, iam: false },
      permissions: [],
    }));
    await expect(derive(scheduled, MSK)).rejects.toThrow(
      'mskClusterArn: no connector needs it (no triggered sink, no MSK IAM); leave it out',
    );
    await expect(derive(mskBundle, { ...MSK, kafkaSecretArn: SCRAM_SECRET_ARN })).rejects.toThrow(
      /kafkaSecretArn: no triggered sink logs in with SASL/,
    );
  });

  it('are checked for their shape', async () => {
    await expect(
      readSettings(params({ mskClusterArn: 'arn:aws:kafka:eu-west-1:1:cluster/x' }), []),
    ).rejects.toThrow(/mskClusterArn: expected an MSK cluster ARN/);
    await expect(
      readSettings(params({ mskClusterArn: MSK_CLUSTER_ARN, bootstrapServers: 'b:9092' }), []),
    ).rejects.toThrow(/both given/);
    await expect(readSettings(params({ subnetIds: 'subnet-0a' }), [])).rejects.toThrow(
      /subnetIds and securityGroupIds: give both/,
    );
    await expect(readSettings(params({ bootstrapServers: 'b' }), [])).rejects.toThrow(
      /bootstrapServers: expected host:port/,
    );
    await expect(readSettings(params({ kafkaSecretArn: 'my-secret' }), [])).rejects.toThrow(
      /kafkaSecretArn: expected a Secrets Manager secret ARN/,
    );
  });

  it('are read through osls (param:<name>), the package directory relative to serverless.yml', async () => {
    writePackageDir(mskBundle.slice(0, 1), join(work, 'pkg'));
    const asked: string[] = [];
    const resolveVariable = async (variable: string) => {
      asked.push(variable);
      return (
        (
          { 'param:package, null': 'pkg', 'param:mskClusterArn, null': MSK_CLUSTER_ARN } as Record<
            string,
            string
          >
        )[variable] ?? null
      );
    };
    const service = await deriveFromOsls({ resolveVariable }, work);
    expect(Object.keys(service.functions)).toEqual(['orders-datagen']);
    expect(service.functions['orders-datagen']?.package.artifact).toBe(
      join(work, 'pkg', 'orders-datagen', 'orders-datagen.zip'),
    );
    expect(asked).toContain('param:package, null');
  });
});

describe('the command line', () => {
  it('refuses a --param that is neither a setting nor a variable the bundles read, naming it and not its value', async () => {
    writePackageDir(selfManagedBundle, join(work, 'pkg'));
    const resolveVariable = async (variable: string) => (variable === 'param:package, null' ? 'pkg' : null);
    const options = {
      param: ['package=pkg', 'KAFKA_PASSWORD=p', 'subnetId=subnet-0a', 'KAFKA_PASWORD=secret-typo'],
    };
    const err = await deriveFromOsls({ resolveVariable, options }, work).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      '--param subnetId, KAFKA_PASWORD: not a deployment parameter (package, prefix, mskClusterArn, bootstrapServers, kafkaSecretArn, kafkaSecretKmsKeyArn, kafkaClientCertificateSecretArn, kafkaRootCaSecretArn, subnetIds, securityGroupIds, logRetentionDays) nor a variable the bundles read (KAFKA_BROKERS, KAFKA_PASSWORD)',
    );
  });
});

describe('what AWS cannot deploy', () => {
  it('a triggered sink of several topics: a mapping reads one topic, and its group id is its own', async () => {
    const twoTopics = (m: ConnectorManifest) =>
      m.eventSource === null
        ? m
        : {
            ...m,
            topics: ['orders', 'refunds'],
            eventSource: { ...m.eventSource, topics: ['orders', 'refunds'] },
          };
    await expect(derive(mskBundle.slice(3), MSK, twoTopics)).rejects.toThrow(
      /connector orders-archive: a Kafka event source mapping reads exactly one topic, named \(topics=orders,refunds\)/,
    );
  });

  it("a mapping that cannot log in with the bundle's SASL mechanism", async () => {
    const plain = (m: ConnectorManifest) => ({ ...m, kafka: { ...m.kafka, saslMechanism: 'PLAIN' } });
    const settings: DeploySettings = {
      ...MSK,
      kafkaSecretArn: SCRAM_SECRET_ARN,
      environment: { KAFKA_BROKERS: 'u', KAFKA_PASSWORD: 'p' },
    };
    await expect(derive(selfManagedBundle, settings, plain)).rejects.toThrow(
      /connector payments-table: an event source mapping cannot log in with sasl.mechanism=PLAIN on Amazon MSK \(IAM or SCRAM-SHA-512\)/,
    );
  });

  it('a permission with a wildcard action', async () => {
    const wildcard = (m: ConnectorManifest): ConnectorManifest => ({
      ...m,
      permissions: [{ service: 'dynamodb', actions: ['dynamodb:*'], tables: ['t'], reason: 'sink target' }],
    });
    await expect(derive(mskBundle.slice(2, 3), MSK, wildcard)).rejects.toThrow(
      /connector orders-to-dynamodb: permission "dynamodb:\*" \(sink target\) is not a named dynamodb:\* action; wildcard actions are refused/,
    );
  });
});
