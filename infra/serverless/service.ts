/**
 * The Serverless service of a package directory: {@link planDeployment} (infra/lib/plan.ts, the CDK app's
 * plan) rendered as osls `functions` (one per connector: its zip, memory, timeout, environment, log
 * retention and own role) and the CloudFormation `resources` osls cannot express: the roles (osls' default
 * role is shared by every function of a service), EventBridge Scheduler schedules (osls' `schedule` event
 * makes EventBridge rules, or with `method: scheduler` shares the function's role and cannot turn retries
 * off), Kafka event source mappings (osls' `msk`/`kafka` events cannot set `FunctionResponseTypes` nor take
 * another role), offsets tables, alarms and the stopReason metric filter. Nothing is decided here: what to
 * create, with which names, ARNs and IAM, is the plan's. Pure: plain JSON out; derive.ts does the reading.
 * @module
 */
import { cfnArn } from '../lib/arns.ts';
import { DeployConfigError } from '../lib/errors.ts';
import type { PackagedConnector } from '../lib/manifests.ts';
import {
  type AlarmPlan,
  type DeploymentOptions,
  type FunctionPlan,
  type MappingPlan,
  type OptionHints,
  planDeployment,
  type StatementPlan,
  type TablePlan,
} from '../lib/plan.ts';
import type { DeploySettings } from './settings.ts';

/** A JSON value of a CloudFormation template. */
type Cfn = string | number | boolean | null | readonly Cfn[] | { readonly [key: string]: Cfn };

interface CfnResource {
  readonly Type: string;
  readonly Properties: { readonly [key: string]: Cfn };
  readonly DeletionPolicy?: 'Retain';
  readonly UpdateReplacePolicy?: 'Retain';
}
export type CfnResources = Record<string, CfnResource>;

/** A function as serverless.yml declares it. */
export interface ServerlessFunction {
  readonly name: string;
  readonly handler: string;
  readonly runtime: string;
  readonly architecture: string;
  readonly memorySize: number;
  readonly timeout: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetentionInDays: number;
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

/** How a refusal names osls parameters. */
export const OSLS_HINTS: OptionHints = {
  option: (name, example) => `--param="${name}=${example}"`,
  variable: (name) => `--param="${name}=..." (or under params: in serverless.yml)`,
};

export function deriveService(
  connectors: readonly PackagedConnector[],
  settings: DeploySettings,
): ServerlessService {
  const plan = planDeployment(connectors, deploymentOptions(settings), OSLS_HINTS);
  const functions: Record<string, ServerlessFunction> = {};
  const resources: CfnResources = {};
  for (const table of plan.tables)
    resources[`OffsetsTable${normalizedName(table.tableName)}`] = offsetsTable(table);
  for (const f of plan.functions) {
    functions[f.connector] = lambdaFunction(f);
    Object.assign(resources, connectorResources(f));
  }
  return { functions, resources: { Resources: resources } };
}

/** The osls parameters as the plan's options (the CDK construct's props). */
function deploymentOptions(settings: DeploySettings): DeploymentOptions {
  const { cluster, kafkaSecretArn, kafkaSecretKmsKeyArn } = settings;
  const clientCertificate = settings.kafkaClientCertificateSecretArn ?? null;
  const rootCa = settings.kafkaRootCaSecretArn ?? null;
  const secret = {
    ...(kafkaSecretArn === null ? {} : { secretArn: kafkaSecretArn }),
    ...(kafkaSecretKmsKeyArn === null ? {} : { secretKmsKeyArn: kafkaSecretKmsKeyArn }),
    ...(clientCertificate === null ? {} : { clientCertificateSecretArn: clientCertificate }),
    ...(rootCa === null ? {} : { rootCaSecretArn: rootCa }),
  };
  if (cluster === null && Object.keys(secret).length > 0) {
    throw new DeployConfigError(
      'kafkaSecretArn, kafkaSecretKmsKeyArn, kafkaClientCertificateSecretArn and kafkaRootCaSecretArn need mskClusterArn or bootstrapServers',
    );
  }
  return {
    prefix: settings.prefix,
    environment: settings.environment,
    ...(settings.logRetentionDays == null ? {} : { logRetentionDays: settings.logRetentionDays }),
    ...(settings.vpc === null ? {} : { vpc: settings.vpc }),
    ...(cluster === null
      ? {}
      : {
          kafka:
            cluster.kind === 'msk'
              ? { type: 'msk', clusterArn: cluster.msk.arn, ...secret }
              : { type: 'self-managed', bootstrapServers: cluster.bootstrapServers, ...secret },
        }),
  };
}

/**
 * A name as osls normalises function keys into logical ids (`orders-sink` → `OrdersDashsink`), extended to
 * `.`, which table names may hold: distinct names stay distinct.
 */
function normalizedName(name: string): string {
  const id = name.replace(/-/g, 'Dash').replace(/_/g, 'Underscore').replace(/\./g, 'Dot');
  return id.charAt(0).toUpperCase() + id.slice(1);
}

/** Logical ids of a connector's resources: osls' own for its function and log group, ours alike. */
function idsOf(connector: string) {
  const n = normalizedName(connector);
  return {
    function: `${n}LambdaFunction`,
    logGroup: `${n}LogGroup`,
    role: `${n}ExecutionRole`,
    schedulerRole: `${n}SchedulerRole`,
    schedule: (task: number) => `${n}Schedule${task}`,
    mapping: (index: number) => `${n}EventSourceMapping${index === 0 ? '' : index}`,
    stopReasonFilter: `${n}StopReasonErrorFilter`,
    alarm: (a: AlarmPlan) =>
      `${n}${a.metricName === 'Errors' || a.metricName === 'Throttles' ? a.metricName : 'StopReasonError'}Alarm`,
  } as const;
}

function lambdaFunction(f: FunctionPlan): ServerlessFunction {
  return {
    name: f.functionName,
    handler: f.handler,
    runtime: f.runtime,
    architecture: f.architecture,
    memorySize: f.memoryMb,
    timeout: f.timeoutSeconds,
    environment: f.environment,
    logRetentionInDays: f.logRetentionDays,
    // As Fn::Sub rather than the logical id: osls would add a DependsOn the reference already implies
    // (cfn-lint W3005).
    role: { 'Fn::Sub': `\${${idsOf(f.connector).role}.Arn}` },
    description: `connect-fn connector ${f.connector}`,
    ...(f.asyncMaximumRetryAttempts === null ? {} : { maximumRetryAttempts: f.asyncMaximumRetryAttempts }),
    package: { artifact: f.artifactPath },
    ...(f.vpc === null ? {} : { vpc: f.vpc }),
  };
}

function connectorResources(f: FunctionPlan): CfnResources {
  const ids = idsOf(f.connector);
  const resources: CfnResources = {
    [ids.role]: role('lambda.amazonaws.com', `connect-fn-${f.connector}`, f.statements),
  };
  if (f.schedules.length > 0) {
    const invoke = [...new Set(f.schedules.map((s) => s.invokeArn))];
    // Only schedules of this account may use the role (the confused-deputy guard AWS documents for Scheduler).
    const sameAccount = { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } };
    resources[ids.schedulerRole] = role(
      'scheduler.amazonaws.com',
      `connect-fn-${f.connector}-schedule`,
      [{ sid: 'Invoke', actions: ['lambda:InvokeFunction'], resources: invoke }],
      sameAccount,
    );
  }
  for (const s of f.schedules) {
    resources[ids.schedule(s.task)] = {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        Name: s.name,
        Description: `connect-fn ${f.connector}, task ${s.task}`,
        ScheduleExpression: s.expression,
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Target: {
          Arn: { 'Fn::GetAtt': [ids.function, 'Arn'] },
          RoleArn: { 'Fn::GetAtt': [ids.schedulerRole, 'Arn'] },
          Input: s.input,
          RetryPolicy: { MaximumRetryAttempts: s.maximumRetryAttempts },
        },
      },
    };
  }
  f.mappings.forEach((m, i) => {
    resources[ids.mapping(i)] = mapping(m, ids.function);
  });
  const filter = f.stopReasonFilter;
  resources[ids.stopReasonFilter] = {
    Type: 'AWS::Logs::MetricFilter',
    Properties: {
      // The Ref (not the name) orders the filter after osls' log group.
      LogGroupName: { Ref: ids.logGroup },
      FilterPattern: filter.pattern,
      MetricTransformations: [
        { MetricNamespace: filter.namespace, MetricName: filter.metricName, MetricValue: filter.metricValue },
      ],
    },
  };
  for (const a of f.alarms) resources[ids.alarm(a)] = alarm(a);
  return resources;
}

function mapping(m: MappingPlan, functionId: string): CfnResource {
  const group = { ConsumerGroupId: m.consumerGroupId };
  return {
    Type: 'AWS::Lambda::EventSourceMapping',
    Properties: {
      FunctionName: { Ref: functionId },
      Topics: [m.topic],
      BatchSize: m.batchSize,
      StartingPosition: m.startingPosition,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ...(m.mskClusterArn === null
        ? {
            SelfManagedEventSource: { Endpoints: { KafkaBootstrapServers: [...(m.bootstrapServers ?? [])] } },
            SelfManagedKafkaEventSourceConfig: group,
          }
        : { EventSourceArn: m.mskClusterArn, AmazonManagedKafkaEventSourceConfig: group }),
      ...(m.sourceAccess.length === 0
        ? {}
        : { SourceAccessConfigurations: m.sourceAccess.map((a) => ({ Type: a.type, URI: a.uri })) }),
    },
  };
}

function alarm(a: AlarmPlan): CfnResource {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: a.name,
      AlarmDescription: a.description,
      Namespace: a.namespace,
      MetricName: a.metricName,
      Dimensions: a.dimensions.map((d) => ({ Name: d.name, Value: d.value })),
      Statistic: a.statistic,
      Period: a.periodSeconds,
      EvaluationPeriods: a.evaluationPeriods,
      Threshold: a.threshold,
      ComparisonOperator: a.comparisonOperator,
      TreatMissingData: a.treatMissingData,
    },
  };
}

function offsetsTable(table: TablePlan): CfnResource {
  return {
    Type: 'AWS::DynamoDB::Table',
    // Offsets are the connectors' positions: never deleted with the stack, nor replaced by an update.
    DeletionPolicy: 'Retain',
    UpdateReplacePolicy: 'Retain',
    Properties: table.properties as { readonly [key: string]: Cfn },
  };
}

function role(
  service: string,
  policyName: string,
  statements: readonly StatementPlan[],
  condition?: Cfn,
): CfnResource {
  const trust = { Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' };
  const statement = statements.map((s) => ({
    Sid: s.sid,
    Effect: 'Allow',
    Action: [...s.actions],
    Resource: s.resources.map(cfnArn),
  }));
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [condition === undefined ? trust : { ...trust, Condition: condition }],
      },
      Policies: [{ PolicyName: policyName, PolicyDocument: { Version: '2012-10-17', Statement: statement } }],
    },
  };
}
