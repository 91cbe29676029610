/**
 * What a deployment of a packaged bundle takes besides its manifests: the Kafka cluster, VPC placement, the
 * values of the bundle's environment variables, log retention and a name prefix. The CDK construct's props
 * and the app's context are these. Pure TypeScript, shared by both IaC paths.
 * @module
 */

/** The credentials of the event source mappings: SASL (SCRAM or PLAIN; not with MSK IAM) and TLS. */
interface MappingCredentials {
  /** Secrets Manager secret holding `{"username","password"}`. */
  readonly secretArn?: string;
  /**
   * The customer managed KMS key the secret is encrypted with, when it is one (MSK's SCRAM secrets must
   * be): the mapping decrypts with the function role.
   */
  readonly secretKmsKeyArn?: string;
  /** mTLS: Secrets Manager secret holding the client certificate chain and private key (PEM). */
  readonly clientCertificateSecretArn?: string;
  /** Self-managed Kafka whose brokers a private CA signs: Secrets Manager secret holding the root CA (PEM). */
  readonly rootCaSecretArn?: string;
}

/** The Kafka cluster a deployment reads and writes. */
export type KafkaTarget =
  | ({ readonly type: 'msk'; readonly clusterArn: string } & MappingCredentials)
  | ({ readonly type: 'self-managed'; readonly bootstrapServers: readonly string[] } & MappingCredentials);

export interface VpcPlacement {
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
}

export interface DeploymentOptions {
  /** Prepended to every function name (and so to schedule, log group and alarm names). */
  readonly prefix?: string;
  /** Required when a connector is triggered by Kafka or authenticates with MSK IAM. */
  readonly kafka?: KafkaTarget;
  /** Puts every function in these subnets (MSK: the cluster's VPC); self-managed mappings use them too. */
  readonly vpc?: VpcPlacement;
  /** Values of the connectors' `requiredEnvironment`; a key no connector requires is an error. */
  readonly environment?: Readonly<Record<string, string>>;
  /** CloudWatch Logs retention of every function's log group; default {@link DEFAULT_LOG_RETENTION_DAYS}. */
  readonly logRetentionDays?: number;
}

/** The options a refusal names as CDK context keys and osls parameters both call them. */
export type OptionName =
  | 'mskClusterArn'
  | 'bootstrapServers'
  | 'kafkaSecretArn'
  | 'kafkaSecretKmsKeyArn'
  | 'kafkaClientCertificateSecretArn'
  | 'kafkaRootCaSecretArn';

/** How a refusal tells the user to give an option or a bundle variable's value, in the words of one IaC path. */
export interface OptionHints {
  option(name: OptionName, example: string): string;
  variable(name: string): string;
}

/** The CDK app's context and the construct's props. */
export const CDK_HINTS: OptionHints = {
  option: (name, example) => `-c ${name}=${example} (or the construct's prop kafka)`,
  variable: (name) => `-c environment='{"${name}":"..."}' (or the construct's prop environment)`,
};
