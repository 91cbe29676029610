import { describe, expect, it } from 'vitest';
import { ConnectFnError, FencedError } from '../../../src/errors.ts';
import type { OffsetSession, OffsetStore, TransactionalWriter } from '../../../src/runtime/ports.ts';
import { systemClock } from '../../../src/runtime/retry.ts';
import { type Delivery, runSourceCycle, type SourceCycleOptions } from '../../../src/runtime/source-cycle.ts';
import type { SourceOffset, SourcePartition } from '../../../src/spi/records.ts';
import type { SourceTask } from '../../../src/spi/source.ts';
import { CountingTask, converters, sequences } from '../../support/counting-task.ts';
import { FakeClock, FakeKafka, kafkaOffsets, LeasedOffsets } from '../../support/fake-kafka.ts';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

interface Setup {
  readonly kafka: FakeKafka;
  readonly clock: FakeClock;
  readonly offsets: SourceCycleOptions['offsets'];
  readonly delivery: () => Delivery;
}

function exactlyOnce(): Setup {
  const kafka = new FakeKafka();
  const store = kafkaOffsets(kafka);
  return {
    kafka,
    clock: new FakeClock(),
    offsets: store,
    delivery: () => ({
      mode: 'exactly-once',
      writer: kafka.transactionalWriter('connect-fn-c-0'),
      encoder: store,
    }),
  };
}

function atLeastOnce(): Setup {
  const kafka = new FakeKafka();
  return {
    kafka,
    clock: new FakeClock(),
    offsets: new LeasedOffsets(),
    delivery: () => ({ mode: 'at-least-once', writer: kafka.writer() }),
  };
}

function invoke(setup: Setup, task: SourceTask, overrides: Partial<SourceCycleOptions> = {}) {
  return runSourceCycle({
    connector: 'c',
    taskId: 0,
    task,
    converters,
    offsets: setup.offsets,
    delivery: setup.delivery(),
    limits: { maxRecords: 10, maxBytes: 1_000_000, deadlineMs: setup.clock.now + 60_000 },
    errors: { tolerance: 'none', retryTimeoutMs: 0, retryDelayMaxMs: 60_000 },
    clock: setup.clock,
    ...overrides,
  });
}

describe.each([
  ['exactly-once', exactlyOnce],
  ['at-least-once', atLeastOnce],
])('source cycle, %s', (_name, make) => {
  it('resumes each invocation where the last one committed, losing and repeating nothing', async () => {
    const setup = make();
    const summaries = [];
    for (let i = 0; i < 4; i++)
      summaries.push(await invoke(setup, new CountingTask({ taskId: 0, total: 25, batchSize: 4 })));
    expect(summaries.map((s) => [s.records, s.stopReason])).toEqual([
      [10, 'max-records'],
      [10, 'max-records'],
      [5, 'idle'],
      [0, 'idle'],
    ]);
    expect(sequences(setup.kafka.committed('out'))).toEqual(range(25));
    expect(summaries[1]?.committed).toEqual([{ partition: { task: 0 }, offset: { sequence: 20 } }]);
    expect(summaries[0]?.batches).toBe(3);
  });

  it('stops at the deadline and commits what it produced', async () => {
    const setup = make();
    const task = new CountingTask({
      taskId: 0,
      total: 100,
      batchSize: 2,
      onPoll: () => {
        setup.clock.now += 400;
      },
    });
    const summary = await invoke(setup, task, {
      limits: { maxRecords: 1000, maxBytes: 1e9, deadlineMs: setup.clock.now + 1_000 },
    });
    expect(summary.stopReason).toBe('deadline');
    expect(summary.records).toBe(6);
    const next = await invoke(setup, new CountingTask({ taskId: 0, total: 8, batchSize: 8 }));
    expect(next.records).toBe(2);
    expect(sequences(setup.kafka.committed('out'))).toEqual(range(8));
  });

  it('stops when the byte budget is spent', async () => {
    const setup = make();
    const summary = await invoke(setup, new CountingTask({ taskId: 0, total: 100, batchSize: 5 }), {
      limits: { maxRecords: 1000, maxBytes: 50, deadlineMs: setup.clock.now + 60_000 },
    });
    expect(summary.stopReason).toBe('max-bytes');
    expect(summary.bytes).toBeGreaterThanOrEqual(50);
    expect(summary.records).toBe(5);
  });

  it('commits no offset past a batch that was not delivered, and the next invocation re-sends it', async () => {
    const setup = make();
    let sends = 0;
    setup.kafka.beforeSend = (records) => {
      if (records.some((r) => r.topic === 'out') && ++sends === 2) throw new Error('broker went away');
    };
    const task = new CountingTask({ taskId: 0, total: 12, batchSize: 4 });
    const failed = await invoke(setup, task);
    expect(failed.stopReason).toBe('error');
    expect(failed.error?.message).toContain('broker went away');
    expect(failed.committed).toEqual([{ partition: { task: 0 }, offset: { sequence: 4 } }]);
    expect(task.stopped).toBe(true);
    await invoke(setup, new CountingTask({ taskId: 0, total: 12, batchSize: 4 }));
    expect(sequences(setup.kafka.committed('out'))).toEqual(range(12));
  });

  it('fails the batch on a conversion error, or skips the record under errors.tolerance=all', async () => {
    const setup = make();
    const poison = {
      ...converters,
      value: {
        ...converters.value,
        fromConnectData: () => {
          throw new Error('cannot serialise');
        },
      },
    };
    const strict = await invoke(setup, new CountingTask({ taskId: 0, total: 3, batchSize: 3 }), {
      converters: poison,
    });
    expect(strict.stopReason).toBe('error');
    expect(strict.error).toMatchObject({ code: 'CONNECT_FN_CONVERSION', stage: 'VALUE_CONVERTER' });
    expect(strict.committed).toEqual([]);
    const tolerant = await invoke(setup, new CountingTask({ taskId: 0, total: 3, batchSize: 3 }), {
      converters: poison,
      errors: { tolerance: 'all', retryTimeoutMs: 0, retryDelayMaxMs: 1000 },
    });
    expect(tolerant).toMatchObject({
      stopReason: 'idle',
      skipped: 3,
      committed: [{ offset: { sequence: 3 } }],
    });
    expect(setup.kafka.committed('out')).toEqual([]);
  });

  it('retries a retriable poll failure within errors.retry.timeout, and fails on any other', async () => {
    class Flaky extends ConnectFnError {
      readonly code = 'TEST_FLAKY';
    }
    const setup = make();
    const flaky = new CountingTask({
      taskId: 0,
      total: 2,
      batchSize: 2,
      onPoll: (n) => {
        if (n <= 2) throw new Flaky('source busy', { retriable: true });
      },
    });
    const errors = { tolerance: 'none' as const, retryTimeoutMs: 10_000, retryDelayMaxMs: 1_000 };
    expect(await invoke(setup, flaky, { errors })).toMatchObject({ stopReason: 'idle', records: 2 });
    const broken = new CountingTask({
      taskId: 0,
      total: 9,
      batchSize: 2,
      onPoll: () => {
        throw new Error('bug');
      },
    });
    expect(await invoke(setup, broken, { errors })).toMatchObject({
      stopReason: 'error',
      error: { code: 'CONNECT_FN_TASK_POLL', stage: 'TASK_POLL' },
    });
    expect(broken.polls).toBe(1);
  });
});

describe('source cycle, hard deadline', () => {
  it('returns an error summary when a write never finishes, naming what it was doing and where', async () => {
    const setup = atLeastOnce();
    const hanging = { send: () => new Promise<void>(() => {}), close: async () => {} };
    // The real clock: the fake one moves whenever something sleeps, the hard deadline's sleep included.
    const summary = await invoke(setup, new CountingTask({ taskId: 0, total: 10, batchSize: 5 }), {
      delivery: { mode: 'at-least-once', writer: hanging },
      limits: {
        maxRecords: 100,
        maxBytes: 1e9,
        deadlineMs: Date.now() + 60_000,
        hardDeadlineMs: Date.now() + 200,
      },
      clock: systemClock,
      target: 'broker 10.0.0.1:9092 over PLAINTEXT',
    });
    // The send never settles: only the hard deadline can have ended the cycle.
    expect(summary).toMatchObject({
      stopReason: 'error',
      committed: [],
      error: {
        code: 'CONNECT_FN_DEADLINE_EXCEEDED',
        message:
          "delivering a batch (to broker 10.0.0.1:9092 over PLAINTEXT) did not finish before the invocation's deadline",
      },
    });
    expect((setup.offsets as LeasedOffsets).offsets.size).toBe(0);
  });
});

describe('source cycle, overlapping invocations', () => {
  it('exactly-once: a newer invocation fences the older one, which commits nothing and is not an error', async () => {
    const setup = exactlyOnce();
    let rival: Promise<unknown> | undefined;
    const zombie = new CountingTask({
      taskId: 0,
      total: 20,
      batchSize: 3,
      onPoll: async (n) => {
        if (n === 2) rival = invoke(setup, new CountingTask({ taskId: 0, total: 20, batchSize: 3 }));
        if (n === 2) await rival;
      },
    });
    const old = await invoke(setup, zombie);
    expect(old.stopReason).toBe('fenced');
    expect(old.error?.code).toBe('CONNECT_FN_FENCED');
    expect(zombie.stopped).toBe(true);
    // The zombie's first batch (0..2) committed before the rival started; the rival resumed at 3.
    await invoke(setup, new CountingTask({ taskId: 0, total: 20, batchSize: 3 }));
    expect(sequences(setup.kafka.committed('out'))).toEqual(range(20));
  });

  it('exactly-once: fences before reading, so a batch in flight when a newer invocation reads is never repeated', async () => {
    const setup = exactlyOnce();
    let older: Promise<unknown> | undefined;
    let newer: Promise<unknown> | undefined;
    let outSends = 0;
    setup.kafka.beforeSend = (records) => {
      // The older invocation's second batch is in its transaction, not yet committed: a newer one starts,
      // reads the offsets, and waits until the older invocation has finished before it sends.
      if (records.some((r) => r.topic === 'out') && ++outSends === 2) {
        newer = invoke(
          setup,
          new CountingTask({ taskId: 0, total: 12, batchSize: 3, onPoll: async () => void (await older) }),
        );
      }
    };
    older = invoke(setup, new CountingTask({ taskId: 0, total: 12, batchSize: 3 }));
    await older;
    await newer;
    await invoke(setup, new CountingTask({ taskId: 0, total: 12, batchSize: 3 }));
    expect(sequences(setup.kafka.committed('out'))).toEqual(range(12));
  });

  it('at-least-once with a lease: the zombie may duplicate records but cannot move the offsets', async () => {
    const setup = atLeastOnce();
    const store = setup.offsets as LeasedOffsets;
    const zombie = new CountingTask({
      taskId: 0,
      total: 20,
      batchSize: 3,
      onPoll: async (n) => {
        if (n === 2)
          await invoke(setup, new CountingTask({ taskId: 0, total: 20, batchSize: 5 }), {
            limits: { maxRecords: 5, maxBytes: 1e9, deadlineMs: setup.clock.now + 60_000 },
          });
      },
    });
    const old = await invoke(setup, zombie);
    expect(old.stopReason).toBe('fenced');
    expect(store.offsets.get('["c",{"task":0}]')).toEqual({ sequence: 8 });
  });
});

/**
 * Holds commits (or transaction commits) until the test releases them, logging `committed <what>` as each
 * one completes. Once released, later commits complete by themselves, a few milliseconds after they are
 * issued (so a cycle that returned without waiting for its last commit would be caught).
 */
class CommitGate {
  readonly #held: { complete: () => void; fail: (err: Error) => void }[] = [];
  #open = false;

  constructor(readonly events: string[]) {}

  get inFlight(): number {
    return this.#held.length;
  }

  /** Completes `commit` (a thunk that applies it) when the gate allows, logging `committed <what>`. */
  pass(what: string, commit: () => Promise<void> | void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const complete = () => {
        Promise.resolve(commit()).then(() => {
          this.events.push(`committed ${what}`);
          resolve();
        }, reject);
      };
      if (this.#open) setTimeout(complete, 5);
      else this.#held.push({ complete, fail: reject });
    });
  }

  /** Completes every held commit (or, with `err`, fails them) and lets later ones through. */
  release(err?: Error): void {
    this.#open = true;
    for (const held of this.#held.splice(0)) {
      if (err === undefined) held.complete();
      else held.fail(err);
    }
  }
}

/** An offsets store (a map) whose commits pass through a {@link CommitGate}, logging `commit <sequence>`. */
class GatedOffsets implements OffsetStore {
  readonly offsets = new Map<string, SourceOffset>();

  constructor(
    readonly events: string[],
    readonly gate: CommitGate,
  ) {}

  async open(connector: string): Promise<OffsetSession> {
    const key = (p: SourcePartition) => JSON.stringify([connector, p]);
    return {
      read: async (partitions) => partitions.map((p) => this.offsets.get(key(p))),
      commit: (entries) => {
        const sequence = String(entries.at(-1)?.offset?.sequence);
        this.events.push(`commit ${sequence}`);
        return this.gate.pass(sequence, () => {
          for (const e of entries) if (e.offset !== null) this.offsets.set(key(e.partition), e.offset);
        });
      },
      close: async () => {},
    };
  }
}

/** What a poll sees: `poll <n>`, and whether a commit is held then. */
const pollEvent = (n: number, gate: CommitGate) =>
  `poll ${n}${gate.inFlight > 0 ? ' (a commit in flight)' : ''}`;

describe('source cycle, at-least-once commits', () => {
  function gated() {
    const events: string[] = [];
    const gate = new CommitGate(events);
    const kafka = new FakeKafka();
    kafka.beforeSend = (records) => {
      if (records[0]?.topic === 'out') events.push(`send ${sequences(records).join(',')}`);
    };
    const store = new GatedOffsets(events, gate);
    const setup: Setup = {
      kafka,
      clock: new FakeClock(),
      offsets: store,
      delivery: () => ({ mode: 'at-least-once', writer: kafka.writer() }),
    };
    return { events, gate, kafka, setup, store };
  }

  it('polls the next batch while a commit is in flight, sends it only once that commit completed, and returns after the last', async () => {
    const { events, gate, setup } = gated();
    const task = new CountingTask({
      taskId: 0,
      total: 6,
      batchSize: 3,
      onPoll: (n) => {
        events.push(pollEvent(n, gate));
        if (n === 3) gate.release();
      },
    });
    const summary = await invoke(setup, task);
    events.push('returned');
    expect(events).toEqual([
      'poll 1',
      'send 0,1,2',
      'commit 3',
      'poll 2 (a commit in flight)',
      'poll 3 (a commit in flight)',
      'committed 3',
      'send 3,4,5',
      'commit 6',
      'committed 6',
      'returned',
    ]);
    expect(summary).toMatchObject({ stopReason: 'idle', records: 6, batches: 2 });
    expect(summary.committed).toEqual([{ partition: { task: 0 }, offset: { sequence: 6 } }]);
  });

  it('fails on a commit that fails while the next batch is prepared: that batch is never sent, nothing more committed', async () => {
    const { events, gate, kafka, setup, store } = gated();
    const task = new CountingTask({
      taskId: 0,
      total: 9,
      batchSize: 3,
      onPoll: (n) => {
        events.push(`poll ${n}`);
        if (n === 2) gate.release(new Error('offsets store went away'));
      },
    });
    const failed = await invoke(setup, task);
    expect(failed).toMatchObject({ stopReason: 'error', records: 0, batches: 0, committed: [] });
    expect(failed.error?.message).toContain('offsets store went away');
    expect(events).toEqual(['poll 1', 'send 0,1,2', 'commit 3', 'poll 2']);
    expect(store.offsets.size).toBe(0);
    expect(task.stopped).toBe(true);
    // The next invocation resends the batch whose commit failed: one batch of duplicates, no loss.
    await invoke(setup, new CountingTask({ taskId: 0, total: 9, batchSize: 3 }));
    expect(sequences(kafka.committed('out'))).toEqual([0, 1, 2, ...range(9)]);
    expect(store.offsets.get('["c",{"task":0}]')).toEqual({ sequence: 9 });
  });

  it('waits for a commit in flight when the next poll fails, and reports it as committed', async () => {
    const { gate, setup, store } = gated();
    const task = new CountingTask({
      taskId: 0,
      total: 9,
      batchSize: 3,
      onPoll: (n) => {
        if (n === 2) {
          setTimeout(() => gate.release(), 5);
          throw new Error('source broke');
        }
      },
    });
    const summary = await invoke(setup, task);
    expect(summary).toMatchObject({ stopReason: 'error', records: 3, batches: 1 });
    expect(summary.error?.code).toBe('CONNECT_FN_TASK_POLL');
    expect(summary.committed).toEqual([{ partition: { task: 0 }, offset: { sequence: 3 } }]);
    expect(store.offsets.get('["c",{"task":0}]')).toEqual({ sequence: 3 });
  });
});

describe('source cycle, exactly-once commits', () => {
  /** The fake's transactional writer, each transaction's commit passing through a {@link CommitGate}. */
  function gated() {
    const events: string[] = [];
    const gate = new CommitGate(events);
    const setup = exactlyOnce();
    const delivery = setup.delivery();
    if (delivery.mode !== 'exactly-once') throw new Error('expected exactly-once');
    const writer: TransactionalWriter = {
      begin: async () => {
        events.push('begin');
        const tx = await delivery.writer.begin();
        let sent = '';
        return {
          send: async (records) => {
            sent = sequences(records.filter((r) => r.topic === 'out')).join(',');
            events.push(`send ${sent}`);
            await tx.send(records);
          },
          commit: () => {
            events.push(`commit ${sent}`);
            return gate.pass(sent, () => tx.commit());
          },
          abort: () => tx.abort(),
        };
      },
      close: () => delivery.writer.close(),
    };
    return { events, gate, setup: { ...setup, delivery: (): Delivery => ({ ...delivery, writer }) } };
  }

  it('polls the next batch while a transaction commits, and begins the next transaction only after the commit', async () => {
    const { events, gate, setup } = gated();
    const task = new CountingTask({
      taskId: 0,
      total: 6,
      batchSize: 3,
      onPoll: (n) => {
        events.push(pollEvent(n, gate));
        if (n === 3) gate.release();
      },
    });
    const summary = await invoke(setup, task);
    events.push('returned');
    expect(events).toEqual([
      'begin',
      'poll 1',
      'send 0,1,2',
      'commit 0,1,2',
      'poll 2 (a commit in flight)',
      'poll 3 (a commit in flight)',
      'committed 0,1,2',
      'begin',
      'send 3,4,5',
      'commit 3,4,5',
      'committed 3,4,5',
      'returned',
    ]);
    expect(summary).toMatchObject({ stopReason: 'idle', records: 6, batches: 2 });
    expect(sequences(setup.kafka.committed('out'))).toEqual(range(6));
  });

  it('stops, fenced, when a commit is fenced while the next batch is polled; that batch is never sent', async () => {
    const { events, gate, setup } = gated();
    const task = new CountingTask({
      taskId: 0,
      total: 9,
      batchSize: 3,
      onPoll: (n) => {
        events.push(`poll ${n}`);
        if (n === 2) gate.release(new FencedError('fenced by a newer producer'));
      },
    });
    const summary = await invoke(setup, task);
    expect(summary).toMatchObject({ stopReason: 'fenced', records: 0, committed: [] });
    expect(events).toEqual(['begin', 'poll 1', 'send 0,1,2', 'commit 0,1,2', 'poll 2']);
    expect(setup.kafka.committed('out')).toEqual([]);
    expect(task.stopped).toBe(true);
  });
});
