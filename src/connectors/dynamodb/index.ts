/**
 * The DynamoDB sink connector: its definition (for the registry) and its implementation (for the sink
 * connectors map). See config.ts for the keys, sink-task.ts for the delivery semantics.
 * @module
 */

export { DynamoDbWriteError } from './batch-writer.ts';
export { dynamodbSinkDef, dynamodbSinkKeys } from './config.ts';
export { DynamoDbRecordError } from './item-mapping.ts';
export { type DynamoDbSinkOptions, dynamodbSinkConnector } from './sink-connector.ts';
