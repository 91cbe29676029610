/**
 * ARNs of what a connector touches, as `Fn::Sub` templates over the stack's own partition, region and
 * account (`arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders`), and the MSK
 * ARNs derived from the cluster ARN the deployment names. The CDK app builds the same strings, so that both
 * templates grant the same resources.
 * @module
 */
import { DeployConfigError } from './errors.ts';

/** A string that is a `Fn::Sub` template when it holds `${...}`. */
export type ArnTemplate = string;

function accountArn(service: string, resource: string): ArnTemplate {
  return `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${resource}`;
}

export function dynamodbTableArn(table: string): ArnTemplate {
  return accountArn('dynamodb', `table/${table}`);
}

/** Every stream of the table: a stream's ARN ends in its creation time, unknown before deployment. */
export function dynamodbStreamArn(table: string): ArnTemplate {
  return accountArn('dynamodb', `table/${table}/stream/*`);
}

/** A log group and its streams, as CreateLogStream and PutLogEvents are authorised. */
export function logGroupArn(logGroupName: string): ArnTemplate {
  return accountArn('logs', `log-group:${logGroupName}:*`);
}

/** EC2 resources of one type in the stack's account and region (network interfaces Lambda creates). */
export function ec2Arn(resourceType: 'network-interface' | 'subnet' | 'security-group'): ArnTemplate {
  return accountArn('ec2', `${resourceType}/*`);
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

/** Parses an MSK cluster ARN; throws naming `where` (the parameter) when it is not one. */
export function parseMskClusterArn(value: string, where: string): MskCluster {
  const m = MSK_CLUSTER_ARN.exec(value);
  if (m === null) {
    throw new DeployConfigError(
      `${where}: expected an MSK cluster ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>), got ${JSON.stringify(value)}`,
    );
  }
  const [, partition = '', region = '', account = '', clusterName = '', uuid = ''] = m;
  return { arn: value, partition, region, account, clusterName, uuid };
}

/** MSK IAM resource types (`kafka-cluster:*` actions are authorised on these). */
export type MskResource = 'cluster' | 'topic' | 'group' | 'transactional-id';

/** `arn:aws:kafka:<region>:<account>:<type>/<clusterName>/<uuid>/<name>`; `name` may end in `*` (a prefix). */
export function mskArn(cluster: MskCluster, type: MskResource, name: string): string {
  if (type === 'cluster') return cluster.arn;
  return `arn:${cluster.partition}:kafka:${cluster.region}:${cluster.account}:${type}/${cluster.clusterName}/${cluster.uuid}/${name}`;
}

/** The CloudFormation value of an ARN template: `{"Fn::Sub": s}` when it has variables, `s` otherwise. */
export function cfnArn(value: ArnTemplate): string | { readonly 'Fn::Sub': string } {
  return value.includes('${') ? { 'Fn::Sub': value } : value;
}
