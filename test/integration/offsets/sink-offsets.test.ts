/**
 * Sink offsets in the DynamoDB offset store against a real DynamoDB Local: the items of DESIGN.md §4
 * (Connect's REST shape), byte for byte, and the lease fencing a zombie invocation.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FencedError } from '../../../src/errors.ts';
import { DynamoDbOffsetStore } from '../../../src/offsets/dynamodb-store.ts';
import { sinkOffsetsIn } from '../../../src/offsets/sink-offsets.ts';
import type { SinkOffsetStore } from '../../../src/runtime/ports.ts';
import { localAws, stackEnv } from '../../stack/env.ts';

describe('sink offsets in the dynamodb store on DynamoDB Local', () => {
  let client: DynamoDBClient;
  const table = `sink-offsets-${randomUUID()}`;
  let sinkOffsets: SinkOffsetStore;

  beforeAll(() => {
    client = new DynamoDBClient({ ...localAws, endpoint: stackEnv().dynamodbEndpoint });
    sinkOffsets = sinkOffsetsIn(new DynamoDbOffsetStore({ client, table, createIfMissing: true }));
  });

  afterAll(() => client?.destroy());

  /** Every offset item of `connector` (lease items left out), as pk / sk / offset strings. */
  async function offsetItems(connector: string) {
    const { Items = [] } = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: connector } },
        ConsistentRead: true,
      }),
    );
    return Items.filter((item) => !item.sk?.S?.startsWith('#lease#')).map((item) => ({
      pk: item.pk?.S,
      sk: item.sk?.S,
      offset: item.offset?.S,
    }));
  }

  it("stores each topic partition as an item in Connect's REST shape, byte for byte", async () => {
    // Prepare
    const session = await sinkOffsets.open('s3-sink', 0);
    // Act
    await session.commit([
      { topic: 't', partition: 0, offset: 42 },
      { topic: 't', partition: 1, offset: 0 },
      { topic: 'orders.v2', partition: 12, offset: 9_007_199_254_740_991 },
    ]);
    await session.close();
    // Assess
    const items = await offsetItems('s3-sink');
    expect(items.sort((a, b) => (a.sk! < b.sk! ? -1 : 1))).toEqual([
      {
        pk: 's3-sink',
        sk: '{"kafka_topic":"orders.v2","kafka_partition":12}',
        offset: '{"kafka_offset":9007199254740991}',
      },
      { pk: 's3-sink', sk: '{"kafka_topic":"t","kafka_partition":0}', offset: '{"kafka_offset":42}' },
      { pk: 's3-sink', sk: '{"kafka_topic":"t","kafka_partition":1}', offset: '{"kafka_offset":0}' },
    ]);
  });

  it('reads the next offsets back in the next session, undefined where none was committed', async () => {
    const first = await sinkOffsets.open('reader', 0);
    await first.commit([{ topic: 't', partition: 3, offset: 17 }]);
    await first.close();

    const next = await sinkOffsets.open('reader', 0);
    const read = await next.read([
      { topic: 't', partition: 4 },
      { topic: 't', partition: 3 },
    ]);
    await next.close();

    expect(read).toEqual([undefined, 17]);
  });

  it('fences a zombie invocation: its commit throws FencedError and writes nothing', async () => {
    // Prepare: an invocation that committed once, then a newer one of the same task takes the lease
    const zombie = await sinkOffsets.open('takeover', 0);
    await zombie.commit([{ topic: 't', partition: 0, offset: 100 }]);
    const current = await sinkOffsets.open('takeover', 0);
    // Act
    const zombieCommit = await zombie
      .commit([{ topic: 't', partition: 0, offset: 999 }])
      .catch((e: unknown) => e);
    const afterZombie = await offsetItems('takeover');
    const seenByCurrent = await current.read([{ topic: 't', partition: 0 }]);
    await current.commit([{ topic: 't', partition: 0, offset: 150 }]);
    // Assess
    expect(zombieCommit).toBeInstanceOf(FencedError);
    expect(afterZombie.map((item) => item.offset)).toEqual(['{"kafka_offset":100}']);
    expect(seenByCurrent).toEqual([100]);
    expect(await offsetItems('takeover')).toEqual([
      { pk: 'takeover', sk: '{"kafka_topic":"t","kafka_partition":0}', offset: '{"kafka_offset":150}' },
    ]);
    await zombie.close(); // a lost lease is left alone
    await current.close();
  });
});
