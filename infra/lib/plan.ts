/**
 * The deployment plan of a packaged bundle: what both IaC paths create, decided once, in pure TypeScript
 * (no aws-cdk-lib), so that the CDK construct and the Serverless derivation produce the same functions,
 * schedules, event source mappings, tables, IAM and alarms for the same manifests.
 *
 * Conventions (README of infra/ has the reasons):
 * 1. One function per connector, named `<prefix><connector>`; nodejs22.x, arm64, handler, memory and timeout
 *    from the manifest; environment = the manifest's + the user's values of its `requiredEnvironment`.
 *    Asynchronous invocations are not retried by Lambda (the next schedule tick is the retry).
 * 2. Scheduled connectors: one EventBridge Scheduler schedule per task, input `{"task":N}`, no flexible
 *    window, no retry (the next tick runs the task again from its committed offsets; a retry would overlap it).
 * 3. Triggered sinks: one Kafka event source mapping (MSK or self-managed), consumer group
 *    `eventSource.consumerGroupId`, `ReportBatchItemFailures`.
 * 4. One offsets table per distinct `offsets.table` of connectors with `offsets.storage=dynamodb`: the key
 *    schema of src/deploy/offsets-table.ts, point-in-time recovery, deletion protection, retained.
 * 5. A log group per function with retention, alarms on Errors, Throttles and `stopReason=error`.
 * 6. An option no connector needs (a cluster, a secret, a variable) is refused, as a bundle refuses a key
 *    that has no effect. Refusals throw {@link DeployConfigError}, naming the option as `hints` words it.
 *
 * @example
 * ```ts
 * const plan = planDeployment(loadPackageDir('dist'), { kafka: { type: 'msk', clusterArn }, environment: {} });
 * ```
 * @module
 */
import type { ConnectorManifest } from '../../src/deploy/manifest.ts';
import { offsetsTableSchema } from '../../src/deploy/offsets-table.ts';
import { type AlarmPlan, alarmsOf, type MetricFilterPlan, stopReasonFilter } from './alarms.ts';
import { lambdaFunctionArn, type MskCluster, parseMskClusterArn } from './arns.ts';
import { DeployConfigError } from './errors.ts';
import { functionStatements, type StatementPlan } from './iam.ts';
import type { PackagedConnector } from './manifests.ts';
import { type MappingPlan, mappingAccess, mappingsOf } from './mapping.ts';
import { CDK_HINTS, type DeploymentOptions, type OptionHints, type VpcPlacement } from './options.ts';

export type { AlarmPlan, MetricFilterPlan } from './alarms.ts';
export type { StatementPlan } from './iam.ts';
export type { MappingPlan } from './mapping.ts';
export type { DeploymentOptions, KafkaTarget, OptionHints, VpcPlacement } from './options.ts';

/** A month: enough to read the logs behind an alarm after a weekend or a holiday, cheap to keep. */
export const DEFAULT_LOG_RETENTION_DAYS = 30;
/** The values CloudWatch Logs accepts for `RetentionInDays`. */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

export interface SchedulePlan {
  readonly name: string;
  readonly task: number;
  readonly expression: string;
  /** `{"task":N}`, the EventBridge Scheduler input the source and scheduled sink handlers read. */
  readonly input: string;
  /** 0: the next tick is the retry. */
  readonly maximumRetryAttempts: number;
  /** What the schedule's role may invoke: this function only. */
  readonly invokeArn: string;
}

/** The manifest's handler, runtime, architecture, memory and timeout, as they are. */
type FunctionSettings = Pick<
  ConnectorManifest['function'],
  'handler' | 'runtime' | 'architecture' | 'memoryMb' | 'timeoutSeconds'
>;

export interface FunctionPlan extends FunctionSettings {
  readonly connector: string;
  readonly functionName: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly artifactPath: string;
  readonly logGroupName: string;
  readonly logRetentionDays: number;
  readonly vpc: VpcPlacement | null;
  /**
   * Lambda's own retries of an asynchronous invocation (EventBridge Scheduler invokes asynchronously): 0,
   * as for the schedule; null for a triggered sink, which its mapping invokes synchronously.
   */
  readonly asyncMaximumRetryAttempts: number | null;
  readonly statements: readonly StatementPlan[];
  readonly schedules: readonly SchedulePlan[];
  readonly mappings: readonly MappingPlan[];
  readonly stopReasonFilter: MetricFilterPlan;
  readonly alarms: readonly AlarmPlan[];
}

export interface TablePlan {
  readonly tableName: string;
  /** Connectors that keep offsets in it. */
  readonly connectors: readonly string[];
  /**
   * The `AWS::DynamoDB::Table` properties, as CloudFormation spells them. Both IaC paths also retain the
   * table on stack deletion and replacement.
   */
  readonly properties: Readonly<Record<string, unknown>>;
}

export interface DeploymentPlan {
  readonly functions: readonly FunctionPlan[];
  readonly tables: readonly TablePlan[];
}

/**
 * The plan for `packaged`; throws {@link DeployConfigError} naming the connector and what is missing or not
 * deployable, and the option to give as `hints` words it (CDK context and props by default).
 */
export function planDeployment(
  packaged: readonly PackagedConnector[],
  options: DeploymentOptions,
  hints: OptionHints = CDK_HINTS,
): DeploymentPlan {
  const retention = options.logRetentionDays ?? DEFAULT_LOG_RETENTION_DAYS;
  if (!RETENTION_DAYS.includes(retention)) {
    throw new DeployConfigError(
      `logRetentionDays: ${retention} is not a CloudWatch Logs retention; one of ${RETENTION_DAYS.join(', ')}`,
    );
  }
  const msk =
    options.kafka?.type === 'msk' ? parseMskClusterArn(options.kafka.clusterArn, 'mskClusterArn') : null;
  checkEnvironmentKeys(packaged, options.environment ?? {});
  const planned = { options, msk, retention, hints };
  const functions = packaged.map((p) => planFunction(p, planned));
  refuseUnusedKafka(packaged, functions, options);
  return { functions, tables: offsetsTables(packaged.map((p) => p.manifest)) };
}

interface Planned {
  readonly options: DeploymentOptions;
  readonly msk: MskCluster | null;
  readonly retention: number;
  readonly hints: OptionHints;
}

function planFunction(
  { manifest, artifactPath }: PackagedConnector,
  { options, msk, retention, hints }: Planned,
): FunctionPlan {
  const functionName = functionNameOf(manifest.connector, options.prefix ?? '');
  const logGroupName = `/aws/lambda/${functionName}`;
  const mapping = manifest.trigger === 'kafka' ? mappingAccess(manifest, options, hints) : null;
  const vpc = options.vpc ?? null;
  return {
    connector: manifest.connector,
    functionName,
    ...settingsOf(manifest.connector, manifest.function),
    environment: environmentOf(manifest, options.environment ?? {}, hints),
    artifactPath,
    logGroupName,
    logRetentionDays: retention,
    vpc,
    asyncMaximumRetryAttempts: manifest.trigger === 'schedule' ? 0 : null,
    statements: functionStatements({ manifest, logGroupName, msk, inVpc: vpc !== null, mapping, hints }),
    schedules: schedulesOf(manifest, functionName),
    mappings: mapping === null ? [] : mappingsOf(manifest, options, hints),
    stopReasonFilter: stopReasonFilter(functionName, logGroupName),
    alarms: alarmsOf(functionName),
  };
}

/** The manifest's settings, checked against what Lambda accepts (memory 128-10240 MB, timeout 1-900 s). */
function settingsOf(connector: string, settings: FunctionSettings): FunctionSettings {
  const { handler, runtime, architecture, memoryMb, timeoutSeconds } = settings;
  if (!Number.isInteger(memoryMb) || memoryMb < 128 || memoryMb > 10_240) {
    throw new DeployConfigError(
      `connector ${connector}: function.memoryMb ${memoryMb} is not a Lambda memory size (128-10240)`,
    );
  }
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 900) {
    throw new DeployConfigError(
      `connector ${connector}: function.timeoutSeconds ${timeoutSeconds} is not a Lambda timeout (1-900)`,
    );
  }
  return { handler, runtime, architecture, memoryMb, timeoutSeconds };
}

/** Lambda function names: 1-64 of `[A-Za-z0-9_-]`; schedule names add `-task-<N>` within Scheduler's 64. */
function functionNameOf(connector: string, prefix: string): string {
  const name = `${prefix}${connector}`;
  if (!/^[A-Za-z0-9_-]{1,55}$/.test(name)) {
    throw new DeployConfigError(
      `connector ${connector}: function name ${JSON.stringify(name)} must be 1-55 characters of A-Z a-z 0-9 _ - (Lambda's 64, less the schedules' "-task-<N>")`,
    );
  }
  return name;
}

function environmentOf(
  manifest: ConnectorManifest,
  provided: Readonly<Record<string, string>>,
  hints: OptionHints,
): Record<string, string> {
  const environment: Record<string, string> = { ...manifest.function.environment };
  for (const name of manifest.function.requiredEnvironment) {
    const value = provided[name];
    if (value === undefined) {
      throw new DeployConfigError(
        `connector ${manifest.connector} reads \${env:${name}}: give its value with ${hints.variable(name)}`,
      );
    }
    environment[name] = value;
  }
  return environment;
}

function checkEnvironmentKeys(
  packaged: readonly PackagedConnector[],
  provided: Readonly<Record<string, string>>,
): void {
  const required = new Set(packaged.flatMap((p) => p.manifest.function.requiredEnvironment));
  const unused = Object.keys(provided).filter((name) => !required.has(name));
  if (unused.length > 0) {
    throw new DeployConfigError(
      `environment: ${unused.join(', ')} is read by no connector (required: ${[...required].sort().join(', ') || 'none'})`,
    );
  }
}

function schedulesOf(manifest: ConnectorManifest, functionName: string): SchedulePlan[] {
  if (manifest.trigger !== 'schedule') return [];
  if (manifest.schedule === null)
    throw new DeployConfigError(`connector ${manifest.connector}: trigger=schedule without a schedule`);
  const expression = manifest.schedule;
  return Array.from({ length: manifest.tasks }, (_, task) => ({
    name: `${functionName}-task-${task}`,
    task,
    expression,
    input: JSON.stringify({ task }),
    maximumRetryAttempts: 0,
    invokeArn: lambdaFunctionArn(functionName),
  }));
}

function offsetsTables(manifests: readonly ConnectorManifest[]): TablePlan[] {
  const tables = new Map<string, string[]>();
  for (const m of manifests) {
    if (m.offsets.storage !== 'dynamodb') continue;
    if (m.offsets.table === null)
      throw new DeployConfigError(`connector ${m.connector}: offsets.storage=dynamodb without a table`);
    tables.set(m.offsets.table, [...(tables.get(m.offsets.table) ?? []), m.connector]);
  }
  return [...tables.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([tableName, connectors]) => ({
      tableName,
      connectors,
      properties: {
        ...offsetsTableSchema(tableName),
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      },
    }));
}

/**
 * A Kafka cluster no connector needs (no triggered sink, and for MSK no MSK IAM), or a SASL secret no
 * mapping logs in with (or TLS secret no mapping reads), would change nothing: refused.
 */
function refuseUnusedKafka(
  packaged: readonly PackagedConnector[],
  functions: readonly FunctionPlan[],
  options: DeploymentOptions,
): void {
  const kafka = options.kafka;
  if (kafka === undefined) return;
  const triggered = functions.some((f) => f.mappings.length > 0);
  const iam = kafka.type === 'msk' && packaged.some((p) => p.manifest.kafka.iam);
  if (!triggered && !iam) {
    const name = kafka.type === 'msk' ? 'mskClusterArn' : 'bootstrapServers';
    throw new DeployConfigError(
      `${name}: no connector needs it (no triggered sink${kafka.type === 'msk' ? ', no MSK IAM' : ''}); leave it out`,
    );
  }
  const read = (arn: string | undefined) =>
    functions.some((f) => f.mappings.some((m) => m.sourceAccess.some((a) => a.uri === arn)));
  const unused: [string | undefined, string][] = [
    [kafka.secretArn, 'kafkaSecretArn: no triggered sink logs in with SASL/SCRAM or PLAIN'],
    [
      kafka.clientCertificateSecretArn,
      'kafkaClientCertificateSecretArn: no triggered sink authenticates with a client certificate (ssl.keystore.*)',
    ],
    [
      kafka.rootCaSecretArn,
      'kafkaRootCaSecretArn: no triggered sink on self-managed Kafka trusts a private CA (ssl.truststore.*)',
    ],
  ];
  for (const [arn, message] of unused) {
    if (arn !== undefined && !read(arn)) throw new DeployConfigError(`${message}; leave it out`);
  }
}
