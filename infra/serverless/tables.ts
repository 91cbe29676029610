/**
 * The DynamoDB offsets tables of `offset.storage=dynamodb` (DESIGN.md §4): `pk` (S) hash, `sk` (S) range,
 * on-demand, point-in-time recovery, deletion protection, and kept when the stack goes (offsets are what a
 * connector resumes from). One resource per table name: connectors of a bundle usually share one.
 * @module
 */
import type { ConnectorManifest } from '../../src/deploy/manifest.ts';
import { type CfnResource, type CfnResources, offsetsTableId } from './cfn.ts';
import { DeployConfigError } from './errors.ts';

/**
 * The key schema and billing are those of `offsetsTableDefinition` (src/offsets/dynamodb-table.ts, what
 * local runs create; infra/ does not import src/offsets/, and a test holds the two equal).
 */
function offsetsTable(name: string): CfnResource {
  return {
    Type: 'AWS::DynamoDB::Table',
    DeletionPolicy: 'Retain',
    UpdateReplacePolicy: 'Retain',
    Properties: {
      TableName: name,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    },
  };
}

export function offsetsTableResources(manifests: readonly ConnectorManifest[]): CfnResources {
  const resources: CfnResources = {};
  for (const { connector, offsets } of manifests) {
    if (offsets.storage !== 'dynamodb') continue;
    if (offsets.table === null) {
      throw new DeployConfigError(
        `connector ${connector}: offset.storage=dynamodb but the manifest names no table`,
      );
    }
    resources[offsetsTableId(offsets.table)] = offsetsTable(offsets.table);
  }
  return resources;
}
