/**
 * Least-privilege IAM, one role per function (osls' default role is shared by every function of a service,
 * which would give each connector the others' tables and topics). A connector's role holds, in this order:
 *
 * 1. writing its own log group (`Logs`);
 * 2. the manifest's permissions, each one statement on the ARNs of the tables, topics, groups and
 *    transactional ids it names (`dynamodb0`, `kafkacluster1`, ...: service and index);
 * 3. what its event source mapping needs of the role: the MSK cluster's brokers (`MskMappingCluster`), the
 *    SASL secret it logs in with (`MappingSecret`) and that secret's KMS key (`MappingSecretKey`);
 * 4. network interfaces, when the function sits in a VPC or its mapping polls from one
 *    (`NetworkInterfaces`, `NetworkDescribe`).
 *
 * No action has a wildcard; `Resource: "*"` appears only for the EC2 Describe actions of
 * {@link STAR_RESOURCE_ACTIONS}, which have no resource-level permissions. The CDK app grants the same.
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
  readonly Sid: string;
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
  'ec2:DescribeNetworkInterfaces':
    'no resource-level permissions; Lambda (VPC, Kafka mapping) finds its ENIs',
  'ec2:DescribeSubnets': 'no resource-level permissions; Lambda (VPC, Kafka mapping) reads the subnets',
  'ec2:DescribeSecurityGroups': 'no resource-level permissions; a Kafka mapping reads the security groups',
  'ec2:DescribeVpcs': "no resource-level permissions; a Kafka mapping reads the cluster's VPC",
};

/** What a function's role must allow beyond the manifest, decided by its trigger and the deployment. */
export interface InfrastructureNeeds {
  readonly logGroupName: string;
  /** The function runs in a VPC: Lambda manages its network interfaces with the function's role. */
  readonly inVpc: boolean;
  /** The event source mapping makes network interfaces (MSK always; self-managed Kafka in a VPC). */
  readonly mappingNetworkInterfaces: boolean;
  /** An MSK event source mapping reads the cluster's brokers. */
  readonly mskMapping: MskCluster | null;
  /** The SASL secret an event source mapping logs in with, and its customer managed KMS key. */
  readonly mappingSecretArn: string | null;
  readonly mappingSecretKeyArn: string | null;
}

/** The execution role of `connector`'s function. */
export function executionRole(
  connector: string,
  permissions: readonly Permission[],
  cluster: KafkaCluster | null,
  needs: InfrastructureNeeds,
): CfnResource {
  const statements = [
    statement(
      'Logs',
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      [cfnArn(logGroupArn(needs.logGroupName))],
    ),
    ...permissions.map((p, i) => permissionStatement(connector, p, i, cluster)),
    ...mappingStatements(needs),
    ...networkStatements(needs.inVpc, needs.mappingNetworkInterfaces),
  ];
  return role('lambda.amazonaws.com', `connect-fn-${connector}`, statements);
}

/** The role EventBridge Scheduler assumes to invoke `functionId` (that function only). */
export function schedulerRole(connector: string, functionId: string): CfnResource {
  const invoke = statement('Invoke', ['lambda:InvokeFunction'], [getAtt(functionId, 'Arn')]);
  // Only schedules of this account may use the role (the confused-deputy guard AWS documents for Scheduler).
  const condition = { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } };
  return role('scheduler.amazonaws.com', `connect-fn-${connector}-schedule`, [invoke], condition);
}

function statement(Sid: string, Action: readonly string[], Resource: readonly Cfn[] | '*'): Statement {
  return { Sid, Effect: 'Allow', Action, Resource };
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

function permissionStatement(
  connector: string,
  p: Permission,
  index: number,
  cluster: KafkaCluster | null,
): Statement {
  const bad = p.actions.find((a) => a.includes('*') || !a.startsWith(ACTION_PREFIX[p.service]));
  if (bad !== undefined || p.actions.length === 0) {
    throw new DeployConfigError(
      `connector ${connector}: permission "${p.reason}" has ${bad === undefined ? 'no action' : `action ${JSON.stringify(bad)}`}; expected named ${ACTION_PREFIX[p.service]}... actions, no wildcard`,
    );
  }
  const sid = `${p.service.replace(/[^A-Za-z]/g, '')}${index}`;
  return statement(sid, p.actions, permissionResources(connector, p, cluster));
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

/**
 * What the event source mapping does with the function's role besides reading Kafka (which, with MSK
 * IAM, the manifest's permissions already grant): find the MSK cluster's brokers, read the SASL secret.
 */
function mappingStatements(needs: InfrastructureNeeds): Statement[] {
  const statements: Statement[] = [];
  if (needs.mskMapping !== null) {
    const actions = ['kafka:DescribeCluster', 'kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'];
    statements.push(statement('MskMappingCluster', actions, [needs.mskMapping.arn]));
  }
  if (needs.mappingSecretArn !== null) {
    statements.push(statement('MappingSecret', ['secretsmanager:GetSecretValue'], [needs.mappingSecretArn]));
  }
  if (needs.mappingSecretKeyArn !== null) {
    statements.push(statement('MappingSecretKey', ['kms:Decrypt'], [needs.mappingSecretKeyArn]));
  }
  return statements;
}

/**
 * Lambda's network interfaces: created in the account's subnets and security groups and deleted again
 * (a function in a VPC also assigns addresses to them); finding them takes EC2's Describe actions, on "*"
 * because AWS requires it (see {@link STAR_RESOURCE_ACTIONS} for each action's reason).
 */
function networkStatements(inVpc: boolean, mappingNetworkInterfaces: boolean): Statement[] {
  if (!inVpc && !mappingNetworkInterfaces) return [];
  const manage = ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface'];
  if (inVpc) manage.push('ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses');
  const describe = ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'];
  if (mappingNetworkInterfaces) describe.push('ec2:DescribeSecurityGroups', 'ec2:DescribeVpcs');
  const scope = [
    cfnArn(ec2Arn('network-interface')),
    cfnArn(ec2Arn('subnet')),
    cfnArn(ec2Arn('security-group')),
  ];
  return [statement('NetworkInterfaces', manage, scope), statement('NetworkDescribe', describe, '*')];
}
