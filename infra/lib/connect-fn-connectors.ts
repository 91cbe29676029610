/**
 * `ConnectFnConnectors`: the CDK construct that deploys a packaged bundle (the output of
 * `connect-fn package <bundle> --out DIR`) — per connector a Lambda function, its log group, role, alarms,
 * and its EventBridge Scheduler schedules or Kafka event source mapping; and the DynamoDB offsets tables.
 * What to create is decided by {@link planDeployment} (shared with the Serverless derivation); this file
 * only renders the plan as CloudFormation (L1 resources, so the template says exactly what the plan says).
 *
 * @example
 * ```ts
 * new ConnectFnConnectors(stack, 'Connectors', {
 *   packageDir: 'dist',
 *   kafka: { type: 'msk', clusterArn: 'arn:aws:kafka:eu-west-1:123456789012:cluster/prod/abcd-1234' },
 *   vpc: { subnetIds: ['subnet-1', 'subnet-2'], securityGroupIds: ['sg-1'] },
 *   environment: { KAFKA_BROKERS: 'b-1.prod.kafka.eu-west-1.amazonaws.com:9098' },
 * });
 * ```
 * @module
 */
import {
  CfnDeletionPolicy,
  CfnResource,
  aws_cloudwatch as cloudwatch,
  Fn,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_s3_assets as s3assets,
  aws_scheduler as scheduler,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ArnTemplate } from './arns.ts';
import { loadPackageDir, type PackagedConnector } from './manifests.ts';
import {
  type DeploymentOptions,
  type DeploymentPlan,
  type FunctionPlan,
  type MappingPlan,
  planDeployment,
  type StatementPlan,
  type TablePlan,
} from './plan.ts';

export interface ConnectFnConnectorsProps extends DeploymentOptions {
  /** The `--out` directory of `connect-fn package`; or give `connectors`. */
  readonly packageDir?: string;
  /** Manifests already read (e.g. with `loadPackageDir`); wins over `packageDir`. */
  readonly connectors?: readonly PackagedConnector[];
}

export class ConnectFnConnectors extends Construct {
  readonly plan: DeploymentPlan;
  /** By connector name. */
  readonly functions: ReadonlyMap<string, lambda.CfnFunction>;
  /** By table name. */
  readonly tables: ReadonlyMap<string, CfnResource>;
  /** Every alarm, to add actions to (`alarm.alarmActions = [topicArn]`). */
  readonly alarms: readonly cloudwatch.CfnAlarm[];

  constructor(scope: Construct, id: string, props: ConnectFnConnectorsProps) {
    super(scope, id);
    const connectors =
      props.connectors ?? (props.packageDir === undefined ? undefined : loadPackageDir(props.packageDir));
    if (connectors === undefined) throw new Error(`${this.node.path}: give packageDir or connectors`);
    this.plan = planDeployment(connectors, props);
    this.tables = new Map(this.plan.tables.map((t) => [t.tableName, offsetsTable(this, t)]));
    const alarms: cloudwatch.CfnAlarm[] = [];
    this.functions = new Map(
      this.plan.functions.map((f) => {
        const connector = new ConnectorResources(this, f.connector, f);
        alarms.push(...connector.alarms);
        return [f.connector, connector.function];
      }),
    );
    this.alarms = alarms;
  }
}

/** One connector's function and everything that belongs to it. */
class ConnectorResources extends Construct {
  readonly function: lambda.CfnFunction;
  readonly alarms: cloudwatch.CfnAlarm[];

  constructor(scope: Construct, id: string, plan: FunctionPlan) {
    super(scope, id);
    const code = new s3assets.Asset(this, 'Code', { path: plan.artifactPath });
    const role = new iam.CfnRole(this, 'Role', {
      description: `connect-fn ${plan.connector}: the function's role`,
      assumeRolePolicyDocument: trust('lambda.amazonaws.com'),
      policies: [{ policyName: 'connector', policyDocument: policyDocument(plan.statements) }],
    });
    const logGroup = new logs.CfnLogGroup(this, 'Logs', {
      logGroupName: plan.logGroupName,
      retentionInDays: plan.logRetentionDays,
    });
    this.function = new lambda.CfnFunction(this, 'Function', {
      functionName: plan.functionName,
      description: `connect-fn connector ${plan.connector}`,
      handler: plan.handler,
      runtime: plan.runtime,
      architectures: [plan.architecture],
      memorySize: plan.memoryMb,
      timeout: plan.timeoutSeconds,
      role: role.attrArn,
      code: { s3Bucket: code.s3BucketName, s3Key: code.s3ObjectKey },
      environment: { variables: { ...plan.environment } },
      loggingConfig: { logGroup: logGroup.ref, logFormat: 'Text' },
      ...(plan.vpc === null
        ? {}
        : {
            vpcConfig: {
              subnetIds: [...plan.vpc.subnetIds],
              securityGroupIds: [...plan.vpc.securityGroupIds],
            },
          }),
    });
    code.addResourceMetadata(this.function, 'Code');
    if (plan.asyncMaximumRetryAttempts !== null) {
      new lambda.CfnEventInvokeConfig(this, 'AsyncInvoke', {
        functionName: this.function.ref,
        qualifier: '$LATEST',
        maximumRetryAttempts: plan.asyncMaximumRetryAttempts,
      });
    }
    this.schedules(plan);
    plan.mappings.forEach((m, i) => {
      this.mapping(m, i);
    });
    this.alarms = this.observability(plan, logGroup);
  }

  private schedules(plan: FunctionPlan): void {
    if (plan.schedules.length === 0) return;
    const invokeArns = [...new Set(plan.schedules.map((s) => s.invokeArn))];
    const role = new iam.CfnRole(this, 'SchedulerRole', {
      description: `connect-fn ${plan.connector}: EventBridge Scheduler invokes the function`,
      assumeRolePolicyDocument: trust('scheduler.amazonaws.com', true),
      policies: [
        {
          policyName: 'invoke',
          policyDocument: policyDocument([
            { sid: 'Invoke', actions: ['lambda:InvokeFunction'], resources: invokeArns },
          ]),
        },
      ],
    });
    for (const s of plan.schedules) {
      new scheduler.CfnSchedule(this, `Task${s.task}`, {
        name: s.name,
        description: `connect-fn ${plan.connector}, task ${s.task}`,
        scheduleExpression: s.expression,
        flexibleTimeWindow: { mode: 'OFF' },
        state: 'ENABLED',
        target: {
          arn: this.function.attrArn,
          roleArn: role.attrArn,
          input: s.input,
          retryPolicy: { maximumRetryAttempts: s.maximumRetryAttempts },
        },
      });
    }
  }

  private mapping(m: MappingPlan, index: number): void {
    const group = { consumerGroupId: m.consumerGroupId };
    new lambda.CfnEventSourceMapping(this, `Mapping${index}`, {
      functionName: this.function.ref,
      topics: [m.topic],
      batchSize: m.batchSize,
      startingPosition: m.startingPosition,
      functionResponseTypes: ['ReportBatchItemFailures'],
      ...(m.mskClusterArn === null
        ? {
            selfManagedEventSource: { endpoints: { kafkaBootstrapServers: [...(m.bootstrapServers ?? [])] } },
            selfManagedKafkaEventSourceConfig: group,
          }
        : { eventSourceArn: m.mskClusterArn, amazonManagedKafkaEventSourceConfig: group }),
      ...(m.sourceAccess.length === 0
        ? {}
        : { sourceAccessConfigurations: m.sourceAccess.map((a) => ({ type: a.type, uri: a.uri })) }),
    });
  }

  private observability(plan: FunctionPlan, logGroup: logs.CfnLogGroup): cloudwatch.CfnAlarm[] {
    const filter = plan.stopReasonFilter;
    new logs.CfnMetricFilter(this, 'StopReasonError', {
      logGroupName: logGroup.ref,
      filterPattern: filter.pattern,
      metricTransformations: [
        { metricNamespace: filter.namespace, metricName: filter.metricName, metricValue: filter.metricValue },
      ],
    });
    // An alarm needs no DependsOn: CloudWatch accepts an alarm on a metric that has no data yet.
    return plan.alarms.map(
      (a) =>
        new cloudwatch.CfnAlarm(this, `Alarm-${a.metricName}`, {
          alarmName: a.name,
          alarmDescription: a.description,
          namespace: a.namespace,
          metricName: a.metricName,
          dimensions: a.dimensions.map((d) => ({ name: d.name, value: d.value })),
          statistic: a.statistic,
          period: a.periodSeconds,
          evaluationPeriods: a.evaluationPeriods,
          threshold: a.threshold,
          comparisonOperator: a.comparisonOperator,
          treatMissingData: a.treatMissingData,
        }),
    );
  }
}

function offsetsTable(scope: Construct, plan: TablePlan): CfnResource {
  const table = new CfnResource(scope, `Offsets-${plan.tableName}`, {
    type: 'AWS::DynamoDB::Table',
    properties: { ...plan.properties },
  });
  // Offsets are the connectors' positions: never deleted with the stack, nor replaced by an update.
  table.cfnOptions.deletionPolicy = CfnDeletionPolicy.RETAIN;
  table.cfnOptions.updateReplacePolicy = CfnDeletionPolicy.RETAIN;
  return table;
}

function trust(service: string, sameAccount = false): object {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: service },
        Action: 'sts:AssumeRole',
        // EventBridge Scheduler: only schedules of this account may assume the role (confused deputy).
        ...(sameAccount
          ? { Condition: { StringEquals: { 'aws:SourceAccount': Fn.ref('AWS::AccountId') } } }
          : {}),
      },
    ],
  };
}

function policyDocument(statements: readonly StatementPlan[]): object {
  return {
    Version: '2012-10-17',
    Statement: statements.map((s) => ({
      Sid: s.sid,
      Effect: 'Allow',
      Action: [...s.actions],
      Resource: s.resources.map(resolveArn),
    })),
  };
}

function resolveArn(value: ArnTemplate): string {
  return value.includes('${') ? Fn.sub(value) : value;
}
