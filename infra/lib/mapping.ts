/**
 * The Kafka event source mapping of a triggered sink (`trigger=kafka`): one per connector, on MSK or on
 * self-managed Kafka, with the SASL or client certificate secret, the root CA secret and VPC access AWS needs. Pure TypeScript, shared by both IaC paths.
 * @module
 */
import type { ConnectorManifest } from '../../src/deploy/manifest.ts';
import { parseMskClusterArn } from './arns.ts';
import { DeployConfigError } from './errors.ts';
import type { MappingAccess } from './iam.ts';
import type { DeploymentOptions, KafkaTarget, OptionHints, VpcPlacement } from './options.ts';

export interface MappingPlan {
  readonly topic: string;
  readonly batchSize: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  readonly consumerGroupId: string;
  /** MSK: the cluster ARN; self-managed: the bootstrap servers. */
  readonly mskClusterArn: string | null;
  readonly bootstrapServers: readonly string[] | null;
  readonly sourceAccess: readonly { readonly type: string; readonly uri: string }[];
}

/** What the mapping needs of the role; checks the deployment can give a mapping what it needs. */
export function mappingAccess(
  manifest: ConnectorManifest,
  options: DeploymentOptions,
  hints: OptionHints,
): MappingAccess {
  const kafka = options.kafka;
  if (kafka === undefined) {
    throw new DeployConfigError(
      `connector ${manifest.connector} is triggered by Kafka (trigger=kafka): give its cluster with ${hints.option('mskClusterArn', 'arn:aws:kafka:...')} (Amazon MSK) or ${hints.option('bootstrapServers', 'host:port,...')} (self-managed Kafka)`,
    );
  }
  const msk = kafka.type === 'msk' ? parseMskClusterArn(kafka.clusterArn, 'mskClusterArn') : null;
  const secret = mappingSecret(manifest, kafka, hints);
  const secrets = mappingSecrets(manifest, kafka, hints);
  if (kafka.secretKmsKeyArn !== undefined && kafka.secretArn === undefined) {
    throw new DeployConfigError('kafkaSecretKmsKeyArn is the key of kafkaSecretArn, which is not given');
  }
  if (msk !== null && secret !== null && kafka.secretKmsKeyArn === undefined) {
    throw new DeployConfigError(
      `connector ${manifest.connector}: an MSK SCRAM secret is encrypted with a customer managed KMS key, which the mapping decrypts with the function role: give it with ${hints.option('kafkaSecretKmsKeyArn', 'arn:aws:kms:...')}`,
    );
  }
  return {
    msk,
    secretArns: secrets.map((s) => s.uri),
    secretKmsKeyArn: secret === null ? null : (kafka.secretKmsKeyArn ?? null),
    networkInterfaces: msk !== null || options.vpc !== undefined,
  };
}

const SASL_ACCESS: Readonly<Record<string, string>> = {
  'SCRAM-SHA-512': 'SASL_SCRAM_512_AUTH',
  'SCRAM-SHA-256': 'SASL_SCRAM_256_AUTH',
  PLAIN: 'BASIC_AUTH',
};

/**
 * The mapping's SASL secret: for `sasl.mechanism` SCRAM-SHA-512/256 or PLAIN (MSK: SCRAM-SHA-512 only);
 * none with MSK IAM (the mapping signs with the function role) or without SASL.
 */
function mappingSecret(
  manifest: ConnectorManifest,
  kafka: KafkaTarget,
  hints: OptionHints,
): { type: string; uri: string } | null {
  const mechanism = manifest.kafka.saslMechanism?.toUpperCase() ?? null;
  if (manifest.kafka.iam || mechanism === null) return null;
  const type = SASL_ACCESS[mechanism];
  if (type === undefined || (kafka.type === 'msk' && type !== 'SASL_SCRAM_512_AUTH')) {
    throw new DeployConfigError(
      `connector ${manifest.connector}: an event source mapping cannot log in with sasl.mechanism=${mechanism} on ${kafka.type === 'msk' ? 'Amazon MSK (IAM or SCRAM-SHA-512)' : 'self-managed Kafka (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)'}`,
    );
  }
  if (kafka.secretArn === undefined) {
    throw new DeployConfigError(
      `connector ${manifest.connector} authenticates with SASL ${mechanism}: its event source mapping needs the Secrets Manager secret holding the username and password: give it with ${hints.option('kafkaSecretArn', 'arn:aws:secretsmanager:...')}`,
    );
  }
  return { type, uri: kafka.secretArn };
}

/**
 * The secrets of the mapping: SASL, or a client certificate (`CLIENT_CERTIFICATE_TLS_AUTH`, MSK and
 * self-managed: a mapping authenticates with one of them), and for self-managed Kafka whose brokers a private
 * CA signs, that root CA (`SERVER_ROOT_CA_CERTIFICATE`; MSK brokers' certificates are publicly trusted).
 */
function mappingSecrets(
  manifest: ConnectorManifest,
  kafka: KafkaTarget,
  hints: OptionHints,
): { type: string; uri: string }[] {
  const secrets = [];
  const sasl = mappingSecret(manifest, kafka, hints);
  if (sasl !== null) secrets.push(sasl);
  if (manifest.kafka.clientCertificate === true) {
    if (manifest.kafka.saslMechanism !== null) {
      throw new DeployConfigError(
        `connector ${manifest.connector}: an event source mapping authenticates with SASL (sasl.mechanism=${manifest.kafka.saslMechanism}) or a client certificate (ssl.keystore.*), not both: drop one of them`,
      );
    }
    secrets.push({
      type: 'CLIENT_CERTIFICATE_TLS_AUTH',
      uri: required(
        manifest,
        kafka.clientCertificateSecretArn,
        hints,
        'kafkaClientCertificateSecretArn',
        'authenticates with a client certificate (ssl.keystore.*)',
        'the client certificate chain and private key (PEM)',
      ),
    });
  }
  if (manifest.kafka.privateCa === true && kafka.type === 'self-managed') {
    secrets.push({
      type: 'SERVER_ROOT_CA_CERTIFICATE',
      uri: required(
        manifest,
        kafka.rootCaSecretArn,
        hints,
        'kafkaRootCaSecretArn',
        'trusts the brokers through ssl.truststore.* (a private CA)',
        'the root CA certificate (PEM)',
      ),
    });
  }
  return secrets;
}

function required(
  manifest: ConnectorManifest,
  arn: string | undefined,
  hints: OptionHints,
  name: 'kafkaClientCertificateSecretArn' | 'kafkaRootCaSecretArn',
  why: string,
  holding: string,
): string {
  if (arn !== undefined) return arn;
  throw new DeployConfigError(
    `connector ${manifest.connector} ${why}: its event source mapping needs the Secrets Manager secret holding ${holding}: give it with ${hints.option(name, 'arn:aws:secretsmanager:...')}`,
  );
}

export function mappingsOf(
  manifest: ConnectorManifest,
  options: DeploymentOptions,
  hints: OptionHints,
): MappingPlan[] {
  const source = manifest.eventSource;
  const kafka = options.kafka!;
  if (source === null)
    throw new DeployConfigError(`connector ${manifest.connector}: trigger=kafka without an eventSource`);
  // An event source mapping takes exactly one topic (CreateEventSourceMapping: Topics, "Fixed number of 1
  // item"), and its consumer group id must be unique among all Kafka event sources, so a second mapping
  // could not share `connect-<name>`: one connector, one topic, one mapping.
  if (manifest.topicsRegex !== null || source.topics.length !== 1) {
    throw new DeployConfigError(
      `connector ${manifest.connector}: a Kafka event source mapping reads exactly one topic, named (topics=${source.topics.join(',')}${manifest.topicsRegex === null ? '' : ` topics.regex=${manifest.topicsRegex}`}); use one connector per topic, or trigger=schedule`,
    );
  }
  return [
    {
      topic: source.topics[0]!,
      batchSize: source.batchSize,
      startingPosition: source.startingPosition,
      consumerGroupId: source.consumerGroupId,
      mskClusterArn: kafka.type === 'msk' ? kafka.clusterArn : null,
      bootstrapServers: kafka.type === 'self-managed' ? kafka.bootstrapServers : null,
      sourceAccess: sourceAccessOf(manifest, kafka, options.vpc, hints),
    },
  ];
}

/** `SourceAccessConfigurations`: the secrets, and for self-managed Kafka in a VPC its subnets and groups. */
function sourceAccessOf(
  manifest: ConnectorManifest,
  kafka: KafkaTarget,
  vpc: VpcPlacement | undefined,
  hints: OptionHints,
): { type: string; uri: string }[] {
  const access = mappingSecrets(manifest, kafka, hints);
  if (kafka.type === 'self-managed' && vpc !== undefined) {
    for (const subnet of vpc.subnetIds) access.push({ type: 'VPC_SUBNET', uri: `subnet:${subnet}` });
    for (const group of vpc.securityGroupIds)
      access.push({ type: 'VPC_SECURITY_GROUP', uri: `security_group:${group}` });
  }
  return access;
}
