/**
 * The dynamodb-streams source through a shard split that happens while it runs (DynamoDB Local does not
 * split shards on demand, so the fake stream does it behind the same `StreamsApi` port): the parent
 * shard closes between two GetRecords calls of an invocation, its children appear and take the writes.
 * Every change arrives once, and each item's changes arrive in the order they were written, with one
 * task or with the shards spread over two.
 */
import { describe, expect, it } from 'vitest';
import { dynamoDbStreamsConnector } from '../../../src/connectors/dynamodb-streams/source-connector.ts';
import type { StreamsApi } from '../../../src/connectors/dynamodb-streams/stream-api.ts';
import type { SourceRecord } from '../../../src/spi/records.ts';
import { type EventName, FakeStream } from './dynamodb-streams-fake.ts';
import { invoke, MemoryOffsets } from './task-harness.ts';

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f'];

/** A stream whose shard `p` splits into `c1` and `c2` after the `splitAfter`-th GetRecords call. */
function splittingStream(splitAfter: number) {
  const stream = new FakeStream().addShard('p');
  /** Every change written, in write order: `pk:sk:event`. */
  const written: string[] = [];
  const write = (shard: string, pk: string, sk: number, event: EventName) => {
    stream.put(shard, event, { pk, sk }, { newImage: { pk, sk, v: written.length } });
    written.push(`${pk}:${sk}:${event}`);
  };
  for (const pk of KEYS) write('p', pk, 0, 'INSERT');
  for (const pk of KEYS) write('p', pk, 0, 'MODIFY');
  let reads = 0;
  let split = false;
  const api = (): StreamsApi => {
    const base = stream.api();
    return {
      ...base,
      changes: async (iterator, limit) => {
        const page = await base.changes(iterator, limit);
        if (++reads === splitAfter && !split) {
          split = true;
          // The split: the last writes to the parent, then the children take over its keys.
          for (const pk of KEYS) write('p', pk, 1, 'INSERT');
          stream.close('p').addShard('c1', 'p').addShard('c2', 'p');
          for (const [i, pk] of KEYS.entries()) write(i % 2 === 0 ? 'c1' : 'c2', pk, 1, 'MODIFY');
          for (const [i, pk] of KEYS.entries()) write(i % 2 === 0 ? 'c1' : 'c2', pk, 0, 'REMOVE');
        }
        return page;
      },
    };
  };
  return { api, written, didSplit: () => split };
}

const lines = (records: readonly SourceRecord[]) =>
  records.map((r) => {
    const v = r.value as { eventName: string; keys: { pk: string; sk: number } };
    return `${v.keys.pk}:${v.keys.sk}:${v.eventName}`;
  });

/** The changes of each item (pk, sk), in the order given. */
function perItem(changes: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const change of changes) {
    const item = change.split(':').slice(0, 2).join(':');
    out.set(item, [...(out.get(item) ?? []), change]);
  }
  return out;
}

function connector(api: () => StreamsApi, tasks: number) {
  const c = dynamoDbStreamsConnector({ api, log: { warn: () => {} } });
  const configs = c.taskConfigs(
    {
      'dynamodb.table': 'orders',
      'topic.format': 'cdc.${table}',
      'dynamodb.stream.position': 'TRIM_HORIZON',
      'dynamodb.stream.trimmed.policy': 'fail',
      'batch.size': 4,
      'tasks.max': tasks,
    },
    tasks,
  );
  return { c, configs };
}

describe('dynamodb-streams: a shard split during a run', () => {
  it('one task: every change once, each item in write order, across invocations that stop mid-shard', async () => {
    const stream = splittingStream(2);
    const { c, configs } = connector(stream.api, 1);
    const offsets = new MemoryOffsets();
    const delivered: SourceRecord[] = [];
    for (let i = 0; i < 20; i++) {
      const records = await invoke(c, configs[0]!, offsets, { maxRecords: 7 });
      delivered.push(...records);
      if (records.length === 0 && stream.didSplit()) break;
    }
    expect(stream.didSplit()).toBe(true);
    const got = lines(delivered);
    expect([...got].sort()).toEqual([...stream.written].sort());
    expect(perItem(got)).toEqual(perItem(stream.written));
  });

  it('two tasks: a child waits for its parent read by the other task, and no item goes out of order', async () => {
    const stream = splittingStream(3);
    const { c, configs } = connector(stream.api, 2);
    const offsets = new MemoryOffsets();
    const delivered: SourceRecord[] = [];
    let idleRounds = 0;
    for (let round = 0; round < 40 && idleRounds < 2; round++) {
      let any = 0;
      for (const task of [1, 0]) {
        const records = await invoke(c, configs[task]!, offsets, { maxRecords: 5, taskId: task });
        delivered.push(...records);
        any += records.length;
      }
      idleRounds = any === 0 && stream.didSplit() ? idleRounds + 1 : 0;
    }
    expect(stream.didSplit()).toBe(true);
    const got = lines(delivered);
    expect([...got].sort()).toEqual([...stream.written].sort());
    expect(perItem(got)).toEqual(perItem(stream.written));
    // The shards really were spread: records came from the parent and both children.
    expect(new Set(delivered.map((r) => r.sourcePartition.shard))).toEqual(new Set(['p', 'c1', 'c2']));
  });
});
