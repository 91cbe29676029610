/**
 * The CDK app's deployment options from its context (`-c key=value` or cdk.json): `prefix`,
 * `mskClusterArn` | `bootstrapServers` (comma-separated), `kafkaSecretArn`, `kafkaSecretKmsKeyArn`, `kafkaClientCertificateSecretArn`, `kafkaRootCaSecretArn`, `subnetIds` + `securityGroupIds`
 * (comma-separated), `environment` (a JSON object of strings), `logRetentionDays`.
 * @module
 */
import type { DeploymentOptions, KafkaTarget } from './plan.ts';

/** The deployment options given as context; each key only when set. */
export function deploymentOptions(get: (key: string) => string | undefined): DeploymentOptions {
  const list = (key: string) =>
    get(key)
      ?.split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  const prefix = get('prefix');
  const retention = get('logRetentionDays');
  const environment = get('environment');
  const subnetIds = list('subnetIds');
  const securityGroupIds = list('securityGroupIds');
  if ((subnetIds === undefined) !== (securityGroupIds === undefined)) {
    throw new Error('context: give both subnetIds and securityGroupIds for VPC placement, or neither');
  }
  const kafka = kafkaTarget(get, list);
  return {
    ...(prefix === undefined ? {} : { prefix }),
    ...(kafka === undefined ? {} : { kafka }),
    ...(subnetIds === undefined || securityGroupIds === undefined
      ? {}
      : { vpc: { subnetIds, securityGroupIds } }),
    ...(environment === undefined ? {} : { environment: parseEnvironment(environment) }),
    ...(retention === undefined ? {} : { logRetentionDays: Number(retention) }),
  };
}

function kafkaTarget(
  get: (key: string) => string | undefined,
  list: (key: string) => string[] | undefined,
): KafkaTarget | undefined {
  const clusterArn = get('mskClusterArn');
  const bootstrapServers = list('bootstrapServers');
  const secretArn = get('kafkaSecretArn');
  const secretKmsKeyArn = get('kafkaSecretKmsKeyArn');
  const clientCertificateSecretArn = get('kafkaClientCertificateSecretArn');
  const rootCaSecretArn = get('kafkaRootCaSecretArn');
  const secret = {
    ...(secretArn === undefined ? {} : { secretArn }),
    ...(secretKmsKeyArn === undefined ? {} : { secretKmsKeyArn }),
    ...(clientCertificateSecretArn === undefined ? {} : { clientCertificateSecretArn }),
    ...(rootCaSecretArn === undefined ? {} : { rootCaSecretArn }),
  };
  if (clusterArn !== undefined && bootstrapServers !== undefined) {
    throw new Error(
      'context: give mskClusterArn (Amazon MSK) or bootstrapServers (self-managed Kafka), not both',
    );
  }
  if (clusterArn !== undefined) return { type: 'msk', clusterArn, ...secret };
  if (bootstrapServers !== undefined) return { type: 'self-managed', bootstrapServers, ...secret };
  if (Object.keys(secret).length > 0) {
    throw new Error(
      'context: kafkaSecretArn, kafkaSecretKmsKeyArn, kafkaClientCertificateSecretArn and kafkaRootCaSecretArn need mskClusterArn or bootstrapServers',
    );
  }
  return undefined;
}

function parseEnvironment(text: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(
      'context environment: expected a JSON object of strings, e.g. {"KAFKA_BROKERS":"host:9092"}',
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('context environment: expected a JSON object of strings');
  }
  for (const [name, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new Error(`context environment: ${name} must be a string`);
  }
  return value as Record<string, string>;
}
