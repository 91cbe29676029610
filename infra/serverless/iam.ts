/**
 * Least-privilege IAM, one role per function (osls' default role is shared by every function of a service,
 * which would give each connector the others' tables and topics). A connector's role holds:
 *
 * 1. the manifest's permissions, each one statement on the ARNs of the tables, topics, groups and
 *    transactional ids it names;
 * 2. writing its own log group;
 * 3. what Lambda needs for the infrastructure around it: network interfaces when the function sits in a VPC
 *    or an event source mapping polls a cluster in one, the MSK cluster's brokers for an MSK mapping, the
 *    SASL secret a mapping logs in with.
 *
 * No action has a wildcard; `Resource: "*"` appears only for the EC2 Describe actions of
 * {@link STAR_RESOURCE_ACTIONS}, which have no resource-level permissions.
 * @module
 */
import type { Permission } from '../../src/deploy/manifest.ts';
import {
  cfnArn,
  dynamodbStreamArn,
  dynamodbTableArn,
  ec2Arn,
  logGroupArn,
  type MskCluster,
  mskArn,
} from './arns.ts';
import { type Cfn, type CfnResource, getAtt } from './cfn.ts';
import { DeployConfigError } from './errors.ts';
import type { KafkaCluster } from './settings.ts';

/** A type, not an interface: it is then a {@link Cfn} object as it is. */
export type Statement = {
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: readonly Cfn[] | '*';
};

/**
 * The only actions granted on `Resource: "*"`, and why: EC2's Describe* calls cannot be scoped to a
 * resource (the Service Authorization Reference lists no resource type for them). Lambda calls them to
 * place a function's network interfaces, and an event source mapping to reach its cluster's subnets.
 */
export const STAR_RESOURCE_ACTIONS: Readonly<Record<string, string>> = {
  'ec2:DescribeNetworkInterfaces': 'no resource-level permissions; Lambda finds the interfaces it made',
  'ec2:DescribeSubnets': 'no resource-level permissions; Lambda and the mapping read the subnets',
  'ec2:DescribeSecurityGroups': 'no resource-level permissions; the mapping reads the security groups',
  'ec2:DescribeVpcs': 'no resource-level permissions; the mapping reads the VPC of the cluster',
};

/** What a function's role must allow beyond the manifest, decided by its trigger and the deployment. */
export interface InfrastructureNeeds {
  readonly logGroupName: string;
  /** The function or its event source mapping makes network interfaces in a VPC. */
  readonly networkInterfaces: boolean;
  /** An MSK event source mapping reads the cluster's brokers. */
  readonly mskMapping: MskCluster | null;
  /** The SASL secret an event source mapping logs in with. */
  readonly mappingSecretArn: string | null;
}

/** The execution role of `connector`'s function. */
export function executionRole(
  connector: string,
  permissions: readonly Permission[],
  cluster: KafkaCluster | null,
  needs: InfrastructureNeeds,
): CfnResource {
  const statements = [
    ...permissions.map((p) => permissionStatement(connector, p, cluster)),
    ...infrastructureStatements(needs),
  ];
  return role('lambda.amazonaws.com', `connect-fn-${connector}`, statements);
}

/** The role EventBridge Scheduler assumes to invoke `functionId` (that function only). */
export function schedulerRole(connector: string, functionId: string): CfnResource {
  const invoke: Statement = {
    Effect: 'Allow',
    Action: ['lambda:InvokeFunction'],
    Resource: [getAtt(functionId, 'Arn')],
  };
  // Only schedules of this account may use the role (the confused-deputy guard AWS documents for Scheduler).
  const condition = { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } };
  return role('scheduler.amazonaws.com', `connect-fn-${connector}-schedule`, [invoke], condition);
}

function role(
  service: string,
  policyName: string,
  statements: readonly Statement[],
  condition?: Cfn,
): CfnResource {
  const trust = { Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' };
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [condition === undefined ? trust : { ...trust, Condition: condition }],
      },
      Policies: [
        { PolicyName: policyName, PolicyDocument: { Version: '2012-10-17', Statement: statements } },
      ],
    },
  };
}

const ACTION_PREFIX: Readonly<Record<Permission['service'], string>> = {
  dynamodb: 'dynamodb:',
  'dynamodb-streams': 'dynamodb:',
  'kafka-cluster': 'kafka-cluster:',
};

function permissionStatement(connector: string, p: Permission, cluster: KafkaCluster | null): Statement {
  const bad = p.actions.find((a) => a.includes('*') || !a.startsWith(ACTION_PREFIX[p.service]));
  if (bad !== undefined || p.actions.length === 0) {
    throw new DeployConfigError(
      `connector ${connector}: permission "${p.reason}" has ${bad === undefined ? 'no action' : `action ${JSON.stringify(bad)}`}; expected named ${ACTION_PREFIX[p.service]}... actions, no wildcard`,
    );
  }
  return { Effect: 'Allow', Action: [...p.actions], Resource: permissionResources(connector, p, cluster) };
}

function permissionResources(connector: string, p: Permission, cluster: KafkaCluster | null): Cfn[] {
  switch (p.service) {
    case 'dynamodb':
      return p.tables.map((t) => cfnArn(dynamodbTableArn(t)));
    case 'dynamodb-streams':
      return p.tables.map((t) => cfnArn(dynamodbStreamArn(t)));
    case 'kafka-cluster': {
      if (cluster?.kind !== 'msk') {
        throw new DeployConfigError(
          `connector ${connector} authenticates to Kafka with MSK IAM ("${p.reason}"): give the cluster with --param="mskClusterArn=arn:aws:kafka:..."`,
        );
      }
      if (p.resource === 'cluster') return [cluster.msk.arn];
      return p.names.map((name) => mskArn(cluster.msk, p.resource, name));
    }
  }
}

function infrastructureStatements(needs: InfrastructureNeeds): Statement[] {
  const statements: Statement[] = [
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: [cfnArn(logGroupArn(needs.logGroupName))],
    },
  ];
  if (needs.networkInterfaces) statements.push(...networkInterfaceStatements());
  if (needs.mskMapping !== null) {
    statements.push({
      Effect: 'Allow',
      Action: ['kafka:DescribeCluster', 'kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'],
      Resource: [needs.mskMapping.arn],
    });
  }
  if (needs.mappingSecretArn !== null) {
    statements.push({
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [needs.mappingSecretArn],
    });
  }
  return statements;
}

/** Lambda's network interfaces: made in the account's subnets and security groups, then used and removed. */
function networkInterfaceStatements(): Statement[] {
  const eni = cfnArn(ec2Arn('network-interface'));
  return [
    {
      Effect: 'Allow',
      Action: ['ec2:CreateNetworkInterface'],
      Resource: [eni, cfnArn(ec2Arn('subnet')), cfnArn(ec2Arn('security-group'))],
    },
    {
      Effect: 'Allow',
      Action: [
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      Resource: [eni],
    },
    // "*" because AWS requires it: see STAR_RESOURCE_ACTIONS for each action's reason.
    { Effect: 'Allow', Action: Object.keys(STAR_RESOURCE_ACTIONS), Resource: '*' },
  ];
}
