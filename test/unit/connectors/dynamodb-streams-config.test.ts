import { describe, expect, it } from 'vitest';
import { loadBundle } from '../../../src/config/bundle.ts';
import { Registry } from '../../../src/config/registry.ts';
import { dynamoDbStreamsDef } from '../../../src/connectors/dynamodb-streams/config.ts';
import {
  dynamoDbStreamsConnector,
  dynamoDbStreamsTaskSettings,
  sdkClientConfig,
} from '../../../src/connectors/dynamodb-streams/source-connector.ts';
import { converterDefs } from '../../../src/data/converter-configs.ts';
import { ConfigInvalidError } from '../../../src/errors.ts';
import { writeBundle } from '../../support/bundle-fixture.ts';

function registry(): Registry {
  const r = new Registry().connector(dynamoDbStreamsDef);
  for (const def of converterDefs) r.converter(def);
  return r.freeze();
}

function load(lines: readonly string[]) {
  const dir = writeBundle({ 'connectors/cdc.properties': ['name=cdc', ...lines].join('\n') });
  return loadBundle(dir, { registry: registry() }).connector('cdc');
}

function problems(lines: readonly string[]): string[] {
  try {
    load(lines);
  } catch (err) {
    if (err instanceof ConfigInvalidError) return err.problems.map((p) => `${p.key}: ${p.expected}`);
    throw err;
  }
  return [];
}

describe('dynamodb-streams: configuration', () => {
  it('validates a minimal config and fills in the defaults', () => {
    const connector = load(['connector.class=dynamodb-streams', 'dynamodb.table=orders']);
    expect(connector.plugin).toBe('dynamodb-streams');
    expect(connector.config).toMatchObject({
      'dynamodb.table': 'orders',
      'topic.format': '${table}',
      'dynamodb.stream.position': 'TRIM_HORIZON',
      'dynamodb.stream.trimmed.policy': 'fail',
      'batch.size': 1000,
    });
    const [config] = dynamoDbStreamsConnector({ api: () => ({}) as never }).taskConfigs(connector.config, 1);
    expect(dynamoDbStreamsTaskSettings(config!)).toMatchObject({
      table: 'orders',
      topic: 'orders',
      taskId: 0,
      taskCount: 1,
    });
  });

  it('accepts every key, a lower-case position and a stream ARN of the same table', () => {
    const arn = 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000';
    const connector = load([
      'connector.class=DynamoDbStreamsSource',
      'dynamodb.table=orders',
      `dynamodb.stream.arn=${arn}`,
      'aws.region=eu-west-1',
      'dynamodb.service.endpoint=http://localhost:8000',
      'topic.format=cdc.${table}.v1',
      'dynamodb.stream.position=latest',
      'dynamodb.stream.trimmed.policy=trim_horizon',
      'batch.size=250',
      'tasks.max=4',
    ]);
    const configs = dynamoDbStreamsConnector({ api: () => ({}) as never }).taskConfigs(connector.config, 4);
    expect(configs.map((c) => [c['task.id'], c['task.count']])).toEqual([
      [0, 4],
      [1, 4],
      [2, 4],
      [3, 4],
    ]);
    expect(dynamoDbStreamsTaskSettings(configs[2]!)).toEqual({
      table: 'orders',
      streamArn: arn,
      topic: 'cdc.orders.v1',
      position: 'LATEST',
      trimmedPolicy: 'trim_horizon',
      batchSize: 250,
      taskId: 2,
      taskCount: 4,
    });
  });

  it('names what is wrong', () => {
    expect(problems(['connector.class=dynamodb-streams'])).toEqual([
      expect.stringMatching(/^dynamodb.table: set/),
    ]);
    expect(
      problems([
        'connector.class=dynamodb-streams',
        'dynamodb.table=orders',
        'dynamodb.stream.arn=arn:aws:dynamodb:eu-west-1:1:table/other/stream/x',
      ]),
    ).toEqual(['dynamodb.stream.arn: a stream of table orders']);
    expect(
      problems(['connector.class=dynamodb-streams', 'dynamodb.table=orders', 'topic.format=a b']),
    ).toHaveLength(1);
    expect(
      problems(['connector.class=dynamodb-streams', 'dynamodb.table=orders', 'batch.size=1001']),
    ).toHaveLength(1);
    expect(
      problems([
        'connector.class=dynamodb-streams',
        'dynamodb.table=orders',
        'dynamodb.stream.position=AT_TIMESTAMP',
      ]),
    ).toHaveLength(1);
    expect(
      problems([
        'connector.class=dynamodb-streams',
        `dynamodb.table=${'t'.repeat(240)}`,
        'topic.format=cdc.${table}.changes',
      ]),
    ).toEqual([expect.stringMatching(/^topic.format: a Kafka topic name/)]);
  });

  it('gives DynamoDB Local dummy credentials and a region, and leaves AWS to the SDK chain', () => {
    expect(sdkClientConfig({ region: undefined, endpoint: 'http://127.0.0.1:8000' }, {})).toEqual({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:8000',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    expect(sdkClientConfig({ region: undefined, endpoint: undefined }, { AWS_REGION: 'eu-west-1' })).toEqual({
      region: 'eu-west-1',
    });
    expect(
      sdkClientConfig({ region: 'eu-west-2', endpoint: 'http://x:1' }, { AWS_ACCESS_KEY_ID: 'AKIA' }),
    ).toEqual({ region: 'eu-west-2', endpoint: 'http://x:1' });
  });
});
