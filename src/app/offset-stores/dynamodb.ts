/**
 * `offset.storage=dynamodb`: offsets and leases in the table `offset.storage.table`.
 * @module
 */

import { DynamoDbOffsetStore } from '../../offsets/dynamodb-store.ts';
import { dynamoDbClient } from '../../offsets/dynamodb-table.ts';
import type { OpenOffsetStore } from '../offset-store.ts';

export const openDynamoDbOffsetStore: OpenOffsetStore = async (bundle, _kafka, options) => {
  const w = bundle.worker.values;
  const client = dynamoDbClient(w['aws.region'], w['dynamodb.endpoint'], options.env ?? process.env);
  const table = w['offset.storage.table'];
  const store = new DynamoDbOffsetStore({ client, table, createIfMissing: options.createTable ?? false });
  return { store, close: async () => client.destroy() };
};
