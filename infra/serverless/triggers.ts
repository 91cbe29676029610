/**
 * What invokes a connector's function: one EventBridge Scheduler schedule per task for scheduled
 * connectors (input `{"task":N}`, no flexible window, no retry: the next tick is the retry, and two
 * invocations of one task must not overlap on purpose), or a Kafka event source mapping for a triggered
 * sink. Raw CloudFormation: osls' `schedule` event makes EventBridge rules (or, with `method: scheduler`,
 * shares the function's role and cannot turn retries off), and its `msk`/`kafka` events cannot set
 * `FunctionResponseTypes` nor take a role other than osls' shared one.
 * @module
 */
import type { ConnectorManifest, EventSourceManifest } from '../../src/deploy/manifest.ts';
import { type Cfn, type CfnResource, type CfnResources, connectorIds, getAtt, ref } from './cfn.ts';
import { DeployConfigError } from './errors.ts';
import { schedulerRole } from './iam.ts';
import type { DeploySettings, KafkaCluster } from './settings.ts';

/** The schedules of a scheduled connector and the role they invoke it with. */
export function scheduleResources(manifest: ConnectorManifest, functionName: string): CfnResources {
  const ids = connectorIds(manifest.connector);
  if (manifest.schedule === null) {
    throw new DeployConfigError(
      `connector ${manifest.connector}: trigger=schedule but the manifest has no schedule`,
    );
  }
  const resources: CfnResources = { [ids.schedulerRole]: schedulerRole(manifest.connector, ids.function) };
  for (let task = 0; task < manifest.tasks; task++) {
    resources[ids.schedule(task)] = {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        Name: `${functionName}-task-${task}`,
        Description: `connect-fn ${manifest.connector}, task ${task}`,
        ScheduleExpression: manifest.schedule,
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Target: {
          Arn: getAtt(ids.function, 'Arn'),
          RoleArn: getAtt(ids.schedulerRole, 'Arn'),
          Input: JSON.stringify({ task }),
          RetryPolicy: { MaximumRetryAttempts: 0 },
        },
      },
    };
  }
  return resources;
}

/** SASL mechanisms (`sasl.mechanism`) as event source mappings name their secrets. */
const SASL_ACCESS_TYPE: Readonly<Record<string, string>> = {
  PLAIN: 'BASIC_AUTH',
  'SCRAM-SHA-256': 'SASL_SCRAM_256_AUTH',
  'SCRAM-SHA-512': 'SASL_SCRAM_512_AUTH',
};

/** The secret a triggered sink's mapping logs in with, or null (MSK IAM, TLS only, no authentication). */
export function mappingSecret(manifest: ConnectorManifest, settings: DeploySettings): string | null {
  const mechanism = manifest.kafka.saslMechanism;
  if (manifest.trigger !== 'kafka' || manifest.kafka.iam || mechanism === null) return null;
  if (
    SASL_ACCESS_TYPE[mechanism] === undefined ||
    (settings.cluster?.kind === 'msk' && mechanism !== 'SCRAM-SHA-512')
  ) {
    throw new DeployConfigError(
      `connector ${manifest.connector}: an event source mapping cannot log in with sasl.mechanism=${mechanism} on ${settings.cluster?.kind === 'msk' ? 'Amazon MSK (SCRAM-SHA-512 or IAM)' : 'self-managed Kafka (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)'}`,
    );
  }
  if (settings.kafkaSecretArn === null) {
    throw new DeployConfigError(
      `connector ${manifest.connector}: its event source mapping logs in with ${mechanism}; give the Secrets Manager secret holding username and password with --param="kafkaSecretArn=arn:aws:secretsmanager:..."`,
    );
  }
  if (settings.cluster?.kind === 'msk' && settings.kafkaSecretKmsKeyArn === null) {
    throw new DeployConfigError(
      `connector ${manifest.connector}: an MSK SCRAM secret is encrypted with a customer managed KMS key, which the mapping decrypts with the function's role: give it with --param="kafkaSecretKmsKeyArn=arn:aws:kms:..."`,
    );
  }
  return settings.kafkaSecretArn;
}

/** The event source mapping of a triggered sink. */
export function eventSourceMapping(manifest: ConnectorManifest, settings: DeploySettings): CfnResources {
  const ids = connectorIds(manifest.connector);
  const source = triggeredSource(manifest);
  const cluster = requireCluster(manifest.connector, settings.cluster);
  const secret = mappingSecret(manifest, settings);
  const properties: Record<string, Cfn> = {
    FunctionName: ref(ids.function),
    Topics: [...source.topics],
    BatchSize: source.batchSize,
    StartingPosition: source.startingPosition,
    FunctionResponseTypes: ['ReportBatchItemFailures'],
  };
  if (cluster.kind === 'msk') {
    properties.EventSourceArn = cluster.msk.arn;
    properties.AmazonManagedKafkaEventSourceConfig = { ConsumerGroupId: source.consumerGroupId };
    if (secret !== null)
      properties.SourceAccessConfigurations = [{ Type: 'SASL_SCRAM_512_AUTH', URI: secret }];
  } else {
    properties.SelfManagedEventSource = {
      Endpoints: { KafkaBootstrapServers: [...cluster.bootstrapServers] },
    };
    properties.SelfManagedKafkaEventSourceConfig = { ConsumerGroupId: source.consumerGroupId };
    const access = selfManagedAccess(manifest, secret, settings);
    if (access.length > 0) properties.SourceAccessConfigurations = access;
  }
  const mapping: CfnResource = { Type: 'AWS::Lambda::EventSourceMapping', Properties: properties };
  return { [ids.eventSourceMapping]: mapping };
}

/**
 * A mapping reads exactly one topic (the API's limit), and its consumer group id must be unique among
 * mappings: one `connect-<name>` group can therefore serve one topic only.
 */
function triggeredSource(manifest: ConnectorManifest): EventSourceManifest {
  const source = manifest.eventSource;
  if (source === null) {
    throw new DeployConfigError(
      `connector ${manifest.connector}: trigger=kafka but the manifest has no eventSource`,
    );
  }
  if (source.topics.length !== 1 || manifest.topicsRegex !== null) {
    throw new DeployConfigError(
      `connector ${manifest.connector}: a Kafka event source mapping reads exactly one topic with its own consumer group (${source.consumerGroupId}); the connector reads ${manifest.topicsRegex === null ? `topics ${source.topics.join(', ')}` : `topics.regex ${manifest.topicsRegex}`}. Use one triggered connector per topic, or trigger=schedule`,
    );
  }
  return source;
}

function requireCluster(connector: string, cluster: KafkaCluster | null): KafkaCluster {
  if (cluster !== null) return cluster;
  throw new DeployConfigError(
    `connector ${connector} is a triggered sink: give its cluster with --param="mskClusterArn=arn:aws:kafka:..." (Amazon MSK) or --param="bootstrapServers=host:port,..." (self-managed Kafka)`,
  );
}

function selfManagedAccess(
  manifest: ConnectorManifest,
  secret: string | null,
  settings: DeploySettings,
): Cfn[] {
  const access: Cfn[] = [];
  const mechanism = manifest.kafka.saslMechanism;
  if (secret !== null && mechanism !== null)
    access.push({ Type: SASL_ACCESS_TYPE[mechanism] ?? '', URI: secret });
  for (const subnet of settings.vpc?.subnetIds ?? [])
    access.push({ Type: 'VPC_SUBNET', URI: `subnet:${subnet}` });
  for (const group of settings.vpc?.securityGroupIds ?? []) {
    access.push({ Type: 'VPC_SECURITY_GROUP', URI: `security_group:${group}` });
  }
  return access;
}
