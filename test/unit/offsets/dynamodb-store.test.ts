/**
 * The DynamoDB store's requests and error handling against a scripted client (no network). The real
 * behaviour, conditions included, is proven against DynamoDB Local in test/integration/offsets.
 */
import {
  type AttributeValue,
  type BatchGetItemCommand,
  type DynamoDBClient,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { FencedError } from '../../../src/errors.ts';
import { DynamoDbOffsetStore } from '../../../src/offsets/dynamodb-store.ts';
import { OffsetFormatError } from '../../../src/offsets/errors.ts';
import type { Clock } from '../../../src/runtime/ports.ts';

type Reply = (command: object) => unknown;

/** A client whose replies are scripted per command class; every command is recorded. */
function scriptedClient(replies: Partial<Record<string, Reply[]>>) {
  const sent: object[] = [];
  const client = {
    async send(command: object) {
      sent.push(command);
      const reply = replies[command.constructor.name]?.shift();
      const result = reply?.(command) ?? {};
      if (result instanceof Error) throw result;
      return result;
    },
  };
  return { client: client as unknown as DynamoDBClient, sent };
}

function clockAt(nowMs: number): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return { nowMs: () => nowMs, sleep: async (ms) => void sleeps.push(ms), sleeps };
}

function canceled(...codes: string[]): Error {
  return new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code, i) =>
      i === 0 && Code === 'ConditionalCheckFailed'
        ? { Code, Item: { owner: { S: 'newer' }, epoch: { N: '8' } } }
        : { Code },
    ),
  });
}

const previousLease =
  (expiresAtMs: number): Reply =>
  () => ({
    Attributes: { owner: { S: 'older' }, epoch: { N: '6' }, expiresAtMs: { N: String(expiresAtMs) } },
  });

async function openSession(replies: Partial<Record<string, Reply[]>>, clock = clockAt(1_000)) {
  const { client, sent } = scriptedClient({ UpdateItemCommand: [previousLease(5_000)], ...replies });
  const store = new DynamoDbOffsetStore({ client, table: 'offsets', clock, newOwnerId: () => 'me' });
  return { session: await store.open('orders', 2), sent, clock };
}

describe('dynamodb offset store (scripted client)', () => {
  it('takes the lease with an atomic epoch bump and reports an overlapping holder', async () => {
    const { session, sent } = await openSession({});
    const update = sent[0] as UpdateItemCommand;
    expect(update).toBeInstanceOf(UpdateItemCommand);
    expect(update.input).toMatchObject({
      Key: { pk: { S: 'orders' }, sk: { S: '#lease#2' } },
      UpdateExpression: 'SET #owner = :owner, #expiresAtMs = :expiresAtMs ADD #epoch :one',
      ReturnValues: 'ALL_OLD',
    });
    expect(update.input.ConditionExpression).toBeUndefined();
    expect(session.lease).toEqual({
      owner: 'me',
      epoch: 7,
      expiresAtMs: 1_000 + 15 * 60_000,
      previous: { owner: 'older', epoch: 6, expiresAtMs: 5_000, expired: false },
    });
  });

  it('commits in one transaction fenced on the lease: check first, then puts and deletes', async () => {
    const { session, sent } = await openSession({ TransactWriteItemsCommand: [() => ({})] });
    await session.commit([
      { partition: { table: 'orders' }, offset: { id: 42 } },
      { partition: { table: 'old' }, offset: null },
    ]);
    const tx = sent[1] as TransactWriteItemsCommand;
    expect(tx.input.TransactItems).toEqual([
      {
        ConditionCheck: {
          TableName: 'offsets',
          Key: { pk: { S: 'orders' }, sk: { S: '#lease#2' } },
          ConditionExpression: '#owner = :owner AND #epoch = :epoch',
          ExpressionAttributeNames: { '#owner': 'owner', '#epoch': 'epoch' },
          ExpressionAttributeValues: { ':owner': { S: 'me' }, ':epoch': { N: '7' } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      {
        Put: {
          TableName: 'offsets',
          Item: {
            pk: { S: 'orders' },
            sk: { S: '{"table":"orders"}' },
            offset: { S: '{"id":42}' },
            updatedAtMs: { N: '1000' },
          },
        },
      },
      { Delete: { TableName: 'offsets', Key: { pk: { S: 'orders' }, sk: { S: '{"table":"old"}' } } } },
    ]);
  });

  it('splits a commit of more than 99 partitions into fenced transactions of at most 100 actions', async () => {
    const { session, sent } = await openSession({ TransactWriteItemsCommand: [() => ({}), () => ({})] });
    await session.commit(Array.from({ length: 150 }, (_, i) => ({ partition: { i }, offset: { n: i } })));
    const sizes = sent.slice(1).map((c) => (c as TransactWriteItemsCommand).input.TransactItems!.length);
    expect(sizes).toEqual([100, 52]);
    for (const c of sent.slice(1)) {
      expect((c as TransactWriteItemsCommand).input.TransactItems![0]!.ConditionCheck).toBeDefined();
    }
  });

  it('turns a failed lease check into FencedError, then refuses further commits without a request', async () => {
    const { session, sent } = await openSession({
      TransactWriteItemsCommand: [() => canceled('ConditionalCheckFailed', 'None')],
    });
    const entry = { partition: { table: 'orders' }, offset: { id: 1 } };
    await expect(session.commit([entry])).rejects.toThrow(/taken over .*now held at epoch 8/);
    await expect(session.commit([entry])).rejects.toBeInstanceOf(FencedError);
    await session.close();
    expect(sent.map((c) => c.constructor.name)).toEqual(['UpdateItemCommand', 'TransactWriteItemsCommand']);
  });

  it('retries a transaction that conflicted with a concurrent acquisition', async () => {
    const { session, sent, clock } = await openSession({
      TransactWriteItemsCommand: [() => canceled('None', 'TransactionConflict'), () => ({})],
    });
    await session.commit([{ partition: { table: 'orders' }, offset: { id: 1 } }]);
    expect(sent.filter((c) => c instanceof TransactWriteItemsCommand)).toHaveLength(2);
    expect(clock.sleeps).toEqual([50]);
  });

  it('reads consistently, retrying unprocessed keys', async () => {
    const item = (sk: string, offset: string): Record<string, AttributeValue> => ({
      sk: { S: sk },
      offset: { S: offset },
    });
    const { session, sent, clock } = await openSession({
      BatchGetItemCommand: [
        (c) => ({
          Responses: { offsets: [item('{"t":"a"}', '{"n":1}')] },
          UnprocessedKeys: {
            offsets: { Keys: [(c as BatchGetItemCommand).input.RequestItems!.offsets!.Keys![1]] },
          },
        }),
        () => ({ Responses: { offsets: [item('{"t":"b"}', '{"n":2}')] } }),
      ],
    });
    expect(await session.read([{ t: 'a' }, { t: 'b' }, { t: 'c' }])).toEqual([{ n: 1 }, { n: 2 }, undefined]);
    const first = sent[1] as BatchGetItemCommand;
    expect(first.input.RequestItems!.offsets).toMatchObject({ ConsistentRead: true });
    expect(clock.sleeps).toEqual([50]);
  });

  it('refuses a partition too long for a sort key before writing anything', async () => {
    const { session, sent } = await openSession({});
    const commit = session.commit([{ partition: { path: 'x'.repeat(1100) }, offset: { n: 1 } }]);
    await expect(commit).rejects.toBeInstanceOf(OffsetFormatError);
    expect(sent).toHaveLength(1);
  });

  it('releases the lease on close only if it still holds it', async () => {
    const { session, sent } = await openSession({});
    await session.close();
    const release = sent[1] as UpdateItemCommand;
    expect(release.input).toMatchObject({
      UpdateExpression: 'REMOVE #owner SET #expiresAtMs = :nowMs',
      ConditionExpression: '#owner = :owner AND #epoch = :epoch',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });
});
