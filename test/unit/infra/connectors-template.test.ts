import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { offsetsTableSchema } from '../../../src/deploy/offsets-table.ts';
import { synthFixture } from '../../support/cdk-synth.ts';
import {
  CLIENT_CERTIFICATE_SECRET_ARN,
  MSK_CLUSTER_ARN,
  ROOT_CA_SECRET_ARN,
  SCRAM_SECRET_ARN,
} from '../../support/deploy-manifests.ts';

const sub = (s: string) => ({ 'Fn::Sub': s });
const fnArn = (name: string) => ({ 'Fn::GetAtt': [Match.stringLikeRegexp(name.replace(/-/g, '')), 'Arn'] });

describe('ConnectFnConnectors on the quickstart bundle', () => {
  const { stack } = synthFixture('quickstart');
  const t = Template.fromStack(stack);

  it('creates one nodejs22.x arm64 function per connector, sized and configured by its manifest', () => {
    t.resourceCountIs('AWS::Lambda::Function', 3);
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'orders',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 1024,
      Timeout: 120,
      Environment: {
        Variables: {
          CONNECT_FN_CONNECTOR: 'orders',
          NODE_OPTIONS: '--enable-source-maps',
          KAFKA_BROKERS: 'broker-1:9092',
        },
      },
      LoggingConfig: { LogGroup: { Ref: Match.anyValue() }, LogFormat: 'Text' },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'orders-changes',
      Environment: {
        Variables: Match.objectEquals({
          CONNECT_FN_CONNECTOR: 'orders-changes',
          NODE_OPTIONS: '--enable-source-maps',
          KAFKA_BROKERS: 'broker-1:9092',
          DYNAMODB_ENDPOINT: 'https://dynamodb.eu-west-1.amazonaws.com',
        }),
      },
    });
  });

  it('schedules every task of a scheduled connector with input {"task":N}, no flexible window, no retry', () => {
    t.resourceCountIs('AWS::Scheduler::Schedule', 4); // orders ×2, orders-table, orders-changes
    for (const task of [0, 1]) {
      t.hasResourceProperties('AWS::Scheduler::Schedule', {
        Name: `orders-task-${task}`,
        ScheduleExpression: 'rate(1 minute)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: fnArn('orders'),
          Input: `{"task":${task}}`,
          RetryPolicy: { MaximumRetryAttempts: 0 },
          RoleArn: Match.anyValue(),
        },
      });
    }
    t.resourceCountIs('AWS::Lambda::EventInvokeConfig', 3);
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 0,
    });
  });

  it("lets each schedule role invoke its own function only, for this account's schedules only", () => {
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
      Policies: [
        {
          PolicyDocument: {
            Statement: [
              {
                Action: ['lambda:InvokeFunction'],
                Resource: [
                  sub('arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:orders'),
                ],
              },
            ],
          },
        },
      ],
    });
  });

  it('creates no table and no mapping when offsets are in Kafka and nothing is triggered', () => {
    t.resourceCountIs('AWS::DynamoDB::Table', 0);
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
  });

  it('grants DynamoDB actions on the named tables and streams only', () => {
    t.hasResourceProperties('AWS::IAM::Role', {
      Policies: [
        {
          PolicyDocument: {
            Statement: Match.arrayWith([
              {
                Sid: 'dynamodbstreams1',
                Effect: 'Allow',
                Action: ['dynamodb:DescribeStream', 'dynamodb:GetShardIterator', 'dynamodb:GetRecords'],
                Resource: [
                  sub(
                    'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders/stream/*',
                  ),
                ],
              },
            ]),
          },
        },
      ],
    });
    t.hasResourceProperties('AWS::IAM::Role', {
      Policies: [
        {
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Resource: [
                  sub(
                    'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/quickstart-eos-offsets',
                  ),
                ],
              }),
            ]),
          },
        },
      ],
    });
  });

  it('keeps logs 30 days by default, writable by the function on its own log group only', () => {
    t.resourceCountIs('AWS::Logs::LogGroup', 3);
    t.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/lambda/orders',
      RetentionInDays: 30,
    });
    t.hasResourceProperties('AWS::IAM::Role', {
      Policies: [
        {
          PolicyDocument: {
            Statement: Match.arrayWith([
              {
                Sid: 'Logs',
                Effect: 'Allow',
                Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                Resource: [
                  sub(
                    'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/orders:*',
                  ),
                ],
              },
            ]),
          },
        },
      ],
    });
  });

  it('alarms on Errors, Throttles and invocation summaries with stopReason=error', () => {
    t.resourceCountIs('AWS::CloudWatch::Alarm', 9);
    for (const metric of ['Errors', 'Throttles']) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `orders-${metric.toLowerCase()}`,
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: [{ Name: 'FunctionName', Value: 'orders' }],
        Statistic: 'Sum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
    t.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ $.stopReason = "error" }',
      MetricTransformations: [
        { MetricNamespace: 'connect-fn', MetricName: 'orders-stopReason-error', MetricValue: '1' },
      ],
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'orders-stopreason-error',
      Namespace: 'connect-fn',
      MetricName: 'orders-stopReason-error',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });
});

describe('ConnectFnConnectors with offsets in DynamoDB', () => {
  const t = Template.fromStack(synthFixture('file-dynamodb').stack);

  it('creates one offsets table per distinct table name: the key schema local runs create (pk/sk strings, on demand), PITR, deletion protection, retained', () => {
    t.resourceCountIs('AWS::DynamoDB::Table', 1);
    t.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        ...offsetsTableSchema('connect-fn-offsets'),
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      },
    });
  });

  it('prefixes function, schedule and log group names, and takes the retention given', () => {
    t.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'prod-lines-a' });
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'prod-lines-b-task-0',
      ScheduleExpression: 'rate(5 minutes)',
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/lambda/prod-lines-a',
      RetentionInDays: 14,
    });
  });
});

describe('ConnectFnConnectors on MSK with IAM', () => {
  const t = Template.fromStack(synthFixture('msk-iam').stack);
  const mskArn = (type: string, name: string) =>
    `arn:aws:kafka:eu-west-1:123456789012:${type}/prod-kafka/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d-2/${name}`;

  it('maps the triggered sink to its topic on the cluster, in group connect-<name>, with partial batch responses', () => {
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: Match.stringLikeRegexp('ordersarchive') },
      EventSourceArn: MSK_CLUSTER_ARN,
      Topics: ['orders'],
      BatchSize: 500,
      StartingPosition: 'TRIM_HORIZON',
      AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: 'connect-orders-archive' },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      SourceAccessConfigurations: Match.absent(),
    });
    // A triggered sink has no schedule and no asynchronous retries to turn off.
    t.resourceCountIs('AWS::Scheduler::Schedule', 1);
    t.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
  });

  it('places the functions in the given subnets and security groups', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'orders-archive',
      VpcConfig: {
        SubnetIds: ['subnet-0a1b2c3d', 'subnet-4e5f6a7b'],
        SecurityGroupIds: ['sg-0123456789abcdef0'],
      },
    });
  });

  it("scopes the manifest's kafka-cluster actions to cluster, topic, group and transactional-id ARNs, and adds what the mapping needs", () => {
    const statements = Match.arrayWith([
      {
        Sid: 'kafkacluster0',
        Effect: 'Allow',
        Action: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
        Resource: [MSK_CLUSTER_ARN],
      },
      {
        Sid: 'kafkacluster3',
        Effect: 'Allow',
        Action: ['kafka-cluster:DescribeTransactionalId', 'kafka-cluster:AlterTransactionalId'],
        Resource: [mskArn('transactional-id', 'connect-fn-orders-*')],
      },
    ]);
    t.hasResourceProperties('AWS::IAM::Role', { Policies: [{ PolicyDocument: { Statement: statements } }] });
    const mapping = Match.arrayWith([
      {
        Sid: 'kafkacluster1',
        Effect: 'Allow',
        Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
        Resource: [mskArn('topic', 'orders')],
      },
      {
        Sid: 'kafkacluster2',
        Effect: 'Allow',
        Action: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
        Resource: [mskArn('group', 'connect-orders-archive')],
      },
      {
        Sid: 'MskMappingCluster',
        Effect: 'Allow',
        Action: ['kafka:DescribeCluster', 'kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'],
        Resource: [MSK_CLUSTER_ARN],
      },
    ]);
    t.hasResourceProperties('AWS::IAM::Role', { Policies: [{ PolicyDocument: { Statement: mapping } }] });
  });
});

describe('ConnectFnConnectors on self-managed Kafka with SASL/SCRAM', () => {
  const t = Template.fromStack(synthFixture('self-managed-scram').stack);

  it('maps the sink to the bootstrap servers with the SCRAM secret, subnets and security groups', () => {
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      SelfManagedEventSource: {
        Endpoints: { KafkaBootstrapServers: ['kafka-1.internal:9096', 'kafka-2.internal:9096'] },
      },
      SelfManagedKafkaEventSourceConfig: { ConsumerGroupId: 'connect-payments-table' },
      EventSourceArn: Match.absent(),
      Topics: ['payments'],
      BatchSize: 100,
      StartingPosition: 'LATEST',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      SourceAccessConfigurations: [
        { Type: 'SASL_SCRAM_512_AUTH', URI: SCRAM_SECRET_ARN },
        { Type: 'VPC_SUBNET', URI: 'subnet:subnet-0a1b2c3d' },
        { Type: 'VPC_SUBNET', URI: 'subnet:subnet-4e5f6a7b' },
        { Type: 'VPC_SECURITY_GROUP', URI: 'security_group:sg-0123456789abcdef0' },
      ],
    });
  });

  it('lets the function role read that secret only', () => {
    t.hasResourceProperties('AWS::IAM::Role', {
      Policies: [
        {
          PolicyDocument: {
            Statement: Match.arrayWith([
              {
                Sid: 'MappingSecret',
                Effect: 'Allow',
                Action: ['secretsmanager:GetSecretValue'],
                Resource: [SCRAM_SECRET_ARN],
              },
            ]),
          },
        },
      ],
    });
  });

  it('has no schedule', () => {
    t.resourceCountIs('AWS::Scheduler::Schedule', 0);
    t.resourceCountIs('AWS::Lambda::EventInvokeConfig', 0);
    expect(t.findResources('AWS::Lambda::Function')).not.toEqual({});
  });
});

describe('ConnectFnConnectors on self-managed Kafka with mTLS and a private CA', () => {
  const t = Template.fromStack(synthFixture('self-managed-mtls').stack);

  it('maps the sink with the client certificate and root CA secrets', () => {
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      SelfManagedEventSource: { Endpoints: { KafkaBootstrapServers: ['kafka-1.internal:9094'] } },
      SourceAccessConfigurations: [
        { Type: 'CLIENT_CERTIFICATE_TLS_AUTH', URI: CLIENT_CERTIFICATE_SECRET_ARN },
        { Type: 'SERVER_ROOT_CA_CERTIFICATE', URI: ROOT_CA_SECRET_ARN },
      ],
    });
  });

  it('lets the function role read those two secrets only, with no KMS key', () => {
    t.hasResourceProperties('AWS::IAM::Role', {
      Policies: [
        {
          PolicyDocument: {
            Statement: Match.arrayWith([
              {
                Sid: 'MappingSecret',
                Effect: 'Allow',
                Action: ['secretsmanager:GetSecretValue'],
                Resource: [CLIENT_CERTIFICATE_SECRET_ARN, ROOT_CA_SECRET_ARN],
              },
            ]),
          },
        },
      ],
    });
    const statements = JSON.stringify(t.findResources('AWS::IAM::Role'));
    expect(statements).not.toContain('kms:Decrypt');
  });
});
