/**
 * `osls package` of serverless.yml on package directories of every connector kind, trigger and offsets
 * storage (test/support/deploy-manifests.ts), offline and without AWS credentials: the CloudFormation
 * template holds one function per connector with its own role, the schedules, the event source mappings,
 * the offsets table, least-privilege IAM and the alarms, and osls prints no warning.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iamFindings } from '../../../infra/lib/iam-check.ts';
import { statementsOf } from '../../../infra/lib/shape.ts';
import { offsetsTableSchema } from '../../../src/deploy/offsets-table.ts';
import {
  BUNDLES,
  MSK_CLUSTER_ARN,
  SCRAM_SECRET_ARN,
  writePackageDir,
} from '../../support/deploy-manifests.ts';
import { type CfnTemplate, OslsFailed, type OslsPackage, oslsPackage } from '../../support/osls.ts';

const OSLS_TIMEOUT_MS = 120_000;
let work: string;
let msk: OslsPackage;
let selfManaged: OslsPackage;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'connect-fn-sls-'));
  [msk, selfManaged] = await Promise.all([
    oslsPackage(
      writePackageDir(BUNDLES['msk-every-kind']!.manifests, join(work, 'msk')),
      { mskClusterArn: MSK_CLUSTER_ARN },
      join(work, 'out-msk'),
    ),
    oslsPackage(
      writePackageDir(BUNDLES['self-managed-scram']!.manifests, join(work, 'self-managed')),
      {
        bootstrapServers: 'b-1.kafka.internal:9096,b-2.kafka.internal:9096',
        kafkaSecretArn: SCRAM_SECRET_ARN,
        subnetIds: 'subnet-0a1b2c3d,subnet-4e5f6a7b',
        securityGroupIds: 'sg-0123abcd',
        KAFKA_BROKERS: 'b-1.kafka.internal:9096',
        KAFKA_PASSWORD: 'payments-password',
      },
      join(work, 'out-self-managed'),
    ),
  ]);
}, OSLS_TIMEOUT_MS);

afterAll(() => rmSync(work, { recursive: true, force: true }));

type Props = Record<string, unknown>;

function ofType(template: CfnTemplate, type: string): [string, Props][] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => [id, r.Properties ?? {}]);
}

function fn(template: CfnTemplate, name: string): [string, Props] {
  const found = ofType(template, 'AWS::Lambda::Function').find(([, p]) => p.FunctionName === name);
  if (found === undefined) throw new Error(`no function ${name}`);
  return found;
}

/** The logical id a `{"Fn::GetAtt": [id, "Arn"]}` or `{"Fn::Sub": "${id.Arn}"}` points at. */
function target(value: unknown): string {
  const v = value as { 'Fn::GetAtt'?: [string]; 'Fn::Sub'?: string; Ref?: string };
  return v['Fn::GetAtt']?.[0] ?? v.Ref ?? /^\$\{(\w+)\.Arn\}$/.exec(v['Fn::Sub'] ?? '')?.[1] ?? '';
}

function roleStatements(template: CfnTemplate, roleId: string) {
  const policies = (template.Resources[roleId]?.Properties?.Policies ?? []) as { PolicyDocument: unknown }[];
  return policies.flatMap((p) => statementsOf(p.PolicyDocument));
}

describe('osls package of serverless.yml', () => {
  it('packages offline, without credentials and without a warning', () => {
    for (const { output } of [msk, selfManaged]) {
      expect(output).toContain('Service packaged');
      expect(output).not.toMatch(/warn|deprecat/i);
    }
  });

  it(
    "fails with the derivation's message, not a stack trace, when a parameter is missing",
    async () => {
      const failed = await oslsPackage(join(work, 'self-managed'), {}, join(work, 'out-failed')).catch(
        (e: unknown) => e,
      );
      expect(failed).toBeInstanceOf(OslsFailed);
      const { output } = failed as OslsFailed;
      expect(output).toContain(
        'DeployConfigError: connector payments-table is triggered by Kafka (trigger=kafka): give its cluster with --param="mskClusterArn=',
      );
      expect(output).not.toMatch(/^\s+at /m);
    },
    OSLS_TIMEOUT_MS,
  );

  it('makes one nodejs22.x arm64 function per connector, as its manifest says, each with its own role', () => {
    const names = ofType(msk.template, 'AWS::Lambda::Function').map(([, p]) => p.FunctionName);
    expect(names.sort()).toEqual(['lines-source', 'orders-archive', 'orders-datagen', 'orders-to-dynamodb']);
    const [, datagen] = fn(msk.template, 'orders-datagen');
    expect(datagen).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 512,
      Timeout: 60,
      Environment: {
        Variables: { CONNECT_FN_CONNECTOR: 'orders-datagen', NODE_OPTIONS: '--enable-source-maps' },
      },
    });
    expect((datagen.Code as Props).S3Key).toMatch(/\/orders-datagen\.zip$/);
    const roles = ofType(msk.template, 'AWS::Lambda::Function').map(([, p]) => target(p.Role));
    expect(new Set(roles).size).toBe(4);
    for (const role of roles) expect(msk.template.Resources[role]?.Type).toBe('AWS::IAM::Role');
    expect(msk.template.Resources.IamRoleLambdaExecution).toBeUndefined();
  });

  it('sets the variables the bundle reads from the parameters, and places the function in the VPC', () => {
    const [, payments] = fn(selfManaged.template, 'payments-table');
    expect((payments.Environment as { Variables: Props }).Variables).toEqual({
      CONNECT_FN_CONNECTOR: 'payments-table',
      NODE_OPTIONS: '--enable-source-maps',
      KAFKA_BROKERS: 'b-1.kafka.internal:9096',
      KAFKA_PASSWORD: 'payments-password',
    });
    expect(payments.VpcConfig).toEqual({
      SubnetIds: ['subnet-0a1b2c3d', 'subnet-4e5f6a7b'],
      SecurityGroupIds: ['sg-0123abcd'],
    });
  });

  it('schedules each task of a scheduled connector on EventBridge Scheduler, through a role that may invoke that function only', () => {
    const schedules = ofType(msk.template, 'AWS::Scheduler::Schedule');
    const byFunction = (name: string) => {
      const [id] = fn(msk.template, name);
      return schedules.filter(([, p]) => target((p.Target as Props).Arn) === id).map(([, p]) => p);
    };
    const datagen = byFunction('orders-datagen');
    expect(datagen.map((p) => (p.Target as Props).Input).sort()).toEqual(['{"task":0}', '{"task":1}']);
    expect(datagen.map((p) => p.Name).sort()).toEqual(['orders-datagen-task-0', 'orders-datagen-task-1']);
    for (const p of datagen) {
      expect(p).toMatchObject({
        ScheduleExpression: 'rate(1 minute)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { RetryPolicy: { MaximumRetryAttempts: 0 } },
      });
      const role = target((p.Target as Props).RoleArn);
      expect(roleStatements(msk.template, role)).toEqual([
        {
          Sid: 'Invoke',
          Effect: 'Allow',
          Action: ['lambda:InvokeFunction'],
          Resource: [
            {
              'Fn::Sub':
                'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:orders-datagen',
            },
          ],
        },
      ]);
    }
    expect(byFunction('orders-to-dynamodb').map((p) => p.ScheduleExpression)).toEqual([
      'cron(0/10 * * * ? *)',
    ]);
    expect(byFunction('lines-source')).toHaveLength(1);
    expect(byFunction('orders-archive')).toHaveLength(0);
    expect(schedules).toHaveLength(4);
    expect(ofType(msk.template, 'AWS::Events::Rule')).toHaveLength(0);
  });

  it("turns off Lambda's own retries of the scheduled (asynchronous) invocations: the next tick is the retry", () => {
    const configs = ofType(msk.template, 'AWS::Lambda::EventInvokeConfig').map(([, p]) => p);
    const scheduled = ['lines-source', 'orders-datagen', 'orders-to-dynamodb'];
    expect(configs.map((p) => target(p.FunctionName)).sort()).toEqual(
      scheduled.map((n) => fn(msk.template, n)[0]).sort(),
    );
    for (const p of configs) expect(p).toMatchObject({ MaximumRetryAttempts: 0, Qualifier: '$LATEST' });
  });

  it('maps a triggered sink to its MSK topic as group connect-<name>, with partial batch responses', () => {
    const mappings = ofType(msk.template, 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.[1]).toEqual({
      FunctionName: { Ref: fn(msk.template, 'orders-archive')[0] },
      EventSourceArn: MSK_CLUSTER_ARN,
      Topics: ['orders'],
      BatchSize: 500,
      StartingPosition: 'TRIM_HORIZON',
      AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: 'connect-orders-archive' },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('maps a triggered sink on self-managed Kafka with its SCRAM secret and VPC', () => {
    const [[, mapping] = ['', {}]] = ofType(selfManaged.template, 'AWS::Lambda::EventSourceMapping');
    expect(mapping).toMatchObject({
      Topics: ['payments'],
      BatchSize: 100,
      StartingPosition: 'LATEST',
      SelfManagedEventSource: {
        Endpoints: { KafkaBootstrapServers: ['b-1.kafka.internal:9096', 'b-2.kafka.internal:9096'] },
      },
      SelfManagedKafkaEventSourceConfig: { ConsumerGroupId: 'connect-payments-table' },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(mapping.SourceAccessConfigurations).toEqual([
      { Type: 'SASL_SCRAM_512_AUTH', URI: SCRAM_SECRET_ARN },
      { Type: 'VPC_SUBNET', URI: 'subnet:subnet-0a1b2c3d' },
      { Type: 'VPC_SUBNET', URI: 'subnet:subnet-4e5f6a7b' },
      { Type: 'VPC_SECURITY_GROUP', URI: 'security_group:sg-0123abcd' },
    ]);
    const role = target(fn(selfManaged.template, 'payments-table')[1].Role);
    expect(roleStatements(selfManaged.template, role)).toContainEqual({
      Sid: 'MappingSecret',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [SCRAM_SECRET_ARN],
    });
  });

  it('makes the offsets table once for the connectors that share it, keyed pk/sk, on demand, recoverable and protected', () => {
    const tables = Object.values(msk.template.Resources).filter((r) => r.Type === 'AWS::DynamoDB::Table');
    expect(tables).toEqual([
      {
        Type: 'AWS::DynamoDB::Table',
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: {
          ...offsetsTableSchema('connect-fn-offsets'),
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        },
      },
    ]);
    expect(ofType(selfManaged.template, 'AWS::DynamoDB::Table')).toHaveLength(0);
  });

  it('grants each function its own tables, topics and transactional ids, and only its own log group', () => {
    const statements = (name: string) => roleStatements(msk.template, target(fn(msk.template, name)[1].Role));
    const cluster = 'prod-kafka/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d-2';
    const kafka = 'arn:aws:kafka:eu-west-1:123456789012';
    expect(statements('orders-datagen')).toContainEqual({
      Sid: 'kafkacluster3',
      Effect: 'Allow',
      Action: ['kafka-cluster:DescribeTransactionalId', 'kafka-cluster:AlterTransactionalId'],
      Resource: [`${kafka}:transactional-id/${cluster}/connect-fn-orders-datagen-*`],
    });
    expect(statements('orders-archive')).toContainEqual({
      Sid: 'kafkacluster2',
      Effect: 'Allow',
      Action: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
      Resource: [`${kafka}:group/${cluster}/connect-orders-archive`],
    });
    expect(statements('lines-source')).toContainEqual({
      Sid: 'dynamodb2',
      Effect: 'Allow',
      Action: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
      ],
      Resource: [
        {
          'Fn::Sub':
            'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/connect-fn-offsets',
        },
      ],
    });
    expect(statements('orders-datagen')).toContainEqual({
      Sid: 'Logs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: [
        {
          'Fn::Sub':
            'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/orders-datagen:*',
        },
      ],
    });
    const grantsOn = (name: string) => JSON.stringify(statements(name));
    expect(grantsOn('orders-datagen')).not.toContain('table/');
    expect(grantsOn('lines-source')).not.toContain('transactional-id/');
    expect(grantsOn('orders-to-dynamodb')).not.toContain('table/orders-archive');
  });

  it('has no wildcard action and no "*" resource but the EC2 Describe actions AWS cannot scope', () => {
    // iamFindings is the CDK templates' check too (template-lint.test.ts shows it finds what it must).
    for (const { template } of [msk, selfManaged]) expect(iamFindings(template)).toEqual([]);
  });

  it('alarms on errors, throttles and stopReason=error for every function, and keeps its logs 30 days', () => {
    const alarms = ofType(msk.template, 'AWS::CloudWatch::Alarm').map(([, p]) => p);
    for (const name of ['orders-datagen', 'lines-source', 'orders-to-dynamodb', 'orders-archive']) {
      const lambdaMetrics = alarms
        .filter(
          (p) => JSON.stringify(p.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: name }]),
        )
        .map((p) => `${p.Namespace}/${p.MetricName}`);
      expect(lambdaMetrics.sort()).toEqual(['AWS/Lambda/Errors', 'AWS/Lambda/Throttles']);
      expect(alarms.filter((p) => p.MetricName === `${name}-stopReason-error`)).toEqual([
        expect.objectContaining({
          AlarmName: `${name}-stopreason-error`,
          Namespace: 'connect-fn',
          Dimensions: [],
        }),
      ]);
      expect(alarms.filter((p) => String(p.AlarmName).startsWith(`${name}-`))).toHaveLength(3);
    }
    const filters = ofType(msk.template, 'AWS::Logs::MetricFilter').map(([, p]) => p);
    expect(filters).toHaveLength(4);
    for (const f of filters) {
      expect(f.FilterPattern).toBe('{ $.stopReason = "error" }');
      expect(msk.template.Resources[target(f.LogGroupName)]?.Properties?.RetentionInDays).toBe(30);
    }
  });
});
