/**
 * ARNs of what a connector touches, as CloudFormation `Fn::Sub` templates over the stack's own partition,
 * region and account (`arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders`), and
 * MSK ARNs derived from the cluster ARN the user gives. Pure TypeScript (no aws-cdk-lib): the CDK construct
 * and the Serverless derivation both build their IAM from these strings, so both templates hold the same
 * ARNs byte for byte.
 * @module
 */

import { DeployConfigError } from './errors.ts';

/** A string that is a `Fn::Sub` template when it holds `${...}`, a literal otherwise. */
export type ArnTemplate = string;

const HERE = '${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}';

function arn(service: string, resource: string): ArnTemplate {
  return `arn:${HERE.replace('%s', service)}:${resource}`;
}

export function dynamodbTableArn(table: string): ArnTemplate {
  return arn('dynamodb', `table/${table}`);
}

/** Every stream of the table (a stream's ARN ends in its creation time, unknown before deployment). */
export function dynamodbStreamArn(table: string): ArnTemplate {
  return arn('dynamodb', `table/${table}/stream/*`);
}

export function lambdaFunctionArn(functionName: string): ArnTemplate {
  return arn('lambda', `function:${functionName}`);
}

/** The function's own log group, as CloudWatch Logs' stream-level actions need it (`...:log-group:<name>:*`). */
export function logGroupArn(logGroupName: string): ArnTemplate {
  return arn('logs', `log-group:${logGroupName}:*`);
}

/** EC2 resources of the account and region of one type (`network-interface/*`, `subnet/*`, `security-group/*`). */
export function ec2Arn(resourceType: 'network-interface' | 'subnet' | 'security-group'): ArnTemplate {
  return arn('ec2', `${resourceType}/*`);
}

/** The parts of `arn:<partition>:kafka:<region>:<account>:cluster/<clusterName>/<uuid>`. */
export interface MskCluster {
  readonly arn: string;
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly clusterName: string;
  readonly uuid: string;
}

const MSK_CLUSTER_ARN =
  /^arn:(aws[a-z-]*):kafka:([a-z0-9-]+):(\d{12}):cluster\/([A-Za-z0-9-]+)\/([A-Za-z0-9-]+)$/;

/** Parses an MSK cluster ARN; throws naming `where` (the prop or context key) when it is not one. */
export function parseMskClusterArn(value: string, where: string): MskCluster {
  const m = MSK_CLUSTER_ARN.exec(value);
  if (m === null) {
    throw new DeployConfigError(
      `${where}: expected an MSK cluster ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>), got ${JSON.stringify(value)}`,
    );
  }
  const [, partition, region, account, clusterName, uuid] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  return { arn: value, partition, region, account, clusterName, uuid };
}

/** MSK IAM resource types (`kafka-cluster:*` actions are authorized on these). */
export type MskResource = 'cluster' | 'topic' | 'group' | 'transactional-id';

/**
 * `arn:aws:kafka:<r>:<a>:<type>/<clusterName>/<uuid>/<name>` (the cluster itself is `cluster.arn`); `name`
 * may end in `*`, a prefix the runtime derives names under (`connect-fn-orders-*`).
 */
export function mskArn(cluster: MskCluster, type: Exclude<MskResource, 'cluster'>, name: string): string {
  return `arn:${cluster.partition}:kafka:${cluster.region}:${cluster.account}:${type}/${cluster.clusterName}/${cluster.uuid}/${name}`;
}

/** The CloudFormation value of an ARN template: `{"Fn::Sub": s}` when it has variables, `s` otherwise. */
export function cfnArn(value: ArnTemplate): string | { readonly 'Fn::Sub': string } {
  return value.includes('${') ? { 'Fn::Sub': value } : value;
}
