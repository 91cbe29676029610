import { describe, expect, it } from 'vitest';
import { ConnectFnError, SinkTargetError } from '../../../src/errors.ts';
import { assignPartitions } from '../../../src/runtime/sink-assignment.ts';
import { runSinkCycle, type SinkCycleOptions } from '../../../src/runtime/sink-cycle.ts';
import type { SinkTask, TopicPartitionOffset } from '../../../src/spi/sink.ts';
import { converters } from '../../support/counting-task.ts';
import { FakeClock } from '../../support/fake-kafka.ts';
import { FakeSinkOffsets, FakeTopics, RecordingSinkTask } from '../../support/fake-sink.ts';

class Retriable extends ConnectFnError {
  readonly code = 'TEST_RETRIABLE';
}

const values = (n: number, prefix = 'v') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

interface Setup {
  readonly topics: FakeTopics;
  readonly offsets: FakeSinkOffsets;
  readonly task: RecordingSinkTask;
  readonly clock: FakeClock;
}

function setup(): Setup {
  return {
    topics: new FakeTopics(),
    offsets: new FakeSinkOffsets(),
    task: new RecordingSinkTask(),
    clock: new FakeClock(),
  };
}

function invoke(s: Setup, overrides: Partial<SinkCycleOptions> = {}) {
  return runSinkCycle({
    connector: 'sink',
    taskId: 0,
    task: s.task,
    converters,
    offsets: s.offsets,
    reader: s.topics,
    assignment: () => assignPartitions({ topics: ['t'] }, s.topics, 0, 1),
    autoOffsetReset: 'earliest',
    maxPollRecords: 500,
    limits: { maxRecords: 1_000, maxBytes: 1_000_000, deadlineMs: s.clock.now + 60_000 },
    errors: { tolerance: 'none', retryTimeoutMs: 0, retryDelayMaxMs: 60_000 },
    clock: s.clock,
    ...overrides,
  });
}

const committedOf = (s: Setup, topic = 't', partitions = 2) =>
  Array.from({ length: partitions }, (_, p) => s.offsets.offsets.get(`${topic}-${p}`));

describe('runSinkCycle', () => {
  it('reads every partition of the task from its committed offset, puts in offset order and commits the next offsets', async () => {
    const s = setup();
    s.topics.create('t', 2);
    s.topics.append('t', 0, values(5, 'a'));
    s.topics.append('t', 1, values(4, 'b'));
    s.offsets.set({ topic: 't', partition: 0 }, 2);

    const summary = await invoke(s);

    expect(s.task.context?.assignment).toEqual([
      { topic: 't', partition: 0 },
      { topic: 't', partition: 1 },
    ]);
    const put = s.task.coordinates();
    expect(put.filter((c) => c.startsWith('t-0'))).toEqual(['t-0@2', 't-0@3', 't-0@4']);
    expect(put.filter((c) => c.startsWith('t-1'))).toEqual(['t-1@0', 't-1@1', 't-1@2', 't-1@3']);
    expect(s.task.records[0]).toMatchObject({ key: 'k2', value: 'a2', timestamp: 1_700_000_000_002 });
    expect(committedOf(s)).toEqual([5, 4]);
    expect(summary).toMatchObject({ kind: 'sink', records: 7, stopReason: 'idle' });
    expect(summary.committed).toEqual([
      { partition: { kafka_topic: 't', kafka_partition: 0 }, offset: { kafka_offset: 5 } },
      { partition: { kafka_topic: 't', kafka_partition: 1 }, offset: { kafka_offset: 4 } },
    ]);
    expect(s.task.stopped).toBe(true);
  });

  it('does not put a batch read ahead once the deadline has passed: it stops at the deadline, and that batch is read again next time', async () => {
    const s = setup();
    s.topics.create('t', 1);
    s.topics.append('t', 0, values(6));
    const deadlineMs = s.clock.now + 60_000;
    // The first put takes the invocation past its deadline (a slow target on a loaded machine); the
    // second batch was read meanwhile, one step ahead.
    s.task.beforePut = () => {
      s.clock.now = deadlineMs + 1;
    };

    const summary = await invoke(s, {
      maxPollRecords: 2,
      limits: { maxRecords: 1_000, maxBytes: 1_000_000, deadlineMs },
    });

    expect(s.task.coordinates()).toEqual(['t-0@0', 't-0@1']);
    expect(summary).toMatchObject({ records: 2, stopReason: 'deadline' });
    expect(summary.error).toBeUndefined();
    expect(committedOf(s, 't', 1)).toEqual([2]);
  });

  it("commits past transaction markers, as a consumer's position moves past them", async () => {
    const s = setup();
    s.topics.create('t', 1);
    s.topics.append('t', 0, values(2));
    s.topics.marker('t', 0);

    const first = await invoke(s);

    expect(s.task.coordinates()).toEqual(['t-0@0', 't-0@1']);
    expect(committedOf(s, 't', 1)).toEqual([3]);
    expect(first.committed).toEqual([
      { partition: { kafka_topic: 't', kafka_partition: 0 }, offset: { kafka_offset: 3 } },
    ]);

    // Only a marker left to read: nothing is put, the position still moves to the end.
    s.topics.marker('t', 0);
    const second = await invoke(s);
    expect(s.task.records).toHaveLength(2);
    expect(committedOf(s, 't', 1)).toEqual([4]);
    expect(second).toMatchObject({ records: 0, stopReason: 'idle' });
  });

  it("gives the task the invocation's deadline and an errant record reporter that follows errors.tolerance", async () => {
    for (const tolerance of ['all', 'none'] as const) {
      const s = setup();
      s.topics.create('t', 1);
      s.topics.append('t', 0, values(3));
      const reports: string[] = [];
      s.task.beforePut = () => undefined;
      const task = s.task;
      const put = task.put;
      (task as { put: typeof put }).put = async (records) => {
        const refused = records.find((r) => r.value === 'v1');
        if (refused !== undefined) {
          await task.context!.errantRecordReporter!(refused, new Error('item too large')).then(
            () => reports.push('tolerated'),
            (err: unknown) => {
              reports.push('rejected');
              throw err;
            },
          );
        }
        await put(records.filter((r) => r !== refused));
      };
      const limits = { maxRecords: 1_000, maxBytes: 1_000_000, deadlineMs: s.clock.now + 60_000 };

      const summary = await invoke(s, {
        limits,
        errors: { tolerance, retryTimeoutMs: 0, retryDelayMaxMs: 1_000 },
      });

      expect(task.context?.deadlineMs).toBe(limits.deadlineMs);
      if (tolerance === 'all') {
        expect(reports).toEqual(['tolerated']);
        expect(summary).toMatchObject({ skipped: 1, records: 3, stopReason: 'idle' });
        expect(committedOf(s, 't', 1)).toEqual([3]);
      } else {
        expect(reports).toEqual(['rejected']);
        expect(summary).toMatchObject({ stopReason: 'error', error: { code: 'CONNECT_FN_TASK_PUT' } });
        expect(summary.error?.message).toContain('item too large');
        expect(committedOf(s, 't', 1)).toEqual([undefined]);
      }
    }
  });

  it('under errors.tolerance=all, fails on a target failure reported as a record error, and commits nothing', async () => {
    // Prepare: a target that refuses every record for a reason about the target (a wrong key schema)
    const s = setup();
    s.topics.create('t', 2);
    s.topics.append('t', 0, values(3));
    s.topics.append('t', 1, values(3));
    const task = s.task;
    (task as { put: SinkTask['put'] }).put = async (records) => {
      for (const r of records) {
        await task.context!.errantRecordReporter!(
          r,
          new SinkTargetError('table t has key id, not partition'),
        );
      }
    };
    // Act
    const summary = await invoke(s, {
      errors: { tolerance: 'all', retryTimeoutMs: 0, retryDelayMaxMs: 1_000 },
    });
    // Assess
    expect(summary).toMatchObject({
      stopReason: 'error',
      records: 0,
      committed: [],
      error: { code: 'CONNECT_FN_SINK_TARGET', retriable: false },
    });
    expect(summary.skipped).toBeUndefined();
    expect(s.offsets.commits).toEqual([]);
  });

  it('takes partitions in turn, one fetch each, so one busy partition does not starve the others', async () => {
    const s = setup();
    s.topics.create('t', 2);
    s.topics.append('t', 0, values(9));
    s.topics.append('t', 1, values(9));

    await invoke(s, { limits: { maxRecords: 6, maxBytes: 1e6, deadlineMs: s.clock.now + 60_000 } });

    expect(s.task.coordinates()).toEqual(['t-0@0', 't-0@1', 't-0@2', 't-1@0', 't-1@1', 't-1@2']);
    expect(committedOf(s)).toEqual([3, 3]);
  });

  it('starts a partition without a committed offset per auto.offset.reset', async () => {
    for (const [policy, expected] of [
      ['earliest', ['t-0@2', 't-0@3']],
      ['latest', []],
    ] as const) {
      const s = setup();
      s.topics.create('t', 1);
      s.topics.append('t', 0, values(4));
      s.topics.truncate('t', 0, 2);

      const summary = await invoke(s, { autoOffsetReset: policy });

      expect(s.task.coordinates()).toEqual(expected);
      expect(summary.stopReason).toBe('idle');
    }
    const s = setup();
    s.topics.create('t', 2);
    s.offsets.set({ topic: 't', partition: 0 }, 0);
    const summary = await invoke(s, { autoOffsetReset: 'none' });
    expect(summary.stopReason).toBe('error');
    expect(summary.error).toMatchObject({ code: 'CONNECT_FN_SINK_NO_OFFSET' });
    expect(summary.error?.message).toBe('no committed offset for t-1 and consumer.auto.offset.reset is none');
  });

  it('resets a committed offset that is out of range, and says so in the log', async () => {
    const s = setup();
    s.topics.create('t', 1);
    s.topics.append('t', 0, values(6));
    s.topics.truncate('t', 0, 4);
    s.offsets.set({ topic: 't', partition: 0 }, 1);
    const warnings: [string, unknown][] = [];

    await invoke(s, { log: { warn: (message, fields) => warnings.push([message, fields]) } });

    expect(s.task.coordinates()).toEqual(['t-0@4', 't-0@5']);
    expect(warnings).toEqual([
      [
        'offset out of range: reset per consumer.auto.offset.reset',
        expect.objectContaining({ topic: 't', partition: 0, offset: 1, startOffset: 4, resetTo: 4 }),
      ],
    ]);
  });

  it("starts where the task's own offsets say (context.offset): back with a warning, or forward", async () => {
    const s = setup();
    s.topics.create('t', 2);
    s.topics.append('t', 0, values(6, 'a'));
    s.topics.append('t', 1, values(6, 'b'));
    s.offsets.set({ topic: 't', partition: 0 }, 4);
    s.offsets.set({ topic: 't', partition: 1 }, 1);
    // The task's own offsets: partition 0 holds less than the group says, partition 1 more
    s.task.start = async (context) => {
      s.task.context = context;
      context.offset?.([
        { topic: 't', partition: 0, offset: 2 },
        { topic: 't', partition: 1, offset: 5 },
      ]);
    };
    const warnings: [string, unknown][] = [];

    await invoke(s, { log: { warn: (message, fields) => warnings.push([message, fields]) } });

    expect([...s.task.coordinates()].sort()).toEqual(['t-0@2', 't-0@3', 't-0@4', 't-0@5', 't-1@5']);
    expect(committedOf(s)).toEqual([6, 6]);
    expect(warnings).toEqual([
      [
        "reading records again from the task's own offset, behind the committed offset",
        { topic: 't', partition: 0, committed: 4, from: 2 },
      ],
    ]);
  });

  it('says nothing when its own offset is behind only by a transaction marker', async () => {
    // The committed position moved past the marker; the task's own offset is after its last record
    const s = setup();
    s.topics.create('t', 1);
    s.topics.append('t', 0, values(2));
    s.topics.marker('t', 0);
    s.topics.append('t', 0, values(1, 'n'));
    s.offsets.set({ topic: 't', partition: 0 }, 3);
    s.task.start = async (context) => context.offset?.([{ topic: 't', partition: 0, offset: 2 }]);
    const warnings: unknown[] = [];

    await invoke(s, { log: { warn: (message) => warnings.push(message) } });

    expect(s.task.coordinates()).toEqual(['t-0@3']);
    expect(warnings).toEqual([]);
  });

  it('refuses context.offset for a partition the task was not given', async () => {
    const s = setup();
    s.topics.create('t', 1);
    s.topics.append('t', 0, values(2));
    s.task.start = async (context) => context.offset?.([{ topic: 'other', partition: 0, offset: 0 }]);

    const summary = await invoke(s);

    expect(summary.stopReason).toBe('error');
    expect(summary.error?.message).toMatch(/context\.offset for other-0, not in its assignment/);
    expect(s.task.records).toEqual([]);
  });

  it('commits a reset position even when nothing follows it, so the next invocation does not reset again', async () => {
    const s = setup();
    s.topics.create('t', 1);
    s.topics.append('t', 0, values(6));
    s.offsets.set({ topic: 't', partition: 0 }, 10); // past the end: the topic was recreated

    const summary = await invoke(s, { autoOffsetReset: 'latest' });

    expect(s.task.records).toEqual([]);
    expect(committedOf(s, 't', 1)).toEqual([6]);
    expect(summary.stopReason).toBe('idle');
    s.topics.append('t', 0, ['late']);
    await invoke(s, { autoOffsetReset: 'latest' });
    expect(s.task.coordinates()).toEqual(['t-0@6']);
  });

  it('commits a latest start at once, so what arrives before the next invocation is delivered', async () => {
    const s = setup();
    s.topics.create('t', 1);
    s.topics.append('t', 0, values(3));

    await invoke(s, { autoOffsetReset: 'latest' });
    expect(committedOf(s, 't', 1)).toEqual([3]);
    s.topics.append('t', 0, ['new']);
    await invoke(s, { autoOffsetReset: 'latest' });

    expect(s.task.coordinates()).toEqual(['t-0@3']);
  });

  it('gives put at most max.poll.records and stops at the budget, committing only what was put', async () => {
    const s = setup();
    s.topics.create('t', 1);
    s.topics.fetchSize = 10;
    s.topics.append('t', 0, values(10));
    const sizes: number[] = [];
    s.task.beforePut = (records) => sizes.push(records.length);

    const summary = await invoke(s, {
      maxPollRecords: 4,
      limits: { maxRecords: 7, maxBytes: 1e6, deadlineMs: s.clock.now + 60_000 },
    });

    expect(sizes).toEqual([4, 3]);
    expect(committedOf(s, 't', 1)).toEqual([7]);
    expect(summary).toMatchObject({ records: 7, batches: 2, stopReason: 'max-records' });
  });

  it('retries a retriable put, and on any other failure commits nothing past the last batch it delivered', async () => {
    const s = setup();
    s.topics.create('t', 1);
    s.topics.append('t', 0, values(9));
    let puts = 0;
    s.task.beforePut = () => {
      puts++;
      if (puts === 2) throw new Retriable('busy', { retriable: true });
      if (puts === 4) throw new Error('disk full');
    };

    const summary = await invoke(s, {
      errors: { tolerance: 'none', retryTimeoutMs: 10_000, retryDelayMaxMs: 1_000 },
    });

    expect(s.task.coordinates()).toEqual(['t-0@0', 't-0@1', 't-0@2', 't-0@3', 't-0@4', 't-0@5']);
    expect(committedOf(s, 't', 1)).toEqual([6]);
    expect(summary.stopReason).toBe('error');
    expect(summary.error).toMatchObject({ code: 'CONNECT_FN_TASK_PUT', stage: 'TASK_PUT' });
    expect(summary.error?.message).toBe('put failed for t-0 offsets 6..8: disk full');
  });

  it('commits what preCommit calls safe, and fails when it claims more than was put', async () => {
    const s = setup();
    s.topics.create('t', 1);
    s.topics.append('t', 0, values(6));
    const task = s.task as RecordingSinkTask & { preCommit?: unknown };
    task.preCommit = async (offsets: readonly TopicPartitionOffset[]) =>
      offsets.map((o) => ({ ...o, offset: o.offset - 1 }));

    await invoke(s);
    expect(committedOf(s, 't', 1)).toEqual([5]);

    const greedy = setup();
    greedy.topics.create('t', 1);
    greedy.topics.append('t', 0, values(3));
    (greedy.task as RecordingSinkTask & { preCommit?: unknown }).preCommit = async (
      offsets: readonly TopicPartitionOffset[],
    ) => offsets.map((o) => ({ ...o, offset: o.offset + 1 }));
    const summary = await invoke(greedy);
    expect(summary.error?.message).toBe('preCommit returned offset 4 for t-0, past what was put (3)');
    expect(greedy.offsets.commits).toEqual([]);
  });

  it('flushes before every commit, with the position of every partition put so far', async () => {
    const s = setup();
    s.topics.create('t', 2);
    s.topics.append('t', 0, values(2));
    s.topics.append('t', 1, values(2));

    await invoke(s);

    expect(s.task.flushes).toEqual([
      [{ topic: 't', partition: 0, offset: 2 }],
      [
        { topic: 't', partition: 0, offset: 2 },
        { topic: 't', partition: 1, offset: 2 },
      ],
    ]);
    expect(s.offsets.commits).toEqual([
      [{ topic: 't', partition: 0, offset: 2 }],
      [{ topic: 't', partition: 1, offset: 2 }],
    ]);
  });

  it('with offset.flush.interval.ms, flushes and commits at most that often, and at the end', async () => {
    const s = setup();
    s.topics.create('t', 1);
    s.topics.append('t', 0, values(18));
    s.task.beforePut = () => {
      s.clock.now += 400; // each put takes 400 ms
    };

    const summary = await invoke(s, { commitIntervalMs: 1_000 });

    // Puts end at 400, 800, ..., 2400 ms: a commit after the first (none before it), after the fourth
    // (1200 ms since), and the rest at the end: never more than a second of puts uncommitted.
    expect(s.offsets.commits.map((c) => c.map((o) => o.offset))).toEqual([[3], [12], [18]]);
    expect(s.task.flushes).toHaveLength(3);
    expect(summary).toMatchObject({ records: 18, batches: 6, stopReason: 'idle' });
  });

  it('puts the next batch only once the previous commit has completed', async () => {
    const s = setup();
    s.topics.create('t', 1);
    s.topics.append('t', 0, values(9));
    const putsAtCommit: number[] = [];
    s.offsets.beforeCommit = async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      putsAtCommit.push(s.task.records.length);
    };

    await invoke(s);

    expect(putsAtCommit).toEqual([3, 6, 9]);
  });

  it('stops as fenced, without failing, when a newer invocation of the task opened its session', async () => {
    const s = setup();
    s.topics.create('t', 1);
    s.topics.append('t', 0, values(6));
    let commits = 0;
    s.offsets.beforeCommit = async () => {
      commits++;
      if (commits === 2) await s.offsets.open('sink', 0); // a newer invocation starts
    };

    const summary = await invoke(s);

    expect(summary.stopReason).toBe('fenced');
    expect(committedOf(s, 't', 1)).toEqual([3]);
    expect(summary.committed).toEqual([
      { partition: { kafka_topic: 't', kafka_partition: 0 }, offset: { kafka_offset: 3 } },
    ]);
  });

  it('fails on a record it cannot convert, naming it; under errors.tolerance=all skips it and commits past it', async () => {
    const s = setup();
    s.topics.create('t', 1);
    s.topics.append('t', 0, ['a', 'b', 'c']);
    const badValue = {
      ...converters.value,
      toConnectData: (_t: string, bytes: Uint8Array | null) => {
        const v = converters.value.toConnectData('t', bytes);
        if (v === 'b') throw new Error('not a number');
        return v;
      },
    };

    const failed = await invoke(s, { converters: { ...converters, value: badValue } });
    expect(failed.error).toMatchObject({ code: 'CONNECT_FN_CONVERSION', stage: 'VALUE_CONVERTER' });
    expect(failed.error?.message).toContain('(record t-0@1)');
    expect(s.offsets.commits).toEqual([]);

    const tolerant = setup();
    tolerant.topics.create('t', 1);
    tolerant.topics.append('t', 0, ['a', 'b', 'c']);
    const summary = await invoke(tolerant, {
      converters: { ...converters, value: badValue },
      errors: { tolerance: 'all', retryTimeoutMs: 0, retryDelayMaxMs: 1_000 },
    });
    expect(tolerant.task.coordinates()).toEqual(['t-0@0', 't-0@2']);
    expect(summary).toMatchObject({ skipped: 1, records: 3, stopReason: 'idle' });
    expect(committedOf(tolerant, 't', 1)).toEqual([3]);
  });
});

describe('assignPartitions', () => {
  it('deals sorted topic-partitions round robin over the tasks', async () => {
    const topics = new FakeTopics().create('b', 3).create('a', 2).create('c', 1);

    const tasks = await Promise.all(
      [0, 1].map((task) => assignPartitions({ topics: ['b', 'a', 'c'] }, topics, task, 2)),
    );

    expect(tasks.map((tps) => tps.map((tp) => `${tp.topic}-${tp.partition}`))).toEqual([
      ['a-0', 'b-0', 'b-2'],
      ['a-1', 'b-1', 'c-0'],
    ]);
  });

  it('matches topics.regex against whole names, and names a missing topic of topics', async () => {
    const topics = new FakeTopics().create('orders', 1).create('orders-eu', 1).create('xorders', 1);

    const matched = await assignPartitions({ regex: 'orders.*' }, topics, 0, 1);
    expect(matched.map((tp) => tp.topic)).toEqual(['orders', 'orders-eu']);

    await expect(assignPartitions({ topics: ['orders', 'nope'] }, topics, 0, 1)).rejects.toThrow(
      'topics names nope, which does not exist',
    );
  });
});
