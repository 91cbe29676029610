import { describe, expect, it } from 'vitest';
import { jsonNumber } from '../../../src/connectors/dynamodb-streams/change-record.ts';
import { fnv1a32, shardOwner } from '../../../src/connectors/dynamodb-streams/shard-lineage.ts';
import { dynamoDbStreamsConnector } from '../../../src/connectors/dynamodb-streams/source-connector.ts';
import type { StreamChange } from '../../../src/connectors/dynamodb-streams/stream-api.ts';
import type { SourceRecord } from '../../../src/spi/records.ts';
import type { TaskConfig } from '../../../src/spi/source.ts';
import { FakeStream } from './dynamodb-streams-fake.ts';
import { invoke, MemoryOffsets } from './task-harness.ts';

interface Warning {
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>> | undefined;
}

function setup(stream: FakeStream, overrides: Record<string, unknown> = {}, tasks = 1) {
  const warnings: Warning[] = [];
  const connector = dynamoDbStreamsConnector({
    api: () => stream.api(),
    log: { warn: (message, fields) => warnings.push({ message, fields }) },
  });
  const config: TaskConfig = {
    'dynamodb.table': stream.table,
    'topic.format': 'cdc.${table}',
    'dynamodb.stream.position': 'TRIM_HORIZON',
    'dynamodb.stream.trimmed.policy': 'fail',
    'batch.size': 1000,
    'tasks.max': tasks,
    ...overrides,
  };
  const taskConfigs = connector.taskConfigs(config, tasks);
  const offsets = new MemoryOffsets();
  const run = (task = 0, maxRecords = 100_000) =>
    invoke(connector, taskConfigs[task]!, offsets, { maxRecords, taskId: task });
  return { connector, taskConfigs, offsets, run, warnings };
}

/** `shard:pk:sk:event` of each record, for order assertions. */
const summary = (records: readonly SourceRecord[]) =>
  records.map((r) => {
    const v = r.value as { eventName: string; keys: { pk: string; sk: number } };
    return `${r.sourcePartition.shard}:${v.keys.pk}:${v.keys.sk}:${v.eventName}`;
  });

const sequences = (records: readonly SourceRecord[]) => records.map((r) => r.sourceOffset.sequence);

describe('dynamodb-streams: change records', () => {
  it('turns INSERT, MODIFY and REMOVE into plain JSON records with keys, images, headers and topic', async () => {
    // Prepare
    const stream = new FakeStream().addShard('shard-a');
    const s1 = stream.put(
      'shard-a',
      'INSERT',
      { pk: 'o1', sk: 1 },
      { newImage: { pk: 'o1', sk: 1, qty: 2 } },
    );
    stream.put(
      'shard-a',
      'MODIFY',
      { pk: 'o1', sk: 1 },
      { newImage: { pk: 'o1', sk: 1, qty: 3 }, oldImage: { pk: 'o1', sk: 1, qty: 2 } },
    );
    stream.put('shard-a', 'REMOVE', { pk: 'o1', sk: 1 }, { oldImage: { pk: 'o1', sk: 1, qty: 3 } });
    const { run } = setup(stream);
    // Act
    const records = await run();
    // Assess
    expect(records).toHaveLength(3);
    const [insert, modify, remove] = records;
    expect(insert).toEqual({
      sourcePartition: { table: 'orders', shard: 'shard-a' },
      sourceOffset: { sequence: s1 },
      topic: 'cdc.orders',
      key: { pk: 'o1', sk: 1 },
      value: {
        eventName: 'INSERT',
        keys: { pk: 'o1', sk: 1 },
        newImage: { pk: 'o1', sk: 1, qty: 2 },
        oldImage: null,
        sequenceNumber: s1,
        approximateCreationTime: 1_700_000_001_000,
      },
      headers: [
        { key: 'dynamodb.event.name', value: 'INSERT' },
        { key: 'dynamodb.table', value: 'orders' },
      ],
      timestamp: 1_700_000_001_000,
    });
    expect(Object.keys(insert!.key as object)).toEqual(['pk', 'sk']); // hash key first: stable key bytes
    expect(modify!.value).toMatchObject({ newImage: { qty: 3 }, oldImage: { qty: 2 } });
    expect(remove!.value).toMatchObject({ eventName: 'REMOVE', newImage: null, oldImage: { qty: 3 } });
  });

  it('writes binary as base64, sets as arrays, nulls, nested values, and numbers without rounding', async () => {
    const stream = new FakeStream().addShard('s');
    const image = {
      pk: { S: 'k' },
      sk: { N: '1' },
      bin: { B: new Uint8Array([0, 1, 254, 255]) },
      bins: { BS: [new Uint8Array([1]), new Uint8Array([2, 3])] },
      tags: { SS: ['a', 'b'] },
      scores: { NS: ['1.5', '12345678901234567890'] },
      none: { NULL: true },
      flag: { BOOL: false },
      nested: { M: { list: { L: [{ N: '-7' }, { S: 'x' }, { M: { deep: { N: '0.1' } } }] } } },
      big: { N: '99999999999999999999999999999999999999' },
      precise: { N: '3.14159265358979323846' },
    };
    stream.putRaw('s', {
      eventName: 'INSERT',
      dynamodb: {
        Keys: { pk: { S: 'k' }, sk: { N: '1' } },
        NewImage: image,
        SequenceNumber: '100000000000000000001',
      },
    } as StreamChange);
    const [record] = await setup(stream).run();
    expect((record!.value as { newImage: unknown }).newImage).toEqual({
      pk: 'k',
      sk: 1,
      bin: 'AAH+/w==',
      bins: ['AQ==', 'AgM='],
      tags: ['a', 'b'],
      scores: [1.5, '12345678901234567890'],
      none: null,
      flag: false,
      nested: { list: [-7, 'x', { deep: 0.1 }] },
      big: '99999999999999999999999999999999999999',
      precise: '3.14159265358979323846',
    });
    expect(record!.timestamp).toBeUndefined();
    expect((record!.value as { approximateCreationTime: unknown }).approximateCreationTime).toBeNull();
  });

  it('keeps attributes named like Object.prototype members as ordinary keys', async () => {
    const stream = new FakeStream().addShard('s');
    const image = JSON.parse(
      '{"pk":{"S":"k"},"__proto__":{"M":{"polluted":{"BOOL":true}}},"constructor":{"N":"1"}}',
    );
    stream.putRaw('s', {
      eventName: 'INSERT',
      dynamodb: { Keys: { pk: { S: 'k' } }, NewImage: image, SequenceNumber: '100000000000000000001' },
    } as StreamChange);
    const [record] = await setup(stream).run();
    const newImage = (record!.value as { newImage: object }).newImage;
    expect(JSON.stringify(newImage)).toBe('{"pk":"k","__proto__":{"polluted":true},"constructor":1}');
    expect(Object.getPrototypeOf(newImage)).toBe(Object.prototype);
  });

  it('keeps a number as a JSON number only when a double holds it exactly', () => {
    expect(
      [
        '0',
        '-12',
        '9007199254740991',
        '9007199254740992',
        '1.25',
        '1e3',
        '0.000123456789012345',
        '1.0000000000000001',
      ].map(jsonNumber),
    ).toEqual([
      0,
      -12,
      9_007_199_254_740_991,
      '9007199254740992',
      1.25,
      1000,
      0.000123456789012345,
      '1.0000000000000001',
    ]);
  });

  it('uses a fixed topic name as it is', async () => {
    const stream = new FakeStream().addShard('s');
    stream.put('s', 'INSERT', { pk: 'a', sk: 1 });
    const [record] = await setup(stream, { 'topic.format': 'changes' }).run();
    expect(record!.topic).toBe('changes');
  });
});

describe('dynamodb-streams: reading the stream', () => {
  it('lists every shard across DescribeStream pages', async () => {
    const stream = new FakeStream();
    stream.pageSize = 2;
    for (let i = 0; i < 5; i++) {
      stream.addShard(`s${i}`);
      stream.put(`s${i}`, 'INSERT', { pk: `p${i}`, sk: 0 });
    }
    const records = await setup(stream).run();
    expect(new Set(records.map((r) => r.sourcePartition.shard))).toEqual(
      new Set(['s0', 's1', 's2', 's3', 's4']),
    );
    expect(stream.calls.filter((c) => c.startsWith('DescribeStream'))).toEqual([
      'DescribeStream',
      'DescribeStream s1',
      'DescribeStream s3',
    ]);
  });

  it('reads a child shard only after its parent is finished, through a rollover and a split', async () => {
    // Listed children first, to show the order comes from the lineage, not the listing.
    const stream = new FakeStream().addShard('c1', 'p').addShard('c2', 'p').addShard('g', 'c1').addShard('p');
    stream.put('p', 'INSERT', { pk: 'a', sk: 1 });
    stream.put('p', 'MODIFY', { pk: 'a', sk: 1 });
    stream.close('p');
    stream.put('c1', 'MODIFY', { pk: 'a', sk: 1 });
    stream.close('c1');
    stream.put('c2', 'INSERT', { pk: 'b', sk: 1 });
    stream.put('g', 'REMOVE', { pk: 'a', sk: 1 });
    const records = await setup(stream, { 'batch.size': 1 }).run();
    const order = summary(records);
    expect(order).toHaveLength(5);
    const at = (s: string) => order.indexOf(s);
    expect(at('p:a:1:INSERT')).toBeLessThan(at('p:a:1:MODIFY'));
    expect(at('p:a:1:MODIFY')).toBeLessThan(at('c1:a:1:MODIFY'));
    expect(at('p:a:1:MODIFY')).toBeLessThan(at('c2:b:1:INSERT'));
    expect(at('c1:a:1:MODIFY')).toBeLessThan(at('g:a:1:REMOVE'));
  });

  it('finishes closed shards: resumes them from the committed offset, then moves on to the children', async () => {
    const stream = new FakeStream().addShard('p').addShard('c', 'p');
    for (let sk = 0; sk < 5; sk++) stream.put('p', 'INSERT', { pk: 'a', sk });
    stream.close('p');
    stream.put('c', 'INSERT', { pk: 'a', sk: 9 });
    const { run, offsets } = setup(stream);
    // Act: the first invocation's budget ends inside the parent
    const first = await run(0, 3);
    const second = await run(0);
    expect(summary(first)).toEqual(['p:a:0:INSERT', 'p:a:1:INSERT', 'p:a:2:INSERT']);
    expect(summary(second)).toEqual(['p:a:3:INSERT', 'p:a:4:INSERT', 'c:a:9:INSERT']);
    expect(stream.calls).toContain(`GetShardIterator p AFTER_SEQUENCE_NUMBER`);
    expect(stream.calls).toContain(`GetShardIterator c TRIM_HORIZON`);
    // Assess: once a child is committed, the finished parent is not read again
    stream.calls.length = 0;
    expect(await run(0)).toEqual([]);
    expect(stream.calls.some((c) => c.includes(' p '))).toBe(false);
    expect(offsets.get({ table: 'orders', shard: 'c' })).toEqual({
      sequence: second.at(-1)!.sourceOffset.sequence,
    });
  });

  it('resumes after the committed sequence number: only later changes arrive', async () => {
    const stream = new FakeStream().addShard('s');
    stream.put('s', 'INSERT', { pk: 'a', sk: 1 });
    const { run } = setup(stream);
    expect(await run()).toHaveLength(1);
    const later = stream.put('s', 'MODIFY', { pk: 'a', sk: 1 });
    expect(sequences(await run())).toEqual([later]);
    expect(await run()).toEqual([]);
  });

  it('returns at most batch.size and budget.maxRecords changes per poll', async () => {
    const stream = new FakeStream().addShard('s');
    for (let sk = 0; sk < 10; sk++) stream.put('s', 'INSERT', { pk: 'a', sk });
    const { connector, taskConfigs, offsets } = setup(stream, { 'batch.size': 4 });
    const task = connector.createTask(taskConfigs[0]!);
    await task.start(offsets.context());
    expect(await task.poll({ maxRecords: 100, deadlineMs: Infinity })).toHaveLength(4);
    expect(await task.poll({ maxRecords: 3, deadlineMs: Infinity })).toHaveLength(3);
    expect(await task.poll({ maxRecords: 100, deadlineMs: 0 })).toEqual([]); // past the deadline
    await task.stop();
  });

  it('opens a new iterator at the same place when one expires, and logs it', async () => {
    const stream = new FakeStream().addShard('s');
    for (let sk = 0; sk < 4; sk++) stream.put('s', 'INSERT', { pk: 'a', sk });
    const { connector, taskConfigs, offsets, warnings } = setup(stream, { 'batch.size': 2 });
    const task = connector.createTask(taskConfigs[0]!);
    await task.start(offsets.context());
    const first = await task.poll({ maxRecords: 100, deadlineMs: Infinity });
    stream.expireReads = 1;
    const second = await task.poll({ maxRecords: 100, deadlineMs: Infinity });
    expect(summary([...first, ...second])).toEqual([
      's:a:0:INSERT',
      's:a:1:INSERT',
      's:a:2:INSERT',
      's:a:3:INSERT',
    ]);
    expect(stream.calls.filter((c) => c.startsWith('GetShardIterator'))).toEqual([
      'GetShardIterator s TRIM_HORIZON',
      'GetShardIterator s AFTER_SEQUENCE_NUMBER',
    ]);
    expect(warnings).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('expired'),
        fields: expect.objectContaining({ shard: 's' }),
      }),
    ]);
  });

  it('fails a poll after repeated expiries with a retriable error', async () => {
    const stream = new FakeStream().addShard('s');
    stream.put('s', 'INSERT', { pk: 'a', sk: 0 });
    const { run, warnings } = setup(stream);
    stream.expireReads = 3;
    await expect(run()).rejects.toMatchObject({ code: 'CONNECT_FN_STREAM_READ', retriable: true });
    expect(warnings.map((w) => w.message)).toEqual(Array(3).fill(expect.stringContaining('expired')));
  });
});

describe('dynamodb-streams: trimmed data', () => {
  function trimmedStream() {
    const stream = new FakeStream().addShard('s');
    const seqs = [0, 1, 2, 3].map((sk) => stream.put('s', 'INSERT', { pk: 'a', sk }));
    return { stream, seqs };
  }

  it('fails with a non-retriable error naming the shard and position by default (policy fail)', async () => {
    const { stream, seqs } = trimmedStream();
    const { run, offsets } = setup(stream);
    offsets.set({ table: 'orders', shard: 's' }, { sequence: seqs[0]! });
    stream.trim('s', 2);
    const err = await run().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONNECT_FN_STREAM_TRIMMED', retriable: false });
    expect((err as Error).message).toContain(`shard s after sequence number ${seqs[0]}`);
    expect((err as Error).message).toContain('dynamodb.stream.trimmed.policy=trim_horizon');
    expect(offsets.get({ table: 'orders', shard: 's' })).toEqual({ sequence: seqs[0] });
  });

  it('continues from the oldest change kept under trim_horizon, logging the gap', async () => {
    const { stream, seqs } = trimmedStream();
    const { run, offsets, warnings } = setup(stream, { 'dynamodb.stream.trimmed.policy': 'trim_horizon' });
    offsets.set({ table: 'orders', shard: 's' }, { sequence: seqs[0]! });
    stream.trim('s', 2);
    expect(sequences(await run())).toEqual([seqs[2], seqs[3]]);
    expect(warnings).toEqual([
      expect.objectContaining({ fields: expect.objectContaining({ shard: 's', afterSequence: seqs[0] }) }),
      expect.objectContaining({
        fields: expect.objectContaining({ gapAfterSequence: seqs[0], firstSequenceAfterGap: seqs[2] }),
      }),
    ]);
  });

  it('treats a shard that vanished as finished, with a warning', async () => {
    const stream = new FakeStream().addShard('s');
    stream.put('s', 'INSERT', { pk: 'a', sk: 0 });
    const { connector, taskConfigs, offsets, warnings } = setup(stream);
    const task = connector.createTask(taskConfigs[0]!);
    await task.start(offsets.context());
    // The shard disappears between DescribeStream and GetShardIterator.
    stream.remove('s');
    expect(await task.poll({ maxRecords: 100, deadlineMs: Infinity })).toEqual([]);
    await task.stop();
    expect(warnings).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('no longer in the stream'),
        fields: expect.objectContaining({ shard: 's' }),
      }),
    ]);
  });
});

describe('dynamodb-streams: start position', () => {
  it('LATEST skips what is already in the stream and closed shards, then reads new changes', async () => {
    const stream = new FakeStream().addShard('old').addShard('s', 'old');
    stream.put('old', 'INSERT', { pk: 'x', sk: 0 });
    stream.close('old');
    stream.put('s', 'INSERT', { pk: 'a', sk: 0 });
    const { connector, taskConfigs, offsets } = setup(stream, { 'dynamodb.stream.position': 'LATEST' });
    const task = connector.createTask(taskConfigs[0]!);
    await task.start(offsets.context());
    expect(await task.poll({ maxRecords: 100, deadlineMs: Infinity })).toEqual([]);
    const fresh = stream.put('s', 'MODIFY', { pk: 'a', sk: 0 });
    await task.stop();
    expect(stream.calls).toContain('GetShardIterator s LATEST');
    expect(stream.calls.some((c) => c.startsWith('GetShardIterator old'))).toBe(false);
    // Once a change of the lineage is committed, the next invocation continues after it.
    offsets.set({ table: 'orders', shard: 's' }, { sequence: fresh });
    const after = stream.put('s', 'REMOVE', { pk: 'a', sk: 0 });
    expect(sequences(await invoke(connector, taskConfigs[0]!, offsets, { maxRecords: 100 }))).toEqual([
      after,
    ]);
  });

  it('LATEST captures a change written while an invocation reads the shard, and continues after it', async () => {
    const stream = new FakeStream().addShard('s');
    stream.put('s', 'INSERT', { pk: 'a', sk: 0 });
    const api = stream.api();
    let written: string | undefined;
    const connector = dynamoDbStreamsConnector({
      api: () => ({
        ...api,
        // A change lands just after the LATEST iterator is taken.
        shardIterator: async (arn, shardId, position) => {
          const iterator = await api.shardIterator(arn, shardId, position);
          if (position.type === 'LATEST') written = stream.put('s', 'MODIFY', { pk: 'a', sk: 0 });
          return iterator;
        },
      }),
    });
    const [config] = connector.taskConfigs(
      {
        'dynamodb.table': 'orders',
        'topic.format': 't',
        'dynamodb.stream.position': 'LATEST',
        'dynamodb.stream.trimmed.policy': 'fail',
        'batch.size': 10,
      },
      1,
    );
    const offsets = new MemoryOffsets();
    expect(sequences(await invoke(connector, config!, offsets, { maxRecords: 100 }))).toEqual([written]);
    const next = stream.put('s', 'REMOVE', { pk: 'a', sk: 0 });
    expect(sequences(await invoke(connector, config!, offsets, { maxRecords: 100 }))).toEqual([next]);
  });

  it('LATEST: a child of a shard with a committed change starts at TRIM_HORIZON, so nothing between them is lost', async () => {
    const stream = new FakeStream().addShard('p');
    const inParent = stream.put('p', 'INSERT', { pk: 'a', sk: 0 });
    stream.close('p').addShard('c', 'p');
    const inChild = stream.put('c', 'MODIFY', { pk: 'a', sk: 0 });
    const { run, offsets } = setup(stream, { 'dynamodb.stream.position': 'LATEST' });
    offsets.set({ table: 'orders', shard: 'p' }, { sequence: inParent });
    expect(sequences(await run())).toEqual([inChild]);
    expect(stream.calls).toContain('GetShardIterator c TRIM_HORIZON');
  });
});

describe('dynamodb-streams: tasks', () => {
  it('splits shards between tasks by a stable hash of the shard id: disjoint, complete, the same every time', async () => {
    const stream = new FakeStream();
    const ids = Array.from({ length: 40 }, (_, i) => `shardId-${String(i).padStart(20, '0')}-abc`);
    for (const id of ids) stream.addShard(id);
    const { connector, taskConfigs, offsets } = setup(stream, {}, 3);
    const owned: string[][] = [];
    for (const config of taskConfigs) {
      const task = connector.createTask(config) as unknown as { ownedShards: readonly string[] } & ReturnType<
        typeof connector.createTask
      >;
      await task.start(offsets.context());
      owned.push([...task.ownedShards]);
      await task.stop();
    }
    expect(owned.flat().sort()).toEqual([...ids].sort());
    expect(owned.every((o) => o.length > 5)).toBe(true);
    for (const [task, shards] of owned.entries())
      for (const id of shards) expect(shardOwner(id, 3)).toBe(task);
    expect(connector.taskConfigs(taskConfigs[0]!, 3)).toEqual(taskConfigs);
    expect(fnv1a32('shardId-00000001414562439845-a1b2c3d4')).toBe(
      fnv1a32('shardId-00000001414562439845-a1b2c3d4'),
    );
  });

  it('delivers every change once across tasks, a child waiting for a parent another task reads', async () => {
    // Prepare: find a parent and a child id that hash to different tasks of 2.
    const parent = 'shardId-parent-0';
    const child = Array.from({ length: 50 }, (_, i) => `shardId-child-${i}`).find(
      (id) => shardOwner(id, 2) !== shardOwner(parent, 2),
    )!;
    const stream = new FakeStream().addShard(parent).addShard(child, parent);
    stream.put(parent, 'INSERT', { pk: 'a', sk: 1 });
    stream.put(parent, 'MODIFY', { pk: 'a', sk: 1 });
    stream.close(parent);
    stream.put(child, 'REMOVE', { pk: 'a', sk: 1 });
    const { run } = setup(stream, {}, 2);
    const parentTask = shardOwner(parent, 2);
    const childTask = 1 - parentTask;
    // Act + Assess: the child's task runs first and must wait
    expect(await run(childTask)).toEqual([]);
    expect(summary(await run(parentTask))).toEqual([`${parent}:a:1:INSERT`, `${parent}:a:1:MODIFY`]);
    expect(summary(await run(childTask))).toEqual([`${child}:a:1:REMOVE`]);
    expect(await run(childTask)).toEqual([]);
    expect(await run(parentTask)).toEqual([]);
  });
});

describe('dynamodb-streams: setup errors', () => {
  it('says so when the table has no stream', async () => {
    const stream = new FakeStream('orders').addShard('s');
    const { run } = setup(stream, { 'dynamodb.table': 'customers' });
    await expect(run()).rejects.toMatchObject({ code: 'CONNECT_FN_STREAM_UNAVAILABLE' });
  });

  it('reads a configured stream ARN without DescribeTable, taking the table name from it', async () => {
    const stream = new FakeStream('orders').addShard('s');
    stream.put('s', 'INSERT', { pk: 'a', sk: 0 });
    const { run } = setup(stream, { 'dynamodb.table': undefined, 'dynamodb.stream.arn': stream.arn });
    const [record] = await run();
    expect(record).toMatchObject({ sourcePartition: { table: 'orders', shard: 's' }, topic: 'cdc.orders' });
    expect(stream.calls.some((c) => c.startsWith('DescribeTable'))).toBe(false);
  });

  it('refuses a committed offset that is not a sequence number', async () => {
    const stream = new FakeStream().addShard('s');
    const { run, offsets } = setup(stream);
    offsets.set({ table: 'orders', shard: 's' }, { sequence: 12 });
    await expect(run()).rejects.toMatchObject({ code: 'CONNECT_FN_CONVERSION' });
  });
});
