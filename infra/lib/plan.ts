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
 * 4. One offsets table per distinct `offsets.table` of connectors with `offsets.storage=dynamodb`.
 * 5. A log group per function with retention, alarms on Errors, Throttles and `stopReason=error`.
 *
 * @example
 * ```ts
 * const plan = planDeployment(loadPackageDir('dist'), { kafka: { type: 'msk', clusterArn }, environment: {} });
 * ```
 * @module
 */
import type { ConnectorManifest } from '../../src/deploy/manifest.ts';
import { type AlarmPlan, alarmsOf, type MetricFilterPlan, stopReasonFilter } from './alarms.ts';
import { lambdaFunctionArn, type MskCluster, parseMskClusterArn } from './arns.ts';
import { functionStatements, type StatementPlan } from './iam.ts';
import type { PackagedConnector } from './manifests.ts';
import { type MappingPlan, mappingAccess, mappingsOf } from './mapping.ts';
import { offsetsTableProperties } from './offsets-table.ts';
import type { DeploymentOptions, VpcPlacement } from './options.ts';

export type { AlarmPlan, MetricFilterPlan } from './alarms.ts';
export type { StatementPlan } from './iam.ts';
export type { MappingPlan } from './mapping.ts';
export type { DeploymentOptions, KafkaTarget, VpcPlacement } from './options.ts';

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
   * The `AWS::DynamoDB::Table` properties, as CloudFormation spells them (offsets-table.ts). Both IaC
   * paths also retain the table on stack deletion and replacement.
   */
  readonly properties: Readonly<Record<string, unknown>>;
}

export interface DeploymentPlan {
  readonly functions: readonly FunctionPlan[];
  readonly tables: readonly TablePlan[];
}

/** The plan for `packaged`; throws naming the connector and what is missing or not deployable. */
export function planDeployment(
  packaged: readonly PackagedConnector[],
  options: DeploymentOptions,
): DeploymentPlan {
  const retention = options.logRetentionDays ?? DEFAULT_LOG_RETENTION_DAYS;
  if (!RETENTION_DAYS.includes(retention)) {
    throw new Error(
      `logRetentionDays: ${retention} is not a CloudWatch Logs retention; one of ${RETENTION_DAYS.join(', ')}`,
    );
  }
  const msk =
    options.kafka?.type === 'msk' ? parseMskClusterArn(options.kafka.clusterArn, 'kafka.clusterArn') : null;
  checkEnvironmentKeys(packaged, options.environment ?? {});
  const functions = packaged.map((p) => planFunction(p, options, msk, retention));
  return { functions, tables: offsetsTables(packaged.map((p) => p.manifest)) };
}

function planFunction(
  { manifest, artifactPath }: PackagedConnector,
  options: DeploymentOptions,
  msk: MskCluster | null,
  logRetentionDays: number,
): FunctionPlan {
  const functionName = functionNameOf(manifest.connector, options.prefix ?? '');
  const logGroupName = `/aws/lambda/${functionName}`;
  const mapping = manifest.trigger === 'kafka' ? mappingAccess(manifest, options) : null;
  const vpc = options.vpc ?? null;
  return {
    connector: manifest.connector,
    functionName,
    ...settingsOf(manifest.connector, manifest.function),
    environment: environmentOf(manifest, options.environment ?? {}),
    artifactPath,
    logGroupName,
    logRetentionDays,
    vpc,
    asyncMaximumRetryAttempts: manifest.trigger === 'schedule' ? 0 : null,
    statements: functionStatements({ manifest, logGroupName, msk, inVpc: vpc !== null, mapping }),
    schedules: schedulesOf(manifest, functionName),
    mappings: mapping === null ? [] : mappingsOf(manifest, options),
    stopReasonFilter: stopReasonFilter(functionName, logGroupName),
    alarms: alarmsOf(functionName),
  };
}

/** The manifest's settings, checked against what Lambda accepts (memory 128-10240 MB, timeout 1-900 s). */
function settingsOf(connector: string, settings: FunctionSettings): FunctionSettings {
  const { handler, runtime, architecture, memoryMb, timeoutSeconds } = settings;
  if (!Number.isInteger(memoryMb) || memoryMb < 128 || memoryMb > 10_240) {
    throw new Error(
      `connector ${connector}: function.memoryMb ${memoryMb} is not a Lambda memory size (128-10240)`,
    );
  }
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 900) {
    throw new Error(
      `connector ${connector}: function.timeoutSeconds ${timeoutSeconds} is not a Lambda timeout (1-900)`,
    );
  }
  return { handler, runtime, architecture, memoryMb, timeoutSeconds };
}

/** Lambda function names: 1-64 of `[A-Za-z0-9_-]`; schedule names add `-task-<N>` within Scheduler's 64. */
function functionNameOf(connector: string, prefix: string): string {
  const name = `${prefix}${connector}`;
  if (!/^[A-Za-z0-9_-]{1,55}$/.test(name)) {
    throw new Error(
      `connector ${connector}: function name ${JSON.stringify(name)} must be 1-55 characters of A-Z a-z 0-9 _ - (Lambda's 64, less the schedules' "-task-<N>")`,
    );
  }
  return name;
}

function environmentOf(
  manifest: ConnectorManifest,
  provided: Readonly<Record<string, string>>,
): Record<string, string> {
  const environment: Record<string, string> = { ...manifest.function.environment };
  for (const name of manifest.function.requiredEnvironment) {
    const value = provided[name];
    if (value === undefined) {
      throw new Error(
        `connector ${manifest.connector} reads \${env:${name}}: give its value in the deployment's environment (prop environment, or -c environment='{"${name}":"..."}')`,
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
    throw new Error(
      `environment: ${unused.join(', ')} is read by no connector (required: ${[...required].sort().join(', ') || 'none'})`,
    );
  }
}

function schedulesOf(manifest: ConnectorManifest, functionName: string): SchedulePlan[] {
  if (manifest.trigger !== 'schedule') return [];
  if (manifest.schedule === null)
    throw new Error(`connector ${manifest.connector}: trigger=schedule without a schedule`);
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
      throw new Error(`connector ${m.connector}: offsets.storage=dynamodb without a table`);
    tables.set(m.offsets.table, [...(tables.get(m.offsets.table) ?? []), m.connector]);
  }
  return [...tables.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([tableName, connectors]) => ({
      tableName,
      connectors,
      properties: offsetsTableProperties(tableName),
    }));
}
