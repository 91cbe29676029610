import { describe, expect, it, vi } from 'vitest';
import { ConnectFnError, SinkTargetError } from '../../../src/errors.ts';
import type { FetchedRecord } from '../../../src/runtime/ports.ts';
import { runTriggeredSink, type TriggeredSinkOptions } from '../../../src/runtime/sink-trigger.ts';
import type { SinkRecord, SinkTask, TopicPartitionOffset } from '../../../src/spi/sink.ts';
import { converters } from '../../support/counting-task.ts';
import { FakeClock } from '../../support/fake-kafka.ts';
import { RecordingSinkTask } from '../../support/fake-sink.ts';
import { ManualClock } from '../../support/manual-clock.ts';

class Retriable extends ConnectFnError {
  readonly code = 'TEST_RETRIABLE';
}

const encoder = new TextEncoder();

function partition(topic: string, p: number, from: number, values: readonly unknown[]) {
  const records: FetchedRecord[] = values.map((value, i) => ({
    topic,
    partition: p,
    offset: from + i,
    timestampMs: 1_700_000_000_000,
    key: null,
    value: encoder.encode(JSON.stringify(value)),
    headers: [],
  }));
  return { topic, partition: p, records };
}

function invoke(task: RecordingSinkTask, overrides: Partial<TriggeredSinkOptions> = {}) {
  const clock = new FakeClock();
  return runTriggeredSink({
    connector: 'sink',
    taskId: 0,
    task,
    converters,
    partitions: [
      partition('orders-eu', 0, 10, ['a', 'b', 'c', 'd']),
      partition('orders-eu', 1, 7, ['x', 'y']),
    ],
    subscription: { topics: ['orders-eu', 't'] },
    maxPollRecords: 2,
    deadlineMs: clock.now + 60_000,
    errors: { tolerance: 'none', retryTimeoutMs: 0, retryDelayMaxMs: 1_000 },
    clock,
    ...overrides,
  });
}

describe('runTriggeredSink', () => {
  it('puts every partition in offset order, flushes, and reports nothing failed', async () => {
    const task = new RecordingSinkTask();

    const { summary, failures } = await invoke(task);

    expect(task.context?.assignment).toEqual([
      { topic: 'orders-eu', partition: 0 },
      { topic: 'orders-eu', partition: 1 },
    ]);
    expect(task.coordinates()).toEqual([
      'orders-eu-0@10',
      'orders-eu-0@11',
      'orders-eu-0@12',
      'orders-eu-0@13',
      'orders-eu-1@7',
      'orders-eu-1@8',
    ]);
    expect(task.flushes).toEqual([
      [
        { topic: 'orders-eu', partition: 0, offset: 14 },
        { topic: 'orders-eu', partition: 1, offset: 9 },
      ],
    ]);
    expect(failures).toEqual([]);
    expect(summary).toMatchObject({ kind: 'sink', records: 6, batches: 3, stopReason: 'idle' });
    expect(task.stopped).toBe(true);
  });

  it('reports the first chunk a put could not take, and every later record of that partition only', async () => {
    const task = new RecordingSinkTask();
    let puts = 0;
    task.beforePut = () => {
      puts++;
      if (puts === 2) throw new Retriable('busy', { retriable: true }); // retried
      if (puts === 4) throw new Error('target refused');
    };

    const { summary, failures } = await invoke(task, {
      errors: { tolerance: 'none', retryTimeoutMs: 10_000, retryDelayMaxMs: 100 },
      partitions: [partition('t', 0, 0, ['a', 'b', 'c', 'd', 'e', 'f']), partition('t', 1, 0, ['x'])],
    });

    expect(task.coordinates()).toEqual(['t-0@0', 't-0@1', 't-0@2', 't-0@3', 't-1@0']);
    expect(failures).toEqual([{ topic: 't', partition: 0, offset: 4 }]);
    expect(summary).toMatchObject({
      records: 5,
      stopReason: 'error',
      error: { code: 'CONNECT_FN_TASK_PUT' },
    });
    expect(summary.committed).toEqual([
      { partition: { kafka_topic: 't', kafka_partition: 0 }, offset: { kafka_offset: 4 } },
      { partition: { kafka_topic: 't', kafka_partition: 1 }, offset: { kafka_offset: 1 } },
    ]);
  });

  it('puts the records before one it cannot convert, and reports from that record on', async () => {
    const task = new RecordingSinkTask();
    const bad = {
      ...converters.value,
      toConnectData: (t: string, bytes: Uint8Array | null) => {
        const v = converters.value.toConnectData(t, bytes);
        if (v === 'c') throw new Error('bad value');
        return v;
      },
    };

    const { failures, summary } = await invoke(task, {
      converters: { ...converters, value: bad },
      maxPollRecords: 10,
    });

    expect(task.coordinates()).toEqual([
      'orders-eu-0@10',
      'orders-eu-0@11',
      'orders-eu-1@7',
      'orders-eu-1@8',
    ]);
    expect(failures).toEqual([{ topic: 'orders-eu', partition: 0, offset: 12 }]);
    expect(summary.error).toMatchObject({ code: 'CONNECT_FN_CONVERSION', stage: 'VALUE_CONVERTER' });
    expect(summary.error?.message).toBe('VALUE_CONVERTER failed: bad value (record orders-eu-0@12)');
  });

  it('reports from where preCommit says a partition is not yet durable', async () => {
    const task = new RecordingSinkTask() as RecordingSinkTask & { preCommit?: unknown };
    task.preCommit = async (offsets: readonly TopicPartitionOffset[]) =>
      offsets.map((o) => (o.partition === 0 ? { ...o, offset: 12 } : o));

    const { failures, summary } = await invoke(task);

    expect(failures).toEqual([{ topic: 'orders-eu', partition: 0, offset: 12 }]);
    expect(summary.records).toBe(4);
  });

  it('reports every partition from its first record when flush fails, or when start fails', async () => {
    const task = new RecordingSinkTask();
    task.flush = async () => {
      throw new Error('fsync failed');
    };
    const flushFailed = await invoke(task);
    expect(flushFailed.failures).toEqual([
      { topic: 'orders-eu', partition: 0, offset: 10 },
      { topic: 'orders-eu', partition: 1, offset: 7 },
    ]);
    expect(flushFailed.summary).toMatchObject({ records: 0, error: { code: 'CONNECT_FN_TASK_FLUSH' } });

    const notStarted = new RecordingSinkTask();
    notStarted.start = async () => {
      throw new Error('cannot open');
    };
    const startFailed = await invoke(notStarted);
    expect(startFailed.failures.map((f) => f.offset)).toEqual([10, 7]);
    expect(notStarted.records).toEqual([]);
  });

  it('reports what it had no time for once the deadline has passed', async () => {
    const task = new RecordingSinkTask();
    const clock = new FakeClock();
    task.beforePut = () => {
      clock.now += 1_000;
    };

    const { failures } = await invoke(task, { clock, deadlineMs: clock.now + 1_500 });

    expect(task.coordinates()).toEqual([
      'orders-eu-0@10',
      'orders-eu-0@11',
      'orders-eu-0@12',
      'orders-eu-0@13',
    ]);
    expect(failures).toEqual([{ topic: 'orders-eu', partition: 1, offset: 7 }]);
  });

  it('refuses an event holding a topic outside topics: nothing is put, the invocation fails naming it', async () => {
    // Prepare: the mapping delivers "payments" too; the connector reads only "orders-eu"
    const task = new RecordingSinkTask();
    // Act
    const result = await invoke(task, {
      subscription: { topics: ['orders-eu'] },
      partitions: [
        partition('orders-eu', 0, 10, ['a', 'b']),
        partition('payments', 0, 3, ['x']),
        partition('payments', 2, 8, ['y']),
      ],
    });
    // Assess: the task never started; nothing delivered; every partition failed from its first record
    expect(task.context).toBeUndefined();
    expect(task.records).toEqual([]);
    expect(result.failInvocation).toBe(true);
    expect(result.failures).toEqual([
      { topic: 'orders-eu', partition: 0, offset: 10 },
      { topic: 'payments', partition: 0, offset: 3 },
      { topic: 'payments', partition: 2, offset: 8 },
    ]);
    expect(result.summary).toMatchObject({
      records: 0,
      committed: [],
      stopReason: 'error',
      error: { code: 'CONNECT_FN_TOPIC_NOT_SUBSCRIBED', retriable: false },
    });
    expect(result.summary.error?.message).toContain('"payments"');
    expect(result.summary.error?.message).toContain('(topics=orders-eu)');
    expect(result.summary.error?.message).not.toContain('"orders-eu"');
  });

  it('matches topics.regex against the whole topic name, as Connect does', async () => {
    const accepted = await invoke(new RecordingSinkTask(), { subscription: { regex: 'orders-.*' } });
    const task = new RecordingSinkTask();
    const refused = await invoke(task, {
      subscription: { regex: 'orders' },
      partitions: [partition('orders-eu', 0, 0, ['a'])],
    });
    expect(accepted).toMatchObject({ failInvocation: false, failures: [] });
    expect(refused.failInvocation).toBe(true);
    expect(refused.summary.error?.message).toContain('(topics.regex=orders)');
    expect(task.records).toEqual([]);
  });

  it('fails the invocation on a target failure: no later partition is put, nothing counts as delivered', async () => {
    // Prepare: the second put (orders-eu-0 @12) finds the target broken
    const task = new RecordingSinkTask();
    let puts = 0;
    task.beforePut = () => {
      if (++puts === 2) throw new SinkTargetError('table orders has another key schema');
    };
    // Act
    const result = await invoke(task);
    // Assess
    expect(task.coordinates()).toEqual(['orders-eu-0@10', 'orders-eu-0@11']);
    expect(task.flushes).toEqual([]);
    expect(task.stopped).toBe(true);
    expect(result.failInvocation).toBe(true);
    expect(result.failures).toEqual([
      { topic: 'orders-eu', partition: 0, offset: 10 },
      { topic: 'orders-eu', partition: 1, offset: 7 },
    ]);
    expect(result.summary).toMatchObject({
      records: 0,
      committed: [],
      error: {
        code: 'CONNECT_FN_SINK_TARGET',
        retriable: false,
        message: 'table orders has another key schema',
      },
    });
  });

  it('never lets errors.tolerance=all skip a target failure reported as a record error', async () => {
    // Prepare: a task that hands every record to the errant record reporter with a target failure
    const task = new RecordingSinkTask();
    const reported: unknown[] = [];
    Object.assign(task, {
      put: async (records: readonly SinkRecord[]) => {
        for (const record of records) {
          await task.context?.errantRecordReporter?.(record, new SinkTargetError('no such table'));
          reported.push(record);
        }
      },
    });
    // Act
    const tolerant = await invoke(task, {
      errors: { tolerance: 'all', retryTimeoutMs: 0, retryDelayMaxMs: 1_000 },
    });
    // Assess: the first report rejected, nothing was skipped, the invocation fails
    expect(reported).toEqual([]);
    expect(tolerant.failInvocation).toBe(true);
    expect(tolerant.summary).toMatchObject({ records: 0, error: { code: 'CONNECT_FN_SINK_TARGET' } });
    expect(tolerant.summary.skipped).toBeUndefined();
  });

  it('fails the invocation when start finds the target broken', async () => {
    const task = new RecordingSinkTask();
    task.start = async () => {
      throw new SinkTargetError('cannot open /data/out.txt');
    };
    const result = await invoke(task);
    expect(result.failInvocation).toBe(true);
    expect(result.failures.map((f) => f.offset)).toEqual([10, 7]);
    expect(task.records).toEqual([]);
  });

  describe('at the hard deadline', () => {
    /** A task whose `hangOn` call never settles (until `release`), recording every call it gets. */
    function hangingTask(hangOn: 'put' | 'flush' | 'stop', atCall = 1) {
      const calls: string[] = [];
      let release: () => void = () => {};
      const hang = () =>
        new Promise<void>((resolve) => {
          release = resolve;
        });
      const counts = { put: 0, flush: 0, stop: 0 };
      const call = (name: 'put' | 'flush' | 'stop', what: string) => {
        counts[name]++;
        calls.push(what);
        return name === hangOn && counts[name] === atCall ? hang() : Promise.resolve();
      };
      const task: SinkTask = {
        start: async () => undefined,
        put: (records: readonly SinkRecord[]) =>
          call('put', `put ${records.map((r) => `${r.kafkaPartition}@${r.kafkaOffset}`).join(',')}`),
        flush: () => call('flush', 'flush'),
        stop: () => call('stop', 'stop'),
      };
      return { task, calls, release: () => release() };
    }

    function invokeWithHardDeadline(task: SinkTask, clock: ManualClock) {
      return invoke(new RecordingSinkTask(), {
        task,
        clock: clock as unknown as FakeClock,
        deadlineMs: clock.now + 8_000,
        hardDeadlineMs: clock.now + 9_000,
        returnByMs: clock.now + 10_000,
      });
    }

    it('returns when a put never ends: every partition from its first record, nothing put after it', async () => {
      const clock = new ManualClock();
      const { task, calls, release } = hangingTask('put', 2);
      const running = invokeWithHardDeadline(task, clock);
      await vi.waitFor(() => expect(calls).toContain('put 0@12,0@13'));
      expect(clock.sleeps.map((s) => s.ms)).toEqual([9_000]); // the hard deadline, on the injected clock

      clock.now += 9_000;
      clock.sleeps[0]!.wake();
      const { summary, failures } = await running;

      // Partition 0's first chunk was put but never flushed: not durable, so retried from its first record.
      expect(failures).toEqual([
        { topic: 'orders-eu', partition: 0, offset: 10 },
        { topic: 'orders-eu', partition: 1, offset: 7 },
      ]);
      expect(summary).toMatchObject({
        records: 0,
        committed: [],
        stopReason: 'deadline',
        error: { code: 'CONNECT_FN_DEADLINE_EXCEEDED', retriable: true },
      });
      expect(summary.error?.message).toContain("the sink task's put of orders-eu-0 from offset 12");
      expect(calls).toEqual(['put 0@10,0@11', 'put 0@12,0@13', 'stop']);
      release(); // the abandoned put completes late: no more puts, no flush
      await new Promise((resolve) => setImmediate(resolve));
      expect(calls).toEqual(['put 0@10,0@11', 'put 0@12,0@13', 'stop']);
    });

    it('returns when flush never ends: every partition from its first record', async () => {
      const clock = new ManualClock();
      const { task, calls } = hangingTask('flush');
      const running = invokeWithHardDeadline(task, clock);
      await vi.waitFor(() => expect(calls).toContain('flush'));
      clock.now += 9_000;
      clock.sleeps[0]!.wake();
      const { summary, failures } = await running;

      expect(failures.map((f) => f.offset)).toEqual([10, 7]);
      expect(summary).toMatchObject({ records: 0, stopReason: 'deadline' });
      expect(summary.error?.message).toContain(
        "preCommit (flush) did not finish before the invocation's deadline",
      );
    });

    it('returns when stop never ends, within the cleanup allowance before the Lambda deadline', async () => {
      const clock = new ManualClock();
      const { task, calls } = hangingTask('stop');
      const running = invokeWithHardDeadline(task, clock);
      await vi.waitFor(() => expect(calls).toContain('stop'));
      // Delivered and flushed in time; stop may run until the hard deadline (9 s), never to the Lambda's.
      expect(clock.sleeps.map((s) => s.ms)).toEqual([9_000, 9_000]);
      clock.now += 9_000;
      clock.sleeps[1]!.wake();
      const { summary, failures } = await running;

      expect(failures).toEqual([]);
      expect(summary).toMatchObject({ records: 6, stopReason: 'idle' });
    });
  });
});
