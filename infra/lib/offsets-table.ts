/**
 * The DynamoDB offsets table as CloudFormation properties (DESIGN.md §4): `pk` (S, hash) = the connector,
 * `sk` (S, range) = the source partition or a lease; on demand; point-in-time recovery; deletion protection.
 * The key schema and billing are `offsetsTableDefinition` of src/offsets/dynamodb-table.ts, which local runs
 * create; infra/ may not import src/offsets/ (it reaches the AWS SDK), so they are written out here and a
 * test (test/unit/infra/plan.test.ts) holds the two equal.
 * @module
 */

export function offsetsTableProperties(tableName: string): Readonly<Record<string, unknown>> {
  return {
    TableName: tableName,
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
  };
}
