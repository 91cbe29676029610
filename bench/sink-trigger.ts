/**
 * Records/s of a triggered sink invocation on a ~6 MB Kafka event (Lambda's payload limit), against
 * decoding the same event alone. No target: the ratio says what share of the invocation is the decoding
 * every triggered invocation pays before the first record reaches the task.
 *
 * The event: {@link PRODUCED} datagen orders of ~1 KB produced to a fresh {@link PARTITIONS}-partition
 * topic, read back with the group-less reader (real offsets, timestamps, keys and values) and turned into
 * an MSK event by `kafkaEventFrom` (test/support/kafka-events.ts: base64 keys and values, the two
 * partitions interleaved as AWS groups them), with as many records as keep its JSON at most
 * {@link MAX_EVENT_BYTES} (6 MiB). Each run gets its own object, `JSON.parse`d from that text outside the
 * timed region, as the Lambda runtime hands the handler a parsed event.
 *
 * Ours: `triggerHandler` of one sink function (created once, warm: the file sink appending to one file,
 * StringConverter keys and values, `max.poll.records` 500, logs at warn), timed from the call to its
 * response: decode → per partition, chunks of 500: convert → `put` (one append each) → one `flush`
 * (fdatasync) → `task.stop` → the partial batch response, which must be empty; the file must have grown
 * by exactly the event's lines.
 * Baseline: `decodeKafkaEvent(event)` alone (validation, base64 → bytes), on its own parsed copy.
 *
 * Rounds alternate the order, after {@link WARM_UP_ROUNDS} uncounted rounds; figures are medians. The
 * detailed table adds the time ours spends inside put and flush (lib/sink-probe.ts) and CPU time.
 * `--profile DIR` writes CPU profiles of one more, uncounted round of each side.
 *
 * Run: `npx tsx bench/sink-trigger.ts [--runs 20] [--profile DIR]`, or
 * `npm run bench -- --only sink-trigger`.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSinkFunction, type SinkFunction } from '../src/app/sink-function.ts';
import { loadBundle } from '../src/config/bundle.ts';
import { builtinRegistry } from '../src/connectors/builtins.ts';
import { createKafkaClients } from '../src/kafka/index.ts';
import { decodeKafkaEvent } from '../src/lambda/kafka-event.ts';
import { localContext } from '../src/lambda/lambda-context.ts';
import type { FetchedRecord } from '../src/runtime/ports.ts';
import { kafkaEventFrom } from '../test/support/kafka-events.ts';
import {
  type CpuProfile,
  compareProfiles,
  profiled,
  selfTimeByFunction,
  writeProfile,
} from './lib/cpu-profile.ts';
import { type Benchmark, compared, type ResultRow, runIfMain } from './lib/result.ts';
import { benchKafka, produceDatagen, SINK_ENV, SINK_TIMEOUT_MS, writeSinkBundle } from './lib/sink-bundle.ts';
import { SinkProbe } from './lib/sink-probe.ts';
import { median } from './lib/stats.ts';
import { formatTable } from './lib/table.ts';
import { BenchTopics } from './lib/topics.ts';

const NAME = 'sink-trigger';
const RECORD_BYTES = 1024;
const PARTITIONS = 2;
/** More than a 6 MiB event holds (a ~1 KB record is ~1.45 KB of event JSON). */
const PRODUCED = 5_000;
/** Lambda's invocation payload limit, which bounds an event source mapping's batch. */
const MAX_EVENT_BYTES = 6 * 1024 * 1024;
const WARM_UP_ROUNDS = 2;

interface Setup {
  readonly fn: SinkFunction;
  readonly functionName: string;
  readonly file: string;
  readonly probe: SinkProbe;
  /** The event as the runtime receives it, JSON. */
  readonly eventJson: string;
  readonly records: number;
  /** Key and value bytes of the event's records. */
  readonly bytes: number;
  /** What the file sink appends for them: value bytes + a line feed each. */
  readonly lineBytes: number;
}

interface Run {
  readonly ms: number;
  readonly cpuMs: number;
  /** Ours: time inside put and flush. */
  readonly putMs?: number;
  readonly flushMs?: number;
}

type Timed = <T>(region: () => Promise<T>) => Promise<T>;
const plain: Timed = (region) => region();

async function timed<T>(timer: Timed, region: () => Promise<T>) {
  const startCpu = process.cpuUsage();
  const startMs = performance.now();
  const result = await timer(region);
  const ms = performance.now() - startMs;
  const cpu = process.cpuUsage(startCpu);
  return { result, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function runOurs(s: Setup, timer = plain): Promise<Run> {
  const event: unknown = JSON.parse(s.eventJson);
  const before = statSync(s.file).size;
  s.probe.reset();
  const run = await timed(timer, () =>
    s.fn.triggerHandler(event, localContext(s.functionName, SINK_TIMEOUT_MS)),
  );
  if (run.result.batchItemFailures.length > 0) {
    throw new Error(`the invocation failed records: ${JSON.stringify(run.result.batchItemFailures)}`);
  }
  const grown = statSync(s.file).size - before;
  if (grown !== s.lineBytes) throw new Error(`the file grew by ${grown} bytes, expected ${s.lineBytes}`);
  return { ms: run.ms, cpuMs: run.cpuMs, putMs: s.probe.totals.put.ms, flushMs: s.probe.totals.flush.ms };
}

async function runBaseline(s: Setup, timer = plain): Promise<Run> {
  const event: unknown = JSON.parse(s.eventJson);
  const run = await timed(timer, async () => decodeKafkaEvent(event));
  const decoded = run.result.partitions.reduce((n, p) => n + p.records.length, 0);
  if (decoded !== s.records) throw new Error(`decoded ${decoded} records, expected ${s.records}`);
  return { ms: run.ms, cpuMs: run.cpuMs };
}

/** Partitions' records interleaved (p0[0], p1[0], p0[1], ...), so any prefix holds both partitions. */
function interleave(byPartition: readonly FetchedRecord[][]): FetchedRecord[] {
  const out: FetchedRecord[] = [];
  const longest = Math.max(...byPartition.map((p) => p.length));
  for (let i = 0; i < longest; i++) for (const p of byPartition) if (i < p.length) out.push(p[i]!);
  return out;
}

/** The longest prefix of `records` whose MSK event is at most MAX_EVENT_BYTES of JSON. */
function sixMegabyteEvent(records: readonly FetchedRecord[], brokers: string) {
  const json = (n: number) =>
    JSON.stringify(kafkaEventFrom(records.slice(0, n), 'aws:kafka', { bootstrapServers: brokers }));
  let low = 1;
  let high = records.length;
  if (Buffer.byteLength(json(high)) <= MAX_EVENT_BYTES) {
    throw new Error(`${records.length} records do not fill ${MAX_EVENT_BYTES} bytes of event`);
  }
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (Buffer.byteLength(json(mid)) <= MAX_EVENT_BYTES) low = mid;
    else high = mid;
  }
  return { count: low, json: json(low) };
}

async function profileRound(s: Setup, dir: string, log: (line: string) => void): Promise<void> {
  const profiles = new Map<string, CpuProfile>();
  const capture =
    (name: string): Timed =>
    async (region) => {
      const { result, profile } = await profiled(region);
      profiles.set(name, profile);
      log(`wrote ${writeProfile(dir, `${NAME}-${name}`, profile)}`);
      return result;
    };
  const ours = await runOurs(s, capture('ours'));
  const baseline = await runBaseline(s, capture('baseline'));
  log(`profiled: ours ${ours.ms.toFixed(0)} ms, baseline ${baseline.ms.toFixed(0)} ms (profiler on)`);
  for (const line of compareProfiles(profiles)) log(line);
  log('ours: top functions by self time');
  for (const { fn, ms } of selfTimeByFunction(profiles.get('ours')!, 15)) {
    log(`${ms.toFixed(0).padStart(6)} ms  ${fn}`);
  }
}

function detail(s: Setup, ours: readonly Run[], baseline: readonly Run[]): string[] {
  const p50 = (runs: readonly Run[], pick: (r: Run) => number | undefined) =>
    median(runs.map((r) => pick(r) ?? 0)).toFixed(1);
  const head = ['side', 'wall p50', 'wall min', 'wall max', 'CPU p50', 'put p50', 'flush p50'];
  const row = (name: string, runs: readonly Run[]) => [
    name,
    p50(runs, (r) => r.ms),
    Math.min(...runs.map((r) => r.ms)).toFixed(1),
    Math.max(...runs.map((r) => r.ms)).toFixed(1),
    p50(runs, (r) => r.cpuMs),
    runs[0]?.putMs === undefined ? '-' : p50(runs, (r) => r.putMs),
    runs[0]?.flushMs === undefined ? '-' : p50(runs, (r) => r.flushMs),
  ];
  return [
    `event: ${s.records} records over ${PARTITIONS} partitions, ` +
      `${(s.eventJson.length / 2 ** 20).toFixed(2)} MiB ` +
      `of JSON, ${(s.bytes / 1e6).toFixed(2)} MB of keys and values; ms per invocation`,
    ...formatTable(head, [row('ours (triggerHandler)', ours), row('baseline (decode only)', baseline)]),
  ];
}

function rows(s: Setup, ours: readonly Run[], baseline: readonly Run[]): ResultRow[] {
  const perSecond = (count: number, runs: readonly Run[]) => median(runs.map((r) => count / (r.ms / 1000)));
  const baselineName = 'decodeKafkaEvent of the same event alone';
  const notes =
    `${s.records} × ~${RECORD_BYTES} B in one ${(s.eventJson.length / 2 ** 20).toFixed(1)} MiB MSK event ` +
    `(${PARTITIONS} partitions): decode, convert, put per 500, 1 fdatasync; ` +
    `median of ${ours.length}; no target`;
  return [
    compared(
      `${NAME}: records/s`,
      perSecond(s.records, ours),
      'records/s',
      { name: baselineName, value: perSecond(s.records, baseline) },
      notes,
    ),
    compared(
      `${NAME}: MB/s`,
      perSecond(s.bytes / 1e6, ours),
      'MB/s',
      { name: baselineName, value: perSecond(s.bytes / 1e6, baseline) },
      'key + value bytes, 10^6 B',
    ),
  ];
}

export const sinkTrigger: Benchmark = {
  name: NAME,
  defaultRuns: 20,
  async run({ runs, log, stack, profileDir }) {
    const running = await stack();
    const dir = mkdtempSync(join(tmpdir(), 'connect-fn-sink-trigger-bench-'));
    const kafka = benchKafka(running.kafkaBrokers, 'connect-fn-bench-sink-trigger');
    const topics = new BenchTopics(kafka);
    const probe = new SinkProbe().install();
    let fn: SinkFunction | undefined;
    try {
      const stamp = Date.now().toString(36);
      const topic = await topics.create(`bench-sink-trigger-${stamp}`, PARTITIONS);
      await produceDatagen(kafka, {
        dir: join(dir, 'datagen'),
        brokers: running.kafkaBrokers,
        topic,
        partitions: PARTITIONS,
        count: PRODUCED,
        recordBytes: RECORD_BYTES,
      });
      const connector = `bench-sink-trigger-${stamp}`;
      const file = join(dir, 'sink.txt');
      const bundleDir = writeSinkBundle({
        dir: join(dir, 'bundle'),
        brokers: running.kafkaBrokers,
        connector,
        topic,
        file,
        trigger: 'kafka',
      });
      // The records as a broker hands them out, read back with the bundle's own reader.
      const bundle = loadBundle(bundleDir, { registry: builtinRegistry(), env: SINK_ENV });
      const reader = createKafkaClients(bundle.worker, { env: SINK_ENV }).partitionReader();
      const byPartition: FetchedRecord[][] = [];
      try {
        const deadlineMs = Date.now() + 60_000;
        for (let partition = 0; partition < PARTITIONS; partition++) {
          const read: FetchedRecord[] = [];
          for await (const batch of reader.read({ topic, partition, fromOffset: 0, deadlineMs }))
            read.push(...batch);
          byPartition.push(read);
        }
      } finally {
        await reader.close();
      }
      const records = interleave(byPartition);
      const event = sixMegabyteEvent(records, running.kafkaBrokers);
      const chosen = records.slice(0, event.count);
      writeFileSync(file, ''); // each run checks how much it grew
      fn = createSinkFunction({ bundleDir, connector, env: SINK_ENV });
      const s: Setup = {
        fn,
        functionName: `connect-fn-${connector}`,
        file,
        probe,
        eventJson: event.json,
        records: event.count,
        bytes: chosen.reduce((n, r) => n + (r.key?.byteLength ?? 0) + (r.value?.byteLength ?? 0), 0),
        lineBytes: chosen.reduce((n, r) => n + (r.value?.byteLength ?? 4) + 1, 0),
      };
      const ours: Run[] = [];
      const baseline: Run[] = [];
      for (let round = 0; round < WARM_UP_ROUNDS + runs; round++) {
        const counted = round >= WARM_UP_ROUNDS;
        const sides = [
          async () => ['ours', await runOurs(s)] as const,
          async () => ['baseline', await runBaseline(s)] as const,
        ];
        if (round % 2 === 1) sides.reverse();
        const line: string[] = [];
        for (const side of sides) {
          const [which, run] = await side();
          line.push(`${which} ${run.ms.toFixed(1)} ms`);
          if (counted) (which === 'ours' ? ours : baseline).push(run);
        }
        log(`${counted ? `run ${round - WARM_UP_ROUNDS + 1}` : 'warm-up'}: ${line.join(', ')}`);
      }
      if (profileDir !== undefined) await profileRound(s, profileDir, log);
      for (const l of detail(s, ours, baseline)) log(l);
      return rows(s, ours, baseline);
    } finally {
      probe.uninstall();
      await fn?.close();
      await topics.deleteAll(log);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

await runIfMain(import.meta.filename, sinkTrigger);
