/**
 * The DynamoDB offset store against a real DynamoDB Local: the table layout of DESIGN.md §4, the lease,
 * and fencing of a session whose lease was taken over.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FencedError } from '../../../src/errors.ts';
import { encodeKey } from '../../../src/offsets/connect-format.ts';
import { DynamoDbOffsetStore } from '../../../src/offsets/dynamodb-store.ts';
import { ensureOffsetsTable } from '../../../src/offsets/dynamodb-table.ts';
import { OffsetStorageError } from '../../../src/offsets/errors.ts';
import { localAws, stackEnv } from '../../stack/env.ts';

const FILE = { filename: '/data/in.txt' };

describe('dynamodb offset store on DynamoDB Local', () => {
  let client: DynamoDBClient;
  const table = `offsets-${randomUUID()}`;
  let store: DynamoDbOffsetStore;

  beforeAll(async () => {
    client = new DynamoDBClient({ ...localAws, endpoint: stackEnv().dynamodbEndpoint });
    store = new DynamoDbOffsetStore({ client, table, createIfMissing: true });
  });

  afterAll(() => client?.destroy());

  async function item(connector: string, sk: string) {
    const { Item } = await client.send(
      new GetItemCommand({
        TableName: table,
        Key: { pk: { S: connector }, sk: { S: sk } },
        ConsistentRead: true,
      }),
    );
    return Item;
  }

  it('creates the table, stores offsets in the documented layout and reads them back', async () => {
    // Act
    const session = await store.open('local-file-source', 0);
    const before = await session.read([FILE]);
    const startedMs = Date.now();
    await session.commit([{ partition: FILE, offset: { position: 1234 } }]);
    // Assess
    expect(before).toEqual([undefined]);
    expect(await session.read([FILE])).toEqual([{ position: 1234 }]);
    const stored = await item('local-file-source', '{"filename":"/data/in.txt"}');
    expect(stored).toMatchObject({ offset: { S: '{"position":1234}' } });
    expect(Number(stored?.updatedAtMs?.N)).toBeGreaterThanOrEqual(startedMs);
    // The sort key is the map part of the Kafka key, byte for byte.
    expect(`["local-file-source",${stored?.sk?.S}]`).toBe(encodeKey('local-file-source', FILE));
    await session.close();
  });

  it('deletes on a null offset and commits more than one transaction holds', async () => {
    const session = await store.open('many', 0);
    const entries = Array.from({ length: 150 }, (_, i) => ({
      partition: { shard: i },
      offset: { seq: i * 2 },
    }));
    await session.commit(entries);
    await session.commit([{ partition: { shard: 3 }, offset: null }]);
    const read = await session.read(entries.map((e) => e.partition));
    expect(read.filter((o) => o !== undefined)).toHaveLength(149);
    expect(read[3]).toBeUndefined();
    expect(read[149]).toEqual({ seq: 298 });
    await session.close();
  });

  it('fences the older session when a newer invocation takes the lease over', async () => {
    // Prepare: an invocation that committed once
    const older = await store.open('takeover', 0);
    await older.commit([{ partition: FILE, offset: { position: 100 } }]);
    // Act: a newer invocation of the same task starts while the older one still runs
    const newer = await store.open('takeover', 0);
    const seenByNewer = await newer.read([FILE]);
    const zombieCommit = older.commit([{ partition: FILE, offset: { position: 999 } }]);
    // Assess
    await expect(zombieCommit).rejects.toBeInstanceOf(FencedError);
    await expect(zombieCommit).rejects.toThrow(`now held at epoch ${newer.lease.epoch}`);
    expect(seenByNewer).toEqual([{ position: 100 }]);
    expect(newer.lease.epoch).toBe(older.lease.epoch + 1);
    expect(newer.lease.previous).toMatchObject({ owner: older.lease.owner, expired: false });
    expect(await newer.read([FILE])).toEqual([{ position: 100 }]);
    await newer.commit([{ partition: FILE, offset: { position: 200 } }]);
    await older.close(); // a lost lease is left alone
    await newer.commit([{ partition: FILE, offset: { position: 300 } }]);
    expect(await (await store.open('takeover', 0)).read([FILE])).toEqual([{ position: 300 }]);
  });

  it('lets exactly one of several concurrent opens commit', async () => {
    const sessions = await Promise.all(Array.from({ length: 6 }, () => store.open('race', 1)));
    const epochs = sessions.map((s) => s.lease.epoch);
    expect(new Set(epochs).size).toBe(6);
    const outcomes = await Promise.allSettled(
      sessions.map((s, i) => s.commit([{ partition: { p: 0 }, offset: { by: i } }])),
    );
    const committed = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
    expect(committed).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(FencedError);
    const holder = await item('race', '#lease#1');
    expect(holder?.owner?.S).toBe(sessions[committed[0]!]!.lease.owner);
    expect(await sessions[0]!.read([{ p: 0 }])).toEqual([{ by: committed[0] }]);
    await Promise.all(sessions.map((s) => s.close()));
  });

  it('keeps tasks apart: a lease covers one task only', async () => {
    const task0 = await store.open('tasks', 0);
    const task1 = await store.open('tasks', 1);
    await task0.commit([{ partition: { p: 0 }, offset: { n: 0 } }]);
    await task1.commit([{ partition: { p: 1 }, offset: { n: 1 } }]);
    expect(await task1.read([{ p: 0 }, { p: 1 }])).toEqual([{ n: 0 }, { n: 1 }]);
    await Promise.all([task0.close(), task1.close()]);
  });

  it('releases the lease on close, keeping the epoch growing', async () => {
    const first = await store.open('release', 0);
    await first.close();
    const lease = await item('release', '#lease#0');
    expect(lease?.owner).toBeUndefined();
    expect(lease?.epoch?.N).toBe(String(first.lease.epoch));
    const second = await store.open('release', 0);
    expect(second.lease.previous).toBeUndefined();
    expect(second.lease.epoch).toBe(first.lease.epoch + 1);
    await second.commit([{ partition: { p: 0 }, offset: { n: 1 } }]);
    await second.close();
    await second.close();
  });

  it('creates a table once under concurrent first uses, and refuses a table of another shape', async () => {
    const fresh = `offsets-${randomUUID()}`;
    await Promise.all([ensureOffsetsTable(client, fresh), ensureOffsetsTable(client, fresh)]);
    const stores = [0, 1].map(() => new DynamoDbOffsetStore({ client, table: fresh, createIfMissing: true }));
    await Promise.all(stores.map(async (s, task) => (await s.open('c', task)).close()));
    const wrong = `offsets-${randomUUID()}`;
    await client.send(
      new CreateTableCommand({
        TableName: wrong,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await expect(ensureOffsetsTable(client, wrong)).rejects.toThrow(/key schema \[id:HASH\]/);
    await expect(ensureOffsetsTable(client, wrong)).rejects.toBeInstanceOf(OffsetStorageError);
  });

  it('fails clearly when the table is missing and may not be created', async () => {
    const noTable = new DynamoDbOffsetStore({ client, table: `missing-${randomUUID()}` });
    await expect(noTable.open('c', 0)).rejects.toThrow(
      /cannot take the offsets lease .*missing-.*createIfMissing/,
    );
    await expect(noTable.open('c', 0)).rejects.toMatchObject({ retriable: false });
  });
});
