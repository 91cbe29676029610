/** The `dynamodb-sink` connector as a plugin (../plugin.ts). @module */
import type { SinkPlugin } from '../plugin.ts';
import { dynamodbSinkDef } from './config.ts';
import { dynamodbSinkConnector } from './sink-connector.ts';

export const dynamodbSinkPlugin: SinkPlugin = {
  kind: 'sink',
  def: dynamodbSinkDef,
  create: ({ log }) => dynamodbSinkConnector({ log }),
};
