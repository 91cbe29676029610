import { describe, expect, it } from 'vitest';
import { dynamoDbStreamsConnector } from '../../../src/connectors/dynamodb-streams/source-connector.ts';
import { DynamoDbStreamsTask } from '../../../src/connectors/dynamodb-streams/source-task.ts';
import type { StreamsApi } from '../../../src/connectors/dynamodb-streams/stream-api.ts';
import type { SourceRecord } from '../../../src/spi/records.ts';
import { FakeStream } from './dynamodb-streams-fake.ts';
import { invoke, MemoryOffsets } from './task-harness.ts';

/** Lets a read-ahead start (next turn of the event loop) and run to its GetRecords and back. */
const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

const sequences = (records: readonly SourceRecord[]) => records.map((r) => r.sourceOffset.sequence);

/** A shard `s` with `count` changes; returns the stream and their sequence numbers. */
function shardWith(count: number) {
  const stream = new FakeStream().addShard('s');
  const seqs = Array.from({ length: count }, (_, sk) => stream.put('s', 'INSERT', { pk: 'a', sk }));
  return { stream, seqs };
}

function taskOf(stream: FakeStream, batchSize: number, api: StreamsApi = stream.api(), nowMs = Date.now) {
  return new DynamoDbStreamsTask(
    {
      table: stream.table,
      topic: 't',
      position: 'TRIM_HORIZON',
      trimmedPolicy: 'fail',
      batchSize,
      taskId: 0,
      taskCount: 1,
      nowMs,
    },
    api,
    { warn: () => undefined },
  );
}

const all = { maxRecords: 1000, deadlineMs: Number.POSITIVE_INFINITY };

describe('dynamodb-streams: reading ahead', () => {
  it('reads the next page while the last one is delivered, one page ahead at most, and returns it next', async () => {
    // Prepare
    const { stream, seqs } = shardWith(10);
    const task = taskOf(stream, 4);
    await task.start(new MemoryOffsets().context());
    // Act
    const first = await task.poll(all);
    const readsAtReturn = stream.count('GetRecords');
    await settle();
    const readsAhead = stream.count('GetRecords');
    await settle();
    const readsLater = stream.count('GetRecords');
    const second = await task.poll(all);
    const readsBySecond = stream.count('GetRecords');
    await settle();
    const third = await task.poll(all);
    await task.stop();
    // Assess
    expect([readsAtReturn, readsAhead, readsLater, readsBySecond]).toEqual([1, 2, 2, 2]);
    expect(sequences([...first, ...second, ...third])).toEqual(seqs);
  });

  it('hands a smaller poll the start of the page read ahead, and the rest first in the next poll', async () => {
    const { stream, seqs } = shardWith(10);
    const task = taskOf(stream, 4);
    await task.start(new MemoryOffsets().context());
    const polls: SourceRecord[][] = [];
    polls.push([...(await task.poll(all))]);
    await settle();
    polls.push([...(await task.poll({ maxRecords: 3, deadlineMs: Number.POSITIVE_INFINITY }))]);
    const readsBeforeRest = stream.count('GetRecords');
    polls.push([...(await task.poll(all))]);
    const readsAfterRest = stream.count('GetRecords');
    polls.push([...(await task.poll(all))]);
    polls.push([...(await task.poll(all))]);
    await task.stop();
    expect(polls.map((p) => p.length)).toEqual([4, 3, 1, 2, 0]);
    expect(sequences(polls.flat())).toEqual(seqs);
    expect(readsAfterRest).toBe(readsBeforeRest); // the rest was held, not read again
  });

  it('stop aborts a read in flight and drops it: never returned, so the next invocation reads it again', async () => {
    // Prepare: GetRecords hangs (until aborted) once `hang` is set
    const { stream, seqs } = shardWith(8);
    const api = stream.api();
    let hang = false;
    let aborted = false;
    const hanging: StreamsApi = {
      ...api,
      changes: (iterator, limit, signal) =>
        hang
          ? new Promise((_, reject) => {
              signal?.addEventListener('abort', () => {
                aborted = true;
                reject(new Error('aborted'));
              });
            })
          : api.changes(iterator, limit, signal),
    };
    const offsets = new MemoryOffsets();
    const task = taskOf(stream, 4, hanging);
    await task.start(offsets.context());
    // Act
    const first = await task.poll(all);
    hang = true;
    await settle(); // the read-ahead is now waiting for GetRecords
    await task.stop();
    offsets.commit(first);
    hang = false;
    const connector = dynamoDbStreamsConnector({ api: () => stream.api() });
    const [config] = connector.taskConfigs(
      {
        'dynamodb.table': stream.table,
        'topic.format': 't',
        'dynamodb.stream.position': 'TRIM_HORIZON',
        'dynamodb.stream.trimmed.policy': 'fail',
        'batch.size': 4,
      },
      1,
    );
    const second = await invoke(connector, config!, offsets, { maxRecords: 100 });
    // Assess
    expect(aborted).toBe(true);
    expect(sequences(first)).toEqual(seqs.slice(0, 4));
    expect(sequences(second)).toEqual(seqs.slice(4));
  });

  it('respects the deadline: no read-ahead starts after it, and nothing read ahead is returned after it', async () => {
    const { stream, seqs } = shardWith(12);
    let nowMs = 0;
    const task = taskOf(stream, 4, stream.api(), () => nowMs);
    await task.start(new MemoryOffsets().context());
    const budget = { maxRecords: 1000, deadlineMs: 1000 };
    // A read-ahead that would start past the deadline reads nothing.
    const first = await task.poll(budget);
    nowMs = 1000;
    await settle();
    expect(stream.count('GetRecords')).toBe(1);
    expect(await task.poll(budget)).toEqual([]);
    // A page read ahead before the deadline is not returned after it.
    nowMs = 0;
    const second = await task.poll(budget);
    await settle();
    const reads = stream.count('GetRecords');
    nowMs = 1000;
    expect(await task.poll(budget)).toEqual([]);
    await task.stop();
    expect(reads).toBe(3);
    expect(sequences([...first, ...second])).toEqual(seqs.slice(0, 8));
  });

  it('a read-ahead that fails fails the next poll the same way (retriable), and the poll after reads on', async () => {
    const { stream, seqs } = shardWith(8);
    const task = taskOf(stream, 4);
    await task.start(new MemoryOffsets().context());
    const first = await task.poll(all);
    stream.expireReads = 3; // before the read-ahead starts: it meets three expiries in a row
    await settle();
    await expect(task.poll(all)).rejects.toMatchObject({ code: 'CONNECT_FN_STREAM_READ', retriable: true });
    const second = await task.poll(all);
    await task.stop();
    expect(sequences([...first, ...second])).toEqual(seqs);
  });
});
