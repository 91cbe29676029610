/**
 * The DynamoDB offsets table's key schema and billing (DESIGN.md §4): `pk` (S, hash) = the connector, `sk`
 * (S, range) = the source partition or a lease; on demand. One definition for what local runs create
 * (src/offsets/dynamodb-table.ts) and what both IaC paths deploy (infra/lib/plan.ts adds point-in-time
 * recovery and deletion protection). A pure constant: no AWS SDK.
 * @module
 */

/** The `CreateTable` input (and the `AWS::DynamoDB::Table` properties) of the offsets table `tableName`. */
export interface OffsetsTableSchema {
  TableName: string;
  AttributeDefinitions: { AttributeName: 'pk' | 'sk'; AttributeType: 'S' }[];
  KeySchema: { AttributeName: 'pk' | 'sk'; KeyType: 'HASH' | 'RANGE' }[];
  BillingMode: 'PAY_PER_REQUEST';
}

export function offsetsTableSchema(tableName: string): OffsetsTableSchema {
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
  };
}
