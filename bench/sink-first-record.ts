/**
 * Time to the first record of a scheduled sink invocation, against a kafkajs consumer group's time to its
 * first batch (issue: ratio ≤ 0.10).
 *
 * The topic: one partition of {@link PRODUCED} datagen orders of ~1 KB, produced once beforehand. Both
 * sides read it from the beginning with nothing committed for them.
 *
 * Ours: the real scheduled handler (`createSinkFunction` → `handler`) with the production file sink,
 * `offset.storage=kafka` (Connect's group `connect-<name>`, committed in transactions), defaults
 * elsewhere (`max.poll.records` 500). Each round builds the function for a fresh connector name (a fresh
 * group, so `auto.offset.reset=earliest` applies) with `invocation.max.records` = {@link PER_INVOCATION},
 * so every invocation puts one batch, commits it and ends. The first `put` is observed from outside:
 * `FileSinkTask.prototype.put` is wrapped to note when it is first entered (lib/sink-probe.ts; the
 * records have been read, converted and handed to the task then; the append itself takes well under a
 * millisecond). Two figures per round:
 * - warm (the one that matters: every scheduled invocation after the first): a fresh invocation of the
 *   already-created function, from the `handler` call to the first `put`. {@link WARM_INVOCATIONS} of
 *   them per round, each continuing from the offset the one before committed. Per invocation it opens a
 *   new offsets session (a transactional producer's InitProducerId, which fences older invocations, and
 *   an admin's DescribeGroups), a topic admin for the assignment (metadata), reads the committed offsets
 *   (OffsetFetch), starts the task (opens the file) and fetches; the partition reader's connections
 *   are kept from the invocation before, as in a warm Lambda.
 * - cold: from `createSinkFunction` (bundle load, validation, Kafka client factory, converters; the
 *   modules are already imported — module loading is bench/bundle-load's subject) through the first
 *   invocation's first `put`, every connection opened on the way (plus a ListOffsets for `earliest`).
 *
 * Baseline: a kafkajs 2.2.4 consumer with a fresh group id per round, `subscribe({topic, fromBeginning:
 * true})` + `run({eachBatch})`, kafkajs' and the broker's defaults as they are — notably
 * `group.initial.rebalance.delay.ms` 3000 ms, which the join into an empty group waits
 * (../shared/REFERENCE.md); a group-less read is why connect-fn needs none. Timed from `connect()` to
 * the first `eachBatch` call; the consumer leaves the group after the timed region.
 *
 * Rounds alternate the order of the two sides, after {@link WARM_UP_ROUNDS} uncounted rounds; figures are
 * medians (warm: over every warm invocation of every round). The detailed table splits our time into
 * the offsets session, the steps up to `task.start`, and the fetch and conversion of the first batch.
 *
 * Run: `npx tsx bench/sink-first-record.ts [--runs 5]`, or `npm run bench -- --only sink-first-record`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { createSinkFunction } from '../src/app/sink-function.ts';
import { localContext } from '../src/lambda/lambda-context.ts';
import { type Benchmark, compared, type ResultRow, runIfMain } from './lib/result.ts';
import { benchKafka, produceDatagen, SINK_ENV, SINK_TIMEOUT_MS, writeSinkBundle } from './lib/sink-bundle.ts';
import { SinkProbe } from './lib/sink-probe.ts';
import type { BenchStack } from './lib/stack.ts';
import { median } from './lib/stats.ts';
import { formatTable, ms } from './lib/table.ts';
import { BenchTopics } from './lib/topics.ts';

const NAME = 'sink-first-record';
const RECORD_BYTES = 1024;
/** `invocation.max.records`: one `max.poll.records` batch per invocation. */
const PER_INVOCATION = 500;
const WARM_INVOCATIONS = 3;
/** Enough for the cold invocation and the warm ones of a round (each round starts again at offset 0). */
const PRODUCED = PER_INVOCATION * (1 + WARM_INVOCATIONS) + 1000;
const WARM_UP_ROUNDS = 1;
const TARGET = '<= 0.10';

interface Setup {
  readonly stack: BenchStack;
  readonly dir: string;
  readonly kafka: Kafka;
  readonly topic: string;
  readonly probe: SinkProbe;
  readonly id: () => string;
}

/** Milliseconds from the start of an invocation (or of createSinkFunction) to each step. */
interface Steps {
  /** createSinkFunction returned (cold only). */
  readonly created?: number;
  /** The offsets session was open. */
  readonly session: number;
  /** `task.start` was called: partitions assigned, committed offsets read (and reset to earliest). */
  readonly start: number;
  /** The first `put`: the first batch fetched and converted. */
  readonly put: number;
}

interface OursRound {
  readonly cold: Steps;
  readonly warm: Steps[];
  /** The Kafka requests of the round's last warm invocation, one line per request type. */
  readonly requests: readonly string[];
}

function steps(probe: SinkProbe, fromMs: number, createdMs?: number): Steps {
  const { open, start, put } = probe.first;
  if (open === undefined || start === undefined || put === undefined) {
    throw new Error(`the invocation did not reach its first put (${JSON.stringify(probe.first)})`);
  }
  return {
    ...(createdMs === undefined ? {} : { created: createdMs - fromMs }),
    session: open - fromMs,
    start: start - fromMs,
    put: put - fromMs,
  };
}

async function runOurs(s: Setup): Promise<OursRound> {
  const id = s.id();
  const connector = `bench-first-${id}`;
  const functionName = `connect-fn-${connector}`;
  const bundleDir = writeSinkBundle({
    dir: join(s.dir, id),
    brokers: s.stack.kafkaBrokers,
    connector,
    topic: s.topic,
    file: join(s.dir, id, 'sink.txt'),
    maxRecords: PER_INVOCATION,
  });
  s.probe.reset();
  const coldStartMs = performance.now();
  const fn = createSinkFunction({ bundleDir, connector, env: SINK_ENV });
  const invoke = async () => {
    const summary = await fn.handler({ task: 0 }, localContext(functionName, SINK_TIMEOUT_MS));
    if (summary.records !== PER_INVOCATION || summary.stopReason !== 'max-records') {
      throw new Error(`expected ${PER_INVOCATION} records (max-records), got ${JSON.stringify(summary)}`);
    }
  };
  try {
    const createdMs = performance.now();
    await invoke();
    const cold = steps(s.probe, coldStartMs, createdMs);
    const warm: Steps[] = [];
    for (let i = 0; i < WARM_INVOCATIONS; i++) {
      s.probe.reset();
      const startMs = performance.now();
      await invoke();
      warm.push(steps(s.probe, startMs));
    }
    return { cold, warm, requests: s.probe.requestLines() };
  } finally {
    await fn.close();
  }
}

/** A kafkajs consumer group's first batch: connect → subscribe → run → first eachBatch, in ms. */
async function runBaseline(s: Setup): Promise<number> {
  const consumer = s.kafka.consumer({ groupId: `bench-first-baseline-${s.id()}` });
  let firstBatch: (atMs: number) => void = () => undefined;
  const first = new Promise<number>((resolve) => {
    firstBatch = resolve;
  });
  try {
    const startMs = performance.now();
    await consumer.connect();
    await consumer.subscribe({ topic: s.topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        if (batch.messages.length > 0) firstBatch(performance.now());
      },
    });
    return (await first) - startMs;
  } finally {
    await consumer.disconnect();
  }
}

interface Measured {
  readonly cold: Steps[];
  readonly warm: Steps[];
  readonly baseline: number[];
  requests: readonly string[];
}

function stepsTable(m: Measured): string[] {
  const p50 = (xs: readonly Steps[], pick: (s: Steps) => number | undefined) => {
    const values = xs.map(pick).filter((v): v is number => v !== undefined);
    return values.length === 0 ? '-' : ms(median(values));
  };
  const row = (name: string, xs: readonly Steps[]) => [
    name,
    p50(xs, (x) => x.created),
    p50(xs, (x) => x.session),
    p50(xs, (x) => x.start),
    p50(xs, (x) => x.put),
    ms(Math.min(...xs.map((x) => x.put))),
    ms(Math.max(...xs.map((x) => x.put))),
  ];
  const head = ['ours', 'created', 'session open', 'task.start', 'first put', 'min', 'max'];
  return [
    'ms from the start (handler call; cold: createSinkFunction) to each step, p50 per column',
    ...formatTable(head, [row(`warm (${m.warm.length})`, m.warm), row(`cold (${m.cold.length})`, m.cold)]),
    `baseline (kafkajs group, connect → first eachBatch): p50 ${ms(median(m.baseline))}, min ` +
      `${ms(Math.min(...m.baseline))}, max ${ms(Math.max(...m.baseline))} (${m.baseline.length} runs)`,
    'ours, Kafka requests of the last warm invocation (whole invocation, the commit included; requests ' +
      'of the producer and the admins overlap):',
    ...m.requests.map((line) => `  ${line}`),
  ];
}

function rows(m: Measured): ResultRow[] {
  const baseline = {
    name: 'kafkajs consumer group, connect → first batch',
    value: median(m.baseline),
  };
  const warm = median(m.warm.map((x) => x.put));
  const cold = median(m.cold.map((x) => x.put));
  return [
    compared(
      `${NAME}: warm invocation`,
      warm,
      'ms',
      baseline,
      `handler call → first FileSinkTask.put of a fresh invocation of an already-created function ` +
        `(new offsets session + metadata + OffsetFetch + fetch); p50 of ${m.warm.length} invocations, ` +
        `baseline p50 of ${m.baseline.length} fresh groups (3 s initial rebalance delay, broker default)`,
      TARGET,
    ),
    compared(
      `${NAME}: cold (createSinkFunction + 1st invocation)`,
      cold,
      'ms',
      baseline,
      `createSinkFunction (bundle load; modules already imported) → first put, every connection new; ` +
        `p50 of ${m.cold.length}; no target`,
    ),
  ];
}

export const sinkFirstRecord: Benchmark = {
  name: NAME,
  defaultRuns: 5,
  async run({ runs, log, stack }) {
    const running = await stack();
    const dir = mkdtempSync(join(tmpdir(), 'connect-fn-sink-first-bench-'));
    const kafka = benchKafka(running.kafkaBrokers, 'connect-fn-bench-sink-first');
    const topics = new BenchTopics(kafka);
    const probe = new SinkProbe().install();
    try {
      let n = 0;
      const stamp = Date.now().toString(36);
      const topic = await topics.create(`bench-sink-first-${stamp}`, 1);
      await produceDatagen(kafka, {
        dir: join(dir, 'datagen'),
        brokers: running.kafkaBrokers,
        topic,
        partitions: 1,
        count: PRODUCED,
        recordBytes: RECORD_BYTES,
      });
      const s: Setup = { stack: running, dir, kafka, topic, probe, id: () => `${stamp}-${n++}` };
      const m: Measured = { cold: [], warm: [], baseline: [], requests: [] };
      for (let round = 0; round < WARM_UP_ROUNDS + runs; round++) {
        const counted = round >= WARM_UP_ROUNDS;
        const line: string[] = [];
        const sides = [
          async () => {
            const ours = await runOurs(s);
            line.push(
              `ours cold ${ms(ours.cold.put)} ms, warm ${ours.warm.map((w) => ms(w.put)).join(' / ')} ms`,
            );
            if (counted) {
              m.cold.push(ours.cold);
              m.warm.push(...ours.warm);
              m.requests = ours.requests;
            }
          },
          async () => {
            const baseline = await runBaseline(s);
            line.push(`baseline ${ms(baseline)} ms`);
            if (counted) m.baseline.push(baseline);
          },
        ];
        if (round % 2 === 1) sides.reverse();
        for (const side of sides) await side();
        log(`${counted ? `run ${round - WARM_UP_ROUNDS + 1}` : 'warm-up'}: ${line.join(', ')}`);
      }
      for (const l of stepsTable(m)) log(l);
      return rows(m);
    } finally {
      probe.uninstall();
      await topics.deleteAll(log);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

await runIfMain(import.meta.filename, sinkFirstRecord);
