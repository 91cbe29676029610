/**
 * The deployment's own parameters: what a bundle cannot know about the account it is deployed into. They
 * come from osls parameters (`--param="name=value"` or `params:` in serverless.yml), so one serverless.yml
 * deploys any package directory:
 *
 * | parameter | for |
 * |---|---|
 * | `prefix` | prepended to every function name (and so to its log group, schedules and alarms): one bundle, several stages |
 * | `package` | the output of `connect-fn package` (else env `CONNECT_FN_PACKAGE_DIR`, else `dist`) |
 * | `mskClusterArn` | Amazon MSK: the cluster's ARN (event source mappings, MSK IAM permissions) |
 * | `bootstrapServers` | self-managed Kafka: `host:port,...` for the event source mappings |
 * | `kafkaSecretArn` | the Secrets Manager secret with the SASL user and password the mappings log in with |
 * | `kafkaSecretKmsKeyArn` | that secret's customer managed KMS key (MSK SCRAM secrets must have one) |
 * | `kafkaClientCertificateSecretArn` | mTLS: the secret with the client certificate chain and private key |
 * | `kafkaRootCaSecretArn` | self-managed Kafka on a private CA: the secret with the root CA certificate |
 * | `subnetIds`, `securityGroupIds` | VPC placement of the functions (and of self-managed mappings), comma-separated |
 * | `logRetentionDays` | CloudWatch Logs retention of every function's log group (default 30) |
 * | `<VARIABLE>` | the value of each variable a bundle reads with `${env:VARIABLE}` |
 *
 * A cluster or secret parameter that no connector of the package needs is refused (infra/lib/plan.ts, as
 * the CDK app's context), as the bundle refuses a key that has no effect.
 * @module
 */
import { type MskCluster, parseMskClusterArn } from '../lib/arns.ts';
import { DeployConfigError } from '../lib/errors.ts';
import type { VpcPlacement } from '../lib/options.ts';

/** Where the connectors' Kafka cluster is: one per bundle (the worker's). */
export type KafkaCluster =
  | { readonly kind: 'msk'; readonly msk: MskCluster }
  | { readonly kind: 'self-managed'; readonly bootstrapServers: readonly string[] };

export interface DeploySettings {
  /** Prepended to every function name; '' by default. */
  readonly prefix: string;
  /** Null when neither `mskClusterArn` nor `bootstrapServers` is given (no triggered sink, no MSK IAM). */
  readonly cluster: KafkaCluster | null;
  readonly kafkaSecretArn: string | null;
  readonly kafkaSecretKmsKeyArn: string | null;
  /** Absent: null. */
  readonly kafkaClientCertificateSecretArn?: string | null;
  /** Absent: null. */
  readonly kafkaRootCaSecretArn?: string | null;
  readonly vpc: VpcPlacement | null;
  /** The values given for the bundles' `${env:...}` variables, by name. */
  readonly environment: Readonly<Record<string, string>>;
  /** Null: the plan's default. */
  readonly logRetentionDays?: number | null;
}

/** Every parameter that is a setting (the others are the bundles' variables). */
export const SETTING_PARAMS = [
  'package',
  'prefix',
  'mskClusterArn',
  'bootstrapServers',
  'kafkaSecretArn',
  'kafkaSecretKmsKeyArn',
  'kafkaClientCertificateSecretArn',
  'kafkaRootCaSecretArn',
  'subnetIds',
  'securityGroupIds',
  'logRetentionDays',
] as const;

/** Reads one parameter; null when it is not set. */
export type ParamReader = (name: string) => Promise<string | null>;

const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

/** The settings from `param`; `variables` are the names the package's connectors require. */
export async function readSettings(
  param: ParamReader,
  variables: readonly string[],
): Promise<DeploySettings> {
  const [prefix, mskClusterArn, bootstrapServers, subnetIds, securityGroupIds, retention] = await Promise.all(
    [
      param('prefix'),
      param('mskClusterArn'),
      param('bootstrapServers'),
      param('subnetIds'),
      param('securityGroupIds'),
      param('logRetentionDays'),
    ],
  );
  if (retention && !/^\d+$/.test(retention)) {
    throw new DeployConfigError(
      `logRetentionDays: expected a number of days, got ${JSON.stringify(retention)}`,
    );
  }
  if (prefix && !/^[A-Za-z0-9_-]+$/.test(prefix)) {
    throw new DeployConfigError(
      `prefix: expected A-Z a-z 0-9 _ - (it starts function names), got ${JSON.stringify(prefix)}`,
    );
  }
  if (mskClusterArn && bootstrapServers) {
    throw new DeployConfigError(
      'mskClusterArn and bootstrapServers are both given: a bundle has one Kafka cluster, give one of them',
    );
  }
  const environment: Record<string, string> = {};
  for (const name of new Set(variables)) {
    const value = await param(name);
    if (value !== null) environment[name] = value;
  }
  return {
    prefix: prefix ?? '',
    cluster: cluster(mskClusterArn, bootstrapServers),
    ...(await secret(param)),
    ...(await tlsSecrets(param)),
    vpc: vpc(subnetIds, securityGroupIds),
    environment,
    logRetentionDays: retention ? Number(retention) : null,
  };
}

/** The SASL secret of the event source mappings and its KMS key. */
async function secret(
  param: ParamReader,
): Promise<Pick<DeploySettings, 'kafkaSecretArn' | 'kafkaSecretKmsKeyArn'>> {
  const [kafkaSecretArn, kafkaSecretKmsKeyArn] = await Promise.all([
    param('kafkaSecretArn'),
    param('kafkaSecretKmsKeyArn'),
  ]);
  if (kafkaSecretArn && !SECRET_ARN.test(kafkaSecretArn)) {
    throw new DeployConfigError(
      `kafkaSecretArn: expected a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>), got ${JSON.stringify(kafkaSecretArn)}`,
    );
  }
  if (kafkaSecretKmsKeyArn && !KMS_KEY_ARN.test(kafkaSecretKmsKeyArn)) {
    throw new DeployConfigError(
      `kafkaSecretKmsKeyArn: expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got ${JSON.stringify(kafkaSecretKmsKeyArn)}`,
    );
  }
  if (kafkaSecretKmsKeyArn && !kafkaSecretArn) {
    throw new DeployConfigError('kafkaSecretKmsKeyArn is the key of kafkaSecretArn, which is not given');
  }
  return { kafkaSecretArn: kafkaSecretArn || null, kafkaSecretKmsKeyArn: kafkaSecretKmsKeyArn || null };
}

/** The TLS secrets of the event source mappings: client certificate and root CA. */
async function tlsSecrets(
  param: ParamReader,
): Promise<Pick<DeploySettings, 'kafkaClientCertificateSecretArn' | 'kafkaRootCaSecretArn'>> {
  const names = ['kafkaClientCertificateSecretArn', 'kafkaRootCaSecretArn'] as const;
  const [clientCertificate, rootCa] = await Promise.all(names.map((name) => param(name)));
  for (const [name, value] of [
    [names[0], clientCertificate],
    [names[1], rootCa],
  ] as const) {
    if (value && !SECRET_ARN.test(value)) {
      throw new DeployConfigError(
        `${name}: expected a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>), got ${JSON.stringify(value)}`,
      );
    }
  }
  return { kafkaClientCertificateSecretArn: clientCertificate || null, kafkaRootCaSecretArn: rootCa || null };
}

function cluster(mskClusterArn: string | null, bootstrapServers: string | null): KafkaCluster | null {
  if (mskClusterArn) return { kind: 'msk', msk: parseMskClusterArn(mskClusterArn, 'mskClusterArn') };
  if (!bootstrapServers) return null;
  const servers = list(bootstrapServers);
  const bad = servers.find((s) => !/^[A-Za-z0-9.-]+:\d{1,5}$/.test(s));
  if (bad !== undefined) {
    throw new DeployConfigError(`bootstrapServers: expected host:port,... got ${JSON.stringify(bad)}`);
  }
  return { kind: 'self-managed', bootstrapServers: servers };
}

function vpc(subnetIds: string | null, securityGroupIds: string | null): VpcPlacement | null {
  if (!subnetIds && !securityGroupIds) return null;
  if (!subnetIds || !securityGroupIds) {
    throw new DeployConfigError(
      'subnetIds and securityGroupIds: give both (a function in a VPC needs subnets and security groups) or neither',
    );
  }
  const placement = { subnetIds: list(subnetIds), securityGroupIds: list(securityGroupIds) };
  const badSubnet = placement.subnetIds.find((s) => !/^subnet-[0-9a-f]+$/.test(s));
  const badGroup = placement.securityGroupIds.find((s) => !/^sg-[0-9a-f]+$/.test(s));
  if (badSubnet !== undefined)
    throw new DeployConfigError(`subnetIds: expected subnet-<hex>,... got ${JSON.stringify(badSubnet)}`);
  if (badGroup !== undefined)
    throw new DeployConfigError(`securityGroupIds: expected sg-<hex>,... got ${JSON.stringify(badGroup)}`);
  return placement;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
