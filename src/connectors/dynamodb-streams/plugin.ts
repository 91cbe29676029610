/** The `dynamodb-streams` source connector as a plugin (../plugin.ts). @module */
import type { SourcePlugin } from '../plugin.ts';
import { dynamoDbStreamsDef } from './config.ts';
import { dynamoDbStreamsConnector } from './source-connector.ts';

export const dynamoDbStreamsPlugin: SourcePlugin = {
  kind: 'source',
  def: dynamoDbStreamsDef,
  create: ({ log }) => dynamoDbStreamsConnector({ log }),
};
