import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { datagenConnector, iterationShare } from '../../../src/connectors/datagen/connector.ts';
import { numberLength } from '../../../src/connectors/datagen/quickstarts.ts';
import { DatagenStream, SIMULATED_EPOCH_MS } from '../../../src/connectors/datagen/stream.ts';
import { ConversionError } from '../../../src/errors.ts';
import type { SourceRecord } from '../../../src/spi/records.ts';
import type { TaskConfig } from '../../../src/spi/source.ts';
import { invoke, MemoryOffsets } from './task-harness.ts';

/** The connector's own keys as the validator produces them (defaults applied). */
function datagenConfig(overrides: Record<string, unknown> = {}): TaskConfig {
  return {
    'kafka.topic': 'orders',
    quickstart: 'orders',
    iterations: -1,
    'max.interval': 500,
    seed: 42,
    'random.seed': undefined,
    'record.bytes': 0,
    'batch.size': 1000,
    ...overrides,
  };
}

function taskConfig(task: number, tasks: number, overrides: Record<string, unknown> = {}): TaskConfig {
  const config = datagenConnector.taskConfigs(datagenConfig(overrides), tasks)[task];
  if (config === undefined) throw new Error(`no task ${task}`);
  return config;
}

const fieldsOf = (r: SourceRecord) => r.value as Record<string, unknown>;
const sequenceOf = (r: SourceRecord) => fieldsOf(r).sequence as number;

describe('datagen: records', () => {
  it('is deterministic: the same seed, task and sequence always give the same record', async () => {
    const first = await invoke(datagenConnector, taskConfig(1, 2), new MemoryOffsets(), { maxRecords: 50 });
    const again = new DatagenStream({
      topic: 'orders',
      quickstart: 'orders',
      seed: 42,
      task: 1,
      taskCount: 2,
      maxIntervalMs: 500,
      recordBytes: 0,
    });
    expect(first).toEqual(first.map((_, n) => again.record(n)));
    const otherSeed = await invoke(datagenConnector, taskConfig(1, 2, { seed: 43 }), new MemoryOffsets(), {
      maxRecords: 50,
    });
    const otherTask = await invoke(datagenConnector, taskConfig(0, 2), new MemoryOffsets(), {
      maxRecords: 50,
    });
    expect(otherSeed.map(fieldsOf)).not.toEqual(first.map(fieldsOf));
    expect(otherTask.map((r) => fieldsOf(r).itemid)).not.toEqual(first.map((r) => fieldsOf(r).itemid));
  });

  it('gives task i partition {task: i}, offsets {sequence: next} and the task and sequence in each value', async () => {
    const records = await invoke(datagenConnector, taskConfig(2, 3), new MemoryOffsets(), { maxRecords: 3 });
    expect(records.map((r) => [r.sourcePartition, r.sourceOffset, fieldsOf(r).task, sequenceOf(r)])).toEqual([
      [{ task: 2 }, { sequence: 1 }, 2, 0],
      [{ task: 2 }, { sequence: 2 }, 2, 1],
      [{ task: 2 }, { sequence: 3 }, 2, 2],
    ]);
    expect(records.every((r) => r.topic === 'orders')).toBe(true);
  });

  it("generates Confluent's quickstart fields, keyed by orderid, userid and viewtime", async () => {
    const offsets = new MemoryOffsets();
    const [order] = await invoke(datagenConnector, taskConfig(1, 4), offsets, { maxRecords: 1 });
    expect(Object.keys(fieldsOf(order!))).toEqual([
      'ordertime',
      'orderid',
      'itemid',
      'orderunits',
      'address',
      'task',
      'sequence',
    ]);
    expect(fieldsOf(order!).address).toEqual({
      city: expect.stringMatching(/^City_\d+$/),
      state: expect.stringMatching(/^State_\d+$/),
      zipcode: expect.any(Number),
    });
    expect(order!.key).toBe(String(fieldsOf(order!).orderid));
    const [user] = await invoke(
      datagenConnector,
      taskConfig(0, 1, { quickstart: 'users' }),
      new MemoryOffsets(),
      {
        maxRecords: 1,
      },
    );
    expect(fieldsOf(user!)).toMatchObject({
      userid: user!.key,
      gender: expect.stringMatching(/^(MALE|FEMALE|OTHER)$/),
    });
    const [view] = await invoke(
      datagenConnector,
      taskConfig(0, 1, { quickstart: 'pageviews' }),
      new MemoryOffsets(),
      {
        maxRecords: 1,
      },
    );
    expect(Object.keys(fieldsOf(view!))).toEqual(['viewtime', 'userid', 'pageid', 'task', 'sequence']);
    expect(view!.key).toBe(String(fieldsOf(view!).viewtime));
  });

  it('gives orders ids that are unique across tasks', async () => {
    const ids = new Set<unknown>();
    for (let task = 0; task < 3; task++) {
      const records = await invoke(datagenConnector, taskConfig(task, 3), new MemoryOffsets(), {
        maxRecords: 100,
      });
      for (const r of records) ids.add(fieldsOf(r).orderid);
    }
    expect(ids.size).toBe(300);
  });

  it('advances the simulated clock by steps of at most max.interval, never backwards', async () => {
    const records = await invoke(
      datagenConnector,
      taskConfig(0, 1, { 'max.interval': 1000 }),
      new MemoryOffsets(),
      {
        maxRecords: 2000,
      },
    );
    const times = records.map((r) => fieldsOf(r).ordertime as number);
    expect(times[0]).toBeGreaterThanOrEqual(SIMULATED_EPOCH_MS);
    const steps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(Math.min(...steps)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...steps)).toBeLessThanOrEqual(1000);
    const mean = steps.reduce((a, b) => a + b, 0) / steps.length;
    expect(mean).toBeGreaterThan(450);
    expect(mean).toBeLessThan(550);
    const still = await invoke(
      datagenConnector,
      taskConfig(0, 1, { 'max.interval': 0 }),
      new MemoryOffsets(),
      {
        maxRecords: 10,
      },
    );
    expect(new Set(still.map((r) => fieldsOf(r).ordertime))).toEqual(new Set([SIMULATED_EPOCH_MS]));
  });

  it('pads each value to record.bytes of schemaless JSON', async () => {
    for (const quickstart of ['orders', 'users', 'pageviews']) {
      const config = taskConfig(0, 1, { quickstart, 'record.bytes': 1024 });
      const records = await invoke(datagenConnector, config, new MemoryOffsets(), { maxRecords: 200 });
      expect(new Set(records.map((r) => Buffer.byteLength(JSON.stringify(r.value))))).toEqual(
        new Set([1024]),
      );
    }
    const [tiny] = await invoke(
      datagenConnector,
      taskConfig(0, 1, { 'record.bytes': 10 }),
      new MemoryOffsets(),
      {
        maxRecords: 1,
      },
    );
    expect(fieldsOf(tiny!).padding).toBe('');
  });
});

describe('datagen: padding arithmetic', () => {
  it('sizes the padding from the fields, exactly as serialising the unpadded value would', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('orders' as const, 'users' as const, 'pageviews' as const),
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (quickstart, recordBytes, seed, task, maxIntervalMs, sequence) => {
          const stream = new DatagenStream({
            topic: 't',
            quickstart,
            seed,
            task,
            taskCount: task + 1,
            maxIntervalMs,
            recordBytes,
          });
          const { padding, ...unpadded } = fieldsOf(stream.record(sequence));
          const expected = Math.max(
            0,
            recordBytes - JSON.stringify(unpadded).length - ',"padding":""'.length,
          );
          expect((padding as string).length).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('writes every number as long as JSON writes it', () => {
    for (const n of [
      0,
      -0,
      7,
      -7,
      9,
      10,
      99,
      100,
      1e15 - 1,
      1e15,
      2 ** 53 - 1,
      2 ** 53,
      1e21,
      1.5,
      -0.25,
      1e-7,
    ]) {
      expect(numberLength(n)).toBe(JSON.stringify(n).length);
    }
  });
});

describe('datagen: polling and resuming', () => {
  it('returns at most min(batch.size, maxRecords, what is left), then [] when the share is done', async () => {
    const task = datagenConnector.createTask(taskConfig(0, 2, { iterations: 9, 'batch.size': 3 }));
    await task.start(new MemoryOffsets().context());
    const budget = (maxRecords: number) => ({ maxRecords, deadlineMs: Infinity });
    const sizes = [];
    for (const max of [10, 2, 10, 10, 10]) sizes.push((await task.poll(budget(max))).length);
    expect(sizes).toEqual([3, 2, 0, 0, 0]);
  });

  it('resumes after the committed sequence', async () => {
    const offsets = new MemoryOffsets();
    offsets.set({ task: 0 }, { sequence: 41 });
    const records = await invoke(datagenConnector, taskConfig(0, 1), offsets, { maxRecords: 2 });
    expect(records.map(sequenceOf)).toEqual([41, 42]);
    expect(offsets.get({ task: 0 })).toEqual({ sequence: 43 });
  });

  it('refuses a committed offset it cannot read', async () => {
    const offsets = new MemoryOffsets();
    offsets.set({ task: 0 }, { sequence: 'x' });
    await expect(invoke(datagenConnector, taskConfig(0, 1), offsets, { maxRecords: 1 })).rejects.toThrow(
      ConversionError,
    );
  });

  it('produces every sequence number once across invocations, and a crashed invocation is redone identically', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.record({ maxRecords: fc.integer({ min: 1, max: 120 }), crash: fc.boolean() }), {
          minLength: 1,
          maxLength: 40,
        }),
        async (iterations, tasks, invocations) => {
          const offsets = new MemoryOffsets();
          const delivered = new Map<number, SourceRecord[]>();
          const seen = new Map<string, SourceRecord>();
          for (const [i, inv] of invocations.entries()) {
            const task = i % tasks;
            const config = taskConfig(task, tasks, { iterations, 'batch.size': 17 });
            const options = { maxRecords: inv.maxRecords, commit: !inv.crash, taskId: task };
            const records = await invoke(datagenConnector, config, offsets, options);
            for (const r of records) {
              const id = `${task}/${sequenceOf(r)}`;
              if (seen.has(id)) expect(r).toEqual(seen.get(id));
              seen.set(id, r);
            }
            if (!inv.crash) delivered.set(task, [...(delivered.get(task) ?? []), ...records]);
          }
          for (let task = 0; task < tasks; task++) {
            const sequences = (delivered.get(task) ?? []).map(sequenceOf);
            expect(sequences).toEqual(sequences.map((_, n) => n));
            const share = iterationShare(iterations, task, tasks);
            if (share >= 0) expect(sequences.length).toBeLessThanOrEqual(share);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('generates the whole share with enough invocations, and nothing more', async () => {
    const offsets = new MemoryOffsets();
    let total = 0;
    for (let i = 0; i < 12; i++) {
      for (let task = 0; task < 3; task++) {
        const config = taskConfig(task, 3, { iterations: 1000 });
        total += (await invoke(datagenConnector, config, offsets, { maxRecords: 100, taskId: task })).length;
      }
    }
    expect(total).toBe(1000);
    expect([0, 1, 2].map((task) => offsets.get({ task }))).toEqual([
      { sequence: 334 },
      { sequence: 333 },
      { sequence: 333 },
    ]);
  });

  it('generates 100,000 records of 1 KB well within a second', async () => {
    const task = datagenConnector.createTask(
      taskConfig(0, 1, { 'record.bytes': 1024, 'batch.size': 100_000 }),
    );
    await task.start(new MemoryOffsets().context());
    const started = process.cpuUsage();
    const records = await task.poll({ maxRecords: 100_000, deadlineMs: Infinity });
    const cpu = process.cpuUsage(started);
    expect(records).toHaveLength(100_000);
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(1000);
  });
});
