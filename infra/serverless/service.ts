/**
 * The Serverless service of a package directory: osls `functions` (one per connector, its zip, memory,
 * timeout, environment and own role) and the CloudFormation `resources` osls cannot express (roles,
 * schedules, event source mappings, offsets tables, alarms). Pure: the manifests and the deployment's
 * settings in, plain JSON out; `derive.ts` does the reading.
 * @module
 */
import type { ConnectorManifest } from '../../src/deploy/manifest.ts';
import { alarmResources } from './alarms.ts';
import { type CfnResources, connectorIds } from './cfn.ts';
import { DeployConfigError } from './errors.ts';
import { executionRole } from './iam.ts';
import type { PackagedConnector } from './package-dir.ts';
import type { DeploySettings } from './settings.ts';
import { offsetsTableResources } from './tables.ts';
import { eventSourceMapping, mappingSecret, scheduleResources } from './triggers.ts';

/** A function as serverless.yml declares it. */
export interface ServerlessFunction {
  readonly name: string;
  readonly handler: string;
  readonly runtime: string;
  readonly architecture: string;
  readonly memorySize: number;
  readonly timeout: number;
  readonly environment: Readonly<Record<string, string>>;
  /** Its own role in `resources`. */
  readonly role: { readonly 'Fn::Sub': string };
  readonly package: { readonly artifact: string };
  readonly description: string;
  /** Lambda's retries of an asynchronous invocation: 0 for scheduled connectors. */
  readonly maximumRetryAttempts?: number;
  readonly vpc?: { readonly subnetIds: readonly string[]; readonly securityGroupIds: readonly string[] };
}

export interface ServerlessService {
  readonly functions: Readonly<Record<string, ServerlessFunction>>;
  readonly resources: { readonly Resources: CfnResources };
}

export function deriveService(
  connectors: readonly PackagedConnector[],
  settings: DeploySettings,
): ServerlessService {
  const manifests = connectors.map((c) => c.manifest);
  refuseUnused(manifests, settings);
  const functions: Record<string, ServerlessFunction> = {};
  const resources: CfnResources = offsetsTableResources(manifests);
  for (const { manifest, artifactPath } of connectors) {
    functions[manifest.connector] = lambdaFunction(manifest, artifactPath, settings);
    Object.assign(resources, connectorResources(manifest, settings));
  }
  return { functions, resources: { Resources: resources } };
}

/** A parameter no connector needs would change nothing: it is refused, as the bundle refuses such keys. */
function refuseUnused(manifests: readonly ConnectorManifest[], settings: DeploySettings): void {
  const triggered = manifests.filter((m) => m.trigger === 'kafka');
  const clusterUsed =
    triggered.length > 0 || (settings.cluster?.kind === 'msk' && manifests.some((m) => m.kafka.iam));
  if (settings.cluster !== null && !clusterUsed) {
    const param = settings.cluster.kind === 'msk' ? 'mskClusterArn' : 'bootstrapServers';
    throw new DeployConfigError(
      `${param}: no connector needs it (no triggered sink${settings.cluster.kind === 'msk' ? ', no MSK IAM' : ''}); leave it out`,
    );
  }
  if (settings.kafkaSecretArn !== null && !triggered.some((m) => mappingSecret(m, settings) !== null)) {
    throw new DeployConfigError(
      'kafkaSecretArn: no triggered sink logs in with SASL/SCRAM or PLAIN; leave it out',
    );
  }
}

function lambdaFunction(
  manifest: ConnectorManifest,
  artifactPath: string,
  settings: DeploySettings,
): ServerlessFunction {
  const fn = manifest.function;
  return {
    name: functionName(manifest.connector, settings.prefix),
    handler: fn.handler,
    runtime: fn.runtime,
    architecture: fn.architecture,
    memorySize: fn.memoryMb,
    timeout: fn.timeoutSeconds,
    environment: { ...fn.environment, ...requiredEnvironment(manifest, settings) },
    // As Fn::Sub rather than the logical id: osls would add a DependsOn the reference already implies
    // (cfn-lint W3005).
    role: { 'Fn::Sub': `\${${connectorIds(manifest.connector).role}.Arn}` },
    description: `connect-fn connector ${manifest.connector}`,
    // EventBridge Scheduler invokes asynchronously; Lambda would retry a failed invocation twice, on top of
    // the next tick (which is the retry, from the committed offsets) and overlapping it.
    ...(manifest.trigger === 'schedule' ? { maximumRetryAttempts: 0 } : {}),
    package: { artifact: artifactPath },
    ...(settings.vpc === null ? {} : { vpc: settings.vpc }),
  };
}

/**
 * `<prefix><connector>`: Lambda's 64 characters, less the schedules' `-task-<N>` (Scheduler's names have 64
 * too). The prefix tells apart deployments of one bundle in one account (stages).
 */
function functionName(connector: string, prefix: string): string {
  const name = `${prefix}${connector}`;
  if (name.length > 55) {
    throw new DeployConfigError(
      `connector ${connector}: function name ${name} is longer than 55 characters (Lambda's 64, less the schedules' "-task-<N>"); shorten the prefix or the connector's name`,
    );
  }
  return name;
}

/** The values of the variables the bundle reads with `${env:...}`; each must be given. */
function requiredEnvironment(manifest: ConnectorManifest, settings: DeploySettings): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of manifest.function.requiredEnvironment) {
    const value = settings.environment[name];
    if (value === undefined) {
      throw new DeployConfigError(
        `connector ${manifest.connector}: its bundle reads \${env:${name}}; give the value with --param="${name}=..." (or under params: in serverless.yml)`,
      );
    }
    values[name] = value;
  }
  return values;
}

function connectorResources(manifest: ConnectorManifest, settings: DeploySettings): CfnResources {
  const ids = connectorIds(manifest.connector);
  const name = functionName(manifest.connector, settings.prefix);
  const msk = settings.cluster?.kind === 'msk' ? settings.cluster.msk : null;
  if (manifest.kafka.iam && msk === null) {
    throw new DeployConfigError(
      `connector ${manifest.connector} authenticates to Kafka with MSK IAM: give the cluster with --param="mskClusterArn=arn:aws:kafka:..."`,
    );
  }
  const triggered = manifest.trigger === 'kafka';
  const secret = mappingSecret(manifest, settings);
  const role = executionRole(manifest.connector, manifest.permissions, settings.cluster, {
    logGroupName: `/aws/lambda/${name}`,
    inVpc: settings.vpc !== null,
    // An MSK mapping always polls from inside the cluster's VPC; a self-managed one when given subnets.
    mappingNetworkInterfaces: triggered && (msk !== null || settings.vpc !== null),
    mskMapping: triggered ? msk : null,
    mappingSecretArn: secret,
    mappingSecretKeyArn: secret === null ? null : settings.kafkaSecretKmsKeyArn,
  });
  return {
    [ids.role]: role,
    ...(triggered ? eventSourceMapping(manifest, settings) : scheduleResources(manifest, name)),
    ...alarmResources(manifest.connector, name),
  };
}
