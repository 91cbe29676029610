/**
 * Least-privilege IAM of one connector's function, from its manifest's permissions and what AWS requires
 * of a function in a VPC and of a Kafka event source mapping. Every statement names its resources; the
 * only `Resource: "*"` statements hold the actions of {@link WILDCARD_RESOURCE_ACTIONS}, which IAM cannot
 * scope. No action holds a wildcard. Pure TypeScript, shared by the CDK construct and the Serverless
 * derivation.
 * @module
 */
import type { ConnectorManifest, Permission } from '../../src/deploy/manifest.ts';
import {
  type ArnTemplate,
  dynamodbStreamArn,
  dynamodbTableArn,
  ec2Arn,
  logGroupArn,
  type MskCluster,
  mskArn,
} from './arns.ts';
import { DeployConfigError } from './errors.ts';
import type { OptionHints } from './options.ts';

/** One `Allow` statement. */
export interface StatementPlan {
  /** Alphanumeric, unique within the function's policy. */
  readonly sid: string;
  readonly actions: readonly string[];
  readonly resources: readonly ArnTemplate[];
}

/**
 * The actions allowed on `"*"`, and why: EC2's Describe actions do not support resource-level permissions
 * (the Service Authorization Reference lists no resource type for them), and Lambda requires them of the
 * execution role of a function in a VPC (DescribeNetworkInterfaces, DescribeSubnets) and of a Kafka event
 * source mapping that reaches its cluster through ENIs (also DescribeVpcs, DescribeSecurityGroups).
 */
export const WILDCARD_RESOURCE_ACTIONS: Readonly<Record<string, string>> = {
  'ec2:DescribeNetworkInterfaces': 'EC2 Describe* has no resource-level permissions; Lambda (VPC, Kafka ESM)',
  'ec2:DescribeSubnets': 'EC2 Describe* has no resource-level permissions; Lambda (VPC, Kafka ESM)',
  'ec2:DescribeVpcs': 'EC2 Describe* has no resource-level permissions; Lambda Kafka ESM',
  'ec2:DescribeSecurityGroups': 'EC2 Describe* has no resource-level permissions; Lambda Kafka ESM',
};

/** Where the function's Kafka event source mapping reads, as far as its role is concerned. */
export interface MappingAccess {
  readonly msk: MskCluster | null;
  /** The secrets the mapping reads: SASL/SCRAM or basic auth, client certificate, root CA. */
  readonly secretArns: readonly string[];
  /** The customer managed key of the SASL secret, if it has one. */
  readonly secretKmsKeyArn: string | null;
  /** Whether the mapping creates ENIs (MSK always; self-managed Kafka in a VPC). */
  readonly networkInterfaces: boolean;
}

export interface RoleInputs {
  readonly manifest: ConnectorManifest;
  readonly logGroupName: string;
  /** The MSK cluster, when the deployment reads one (needed for `kafka-cluster` permissions). */
  readonly msk: MskCluster | null;
  /** The function runs in a VPC (Lambda manages its ENIs with the function's role). */
  readonly inVpc: boolean;
  /** Present for a triggered sink. */
  readonly mapping: MappingAccess | null;
  readonly hints: OptionHints;
}

/** The statements of the function's role, in a stable order. */
export function functionStatements(inputs: RoleInputs): StatementPlan[] {
  const { manifest } = inputs;
  const statements: StatementPlan[] = [
    {
      sid: 'Logs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroupArn(inputs.logGroupName)],
    },
  ];
  manifest.permissions.forEach((permission, i) => {
    statements.push(permissionStatement(manifest.connector, permission, i, inputs));
  });
  const mapping = inputs.mapping;
  if (mapping !== null) statements.push(...mappingStatements(mapping));
  statements.push(...networkStatements(inputs.inVpc, mapping?.networkInterfaces === true));
  return statements;
}

function permissionStatement(
  connector: string,
  permission: Permission,
  index: number,
  { msk, hints }: Pick<RoleInputs, 'msk' | 'hints'>,
): StatementPlan {
  const sid = `${permission.service.replace(/[^A-Za-z]/g, '')}${index}`;
  checkActions(connector, permission);
  switch (permission.service) {
    case 'dynamodb':
      return { sid, actions: permission.actions, resources: permission.tables.map(dynamodbTableArn) };
    case 'dynamodb-streams':
      return { sid, actions: permission.actions, resources: permission.tables.map(dynamodbStreamArn) };
    case 'kafka-cluster': {
      if (msk === null) {
        throw new DeployConfigError(
          `connector ${connector} authenticates to Kafka with MSK IAM (${permission.reason}): give the MSK cluster with ${hints.option('mskClusterArn', 'arn:aws:kafka:...')}`,
        );
      }
      const type = permission.resource;
      const resources =
        type === 'cluster' ? [msk.arn] : permission.names.map((name) => mskArn(msk, type, name));
      return { sid, actions: permission.actions, resources };
    }
  }
}

const SERVICE_PREFIX: Readonly<Record<Permission['service'], string>> = {
  dynamodb: 'dynamodb:',
  'dynamodb-streams': 'dynamodb:',
  'kafka-cluster': 'kafka-cluster:',
};

/** A manifest's actions must be named actions of their service: no wildcard reaches a role. */
function checkActions(connector: string, permission: Permission): void {
  const prefix = SERVICE_PREFIX[permission.service];
  if (permission.actions.length === 0) {
    throw new DeployConfigError(
      `connector ${connector}: permission (${permission.reason}) has no action; expected named ${prefix}* actions`,
    );
  }
  for (const action of permission.actions) {
    if (!action.startsWith(prefix) || action.includes('*') || action.length === prefix.length) {
      throw new DeployConfigError(
        `connector ${connector}: permission ${JSON.stringify(action)} (${permission.reason}) is not a named ${prefix}* action; wildcard actions are refused`,
      );
    }
  }
}

/**
 * What the event source mapping needs of the function's role besides the manifest's permissions (AWS: MSK /
 * self-managed Kafka ESM). With MSK IAM, the mapping's `kafka-cluster` actions on the cluster, the topic and
 * the group are the manifest's: `connect-fn package` lists them, as it lists every Kafka permission.
 */
function mappingStatements(mapping: MappingAccess): StatementPlan[] {
  const statements: StatementPlan[] = [];
  const msk = mapping.msk;
  if (msk !== null) {
    statements.push({
      sid: 'MskMappingCluster',
      actions: ['kafka:DescribeCluster', 'kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'],
      resources: [msk.arn],
    });
  }
  if (mapping.secretArns.length > 0) {
    statements.push({
      sid: 'MappingSecret',
      actions: ['secretsmanager:GetSecretValue'],
      resources: [...mapping.secretArns],
    });
  }
  if (mapping.secretKmsKeyArn !== null) {
    statements.push({
      sid: 'MappingSecretKey',
      actions: ['kms:Decrypt'],
      resources: [mapping.secretKmsKeyArn],
    });
  }
  return statements;
}

/**
 * ENIs: Lambda creates and deletes them with the function's role, for a function in a VPC and for a Kafka
 * event source mapping (in the cluster's subnets). Create/Delete/Assign/Unassign are scoped to the
 * account and region's network interfaces, subnets and security groups; Describe* must be on `"*"`.
 */
function networkStatements(inVpc: boolean, mappingEnis: boolean): StatementPlan[] {
  if (!inVpc && !mappingEnis) return [];
  const manage = ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface'];
  if (inVpc) manage.push('ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses');
  const describe = ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'];
  if (mappingEnis) describe.push('ec2:DescribeSecurityGroups', 'ec2:DescribeVpcs');
  return [
    {
      sid: 'NetworkInterfaces',
      actions: manage,
      resources: [ec2Arn('network-interface'), ec2Arn('subnet'), ec2Arn('security-group')],
    },
    { sid: 'NetworkDescribe', actions: describe, resources: ['*'] },
  ];
}
