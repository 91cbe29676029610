/**
 * Kafka → file throughput of the scheduled sink, against a bare loop of the same group-less reads writing
 * the same lines (issue: ratio ≥ 0.85).
 *
 * The topic: {@link PARTITIONS} partitions holding {@link RECORDS} datagen orders of ~1 KB (JSON values,
 * string keys), produced once beforehand, record i to partition i mod 2.
 *
 * Ours: the real scheduled handler (`createSinkFunction` → `handler`) with the production file sink
 * (Connect's FileStreamSink: one line per value, one append per put, one fdatasync per flush),
 * StringConverter keys and values, `offset.storage=kafka` (Connect's group `connect-<name>`, each batch's
 * offsets committed in a transaction), `max.poll.records` 500 (Connect's default): per batch of 500
 * records, read → convert → put → flush (fdatasync) → commit, pipelined one deep. Each run builds the
 * function for a fresh connector name (a fresh group: every record is read from the earliest offset)
 * and a fresh output file, primes it with one invocation with no time left (it opens the offsets
 * session, assigns the partitions, connects the reader, opens and closes the file, reads nothing), then
 * times one invocation that reads the whole topic (it ends `idle`, caught up): the `handler` call to its
 * return, as a warm Lambda invocation.
 *
 * Baseline: `createKafkaClients(<the same worker>).partitionReader()`, primed the same way (connected,
 * partition starts listed), then timed: open a fresh file for appending, for each partition in turn
 * `read({topic, partition, fromOffset})` to its end, and for every fetched batch (~1 MiB,
 * `max.partition.fetch.bytes`) one buffer of the values + line feeds — the same bytes the sink writes —
 * appended with one write; close. No conversion, no group, no offsets, and **no fdatasync** (the issue's
 * baseline). A second baseline does the same plus one fdatasync per fetched batch, for context: ours
 * syncs once per 500-record batch (about twice per fetch) and commits offsets as often.
 *
 * Rounds run the three sides in turn (the order rotating every round), after {@link WARM_UP_ROUNDS}
 * uncounted round; figures are medians. After every run the output file is checked: every record, one
 * line each, the same size on every side. The detailed table adds CPU time (`process.cpuUsage`) and the
 * time ours spends inside put, flush (fdatasync) and the offset commits (lib/sink-probe.ts; these
 * overlap the next batch's fetch and conversion). `--profile DIR` writes CPU profiles of one more,
 * uncounted round of ours and the no-fsync baseline and prints where their time went.
 *
 * Run: `npx tsx bench/sink-throughput.ts [--runs 5] [--profile DIR]`, or
 * `npm run bench -- --only sink-throughput`.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSinkFunction } from '../src/app/sink-function.ts';
import { loadBundle } from '../src/config/bundle.ts';
import { builtinRegistry } from '../src/connectors/builtins.ts';
import { createKafkaClients, type KafkaClients } from '../src/kafka/index.ts';
import { localContext } from '../src/lambda/lambda-context.ts';
import {
  type CpuProfile,
  compareProfiles,
  profiled,
  selfTimeByFunction,
  writeProfile,
} from './lib/cpu-profile.ts';
import { type Benchmark, compared, type ResultRow, runIfMain } from './lib/result.ts';
import {
  benchKafka,
  type Produced,
  produceDatagen,
  SINK_ENV,
  SINK_TIMEOUT_MS,
  writeSinkBundle,
} from './lib/sink-bundle.ts';
import { type MethodTotals, SinkProbe } from './lib/sink-probe.ts';
import type { BenchStack } from './lib/stack.ts';
import { median } from './lib/stats.ts';
import { formatTable } from './lib/table.ts';
import { BenchTopics } from './lib/topics.ts';

const NAME = 'sink-throughput';
const RECORDS = 50_000;
const RECORD_BYTES = 1024;
const PARTITIONS = 2;
const WARM_UP_ROUNDS = 1;
const TARGET = '>= 0.85';
const LF = 0x0a;
const NULL_LINE = Buffer.from('null');

type Side = 'ours' | 'ours, interval' | 'baseline' | 'baseline+fsync';
const SIDES: readonly Side[] = ['ours', 'ours, interval', 'baseline', 'baseline+fsync'];
/** The second configuration of ours: Kafka Connect's default `offset.flush.interval.ms`. */
const CONNECT_FLUSH_INTERVAL_MS = 60_000;

interface Setup {
  readonly stack: BenchStack;
  readonly dir: string;
  readonly topic: string;
  readonly produced: Produced;
  /** The clients of the baselines, from the same worker file as ours. */
  readonly clients: KafkaClients;
  readonly probe: SinkProbe;
  readonly id: () => string;
}

interface Run {
  readonly ms: number;
  /** User + system CPU of this process during the run. */
  readonly cpuMs: number;
  /** Batches put (ours) or fetches written (baselines). */
  readonly batches: number;
  /** Time inside the sink's methods (ours only). */
  readonly inside?: Readonly<Record<'put' | 'flush' | 'commit', MethodTotals>>;
  /** From the handler call until the offsets session was open (ours only). */
  readonly sessionMs?: number;
  /** The Kafka requests of the run, one line per request type (ours only). */
  readonly requests?: readonly string[];
}

type Timed = <T>(region: () => Promise<T>) => Promise<T>;
const plain: Timed = (region) => region();

async function timed<T>(timer: Timed, region: () => Promise<T>) {
  const startCpu = process.cpuUsage();
  const startMs = performance.now();
  const result = await timer(region);
  const ms = performance.now() - startMs;
  const cpu = process.cpuUsage(startCpu);
  return { result, startMs, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Every record written, one line each: the file holds exactly the value bytes + line feeds. */
function checkFile(side: Side, file: string, s: Setup): void {
  const size = statSync(file).size;
  if (size !== s.produced.lineBytes) {
    throw new Error(`${side}: the file holds ${size} bytes, expected ${s.produced.lineBytes}`);
  }
}

async function runOurs(s: Setup, timer = plain, flushIntervalMs?: number): Promise<Run> {
  const id = s.id();
  const connector = `bench-sink-tp-${id}`;
  const functionName = `connect-fn-${connector}`;
  const file = join(s.dir, `${id}-ours.txt`);
  const bundleDir = writeSinkBundle({
    dir: join(s.dir, id),
    brokers: s.stack.kafkaBrokers,
    connector,
    topic: s.topic,
    file,
    ...(flushIntervalMs === undefined ? {} : { flushIntervalMs }),
  });
  const fn = createSinkFunction({ bundleDir, connector, env: SINK_ENV });
  try {
    const margin = fn.connector.common['invocation.safety.margin.ms'];
    const primed = await fn.handler({ task: 0 }, localContext(functionName, margin));
    if (primed.records !== 0) throw new Error(`the priming invocation read ${primed.records} records`);
    s.probe.reset();
    const run = await timed(timer, () =>
      fn.handler({ task: 0 }, localContext(functionName, SINK_TIMEOUT_MS)),
    );
    const summary = run.result;
    const requests = s.probe.requestLines();
    const opened = s.probe.first.open;
    if (summary.records !== RECORDS || summary.bytes !== s.produced.bytes || summary.stopReason !== 'idle') {
      throw new Error(
        `expected ${RECORDS} records (${s.produced.bytes} B, idle), got ${JSON.stringify(summary)}`,
      );
    }
    checkFile('ours', file, s);
    const { put, flush, commit } = s.probe.totals;
    return {
      ms: run.ms,
      cpuMs: run.cpuMs,
      batches: summary.batches,
      inside: { put: { ...put }, flush: { ...flush }, commit: { ...commit } },
      ...(opened === undefined ? {} : { sessionMs: opened - run.startMs }),
      requests,
    };
  } finally {
    await fn.close();
    rmSync(file, { force: true });
  }
}

async function runBaseline(s: Setup, fsync: boolean, timer = plain): Promise<Run> {
  const side: Side = fsync ? 'baseline+fsync' : 'baseline';
  const file = join(s.dir, `${s.id()}-${side}.txt`);
  const reader = s.clients.partitionReader();
  const partitions = Array.from({ length: PARTITIONS }, (_, p) => p);
  try {
    // Primed as ours is: connected, the topic's metadata loaded, where each partition starts.
    const starts = await reader.startOffsets(s.topic, partitions);
    const run = await timed(timer, async () => {
      const deadlineMs = Date.now() + SINK_TIMEOUT_MS;
      const handle = await open(file, 'a');
      let records = 0;
      let batches = 0;
      try {
        for (const partition of partitions) {
          const fromOffset = starts.get(partition) ?? 0;
          for await (const batch of reader.read({ topic: s.topic, partition, fromOffset, deadlineMs })) {
            let size = 0;
            for (const r of batch) size += (r.value ?? NULL_LINE).byteLength + 1;
            const lines = Buffer.allocUnsafe(size);
            let at = 0;
            for (const r of batch) {
              const value = r.value ?? NULL_LINE;
              lines.set(value, at);
              at += value.byteLength;
              lines[at++] = LF;
            }
            for (let written = 0; written < size; ) {
              written += (await handle.write(lines, written, size - written)).bytesWritten;
            }
            if (fsync) await handle.datasync();
            records += batch.length;
            batches++;
          }
        }
      } finally {
        await handle.close();
      }
      return { records, batches };
    });
    if (run.result.records !== RECORDS) {
      throw new Error(`${side}: read ${run.result.records} records, expected ${RECORDS}`);
    }
    checkFile(side, file, s);
    return { ms: run.ms, cpuMs: run.cpuMs, batches: run.result.batches };
  } finally {
    await reader.close();
    rmSync(file, { force: true });
  }
}

function runSide(s: Setup, side: Side, timer = plain): Promise<Run> {
  if (side === 'ours') return runOurs(s, timer);
  if (side === 'ours, interval') return runOurs(s, timer, CONNECT_FLUSH_INTERVAL_MS);
  return runBaseline(s, side === 'baseline+fsync', timer);
}

/** One more round, not counted, ours and the no-fsync baseline under the profiler. */
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
  const baseline = await runBaseline(s, false, capture('baseline'));
  log(`profiled: ours ${ours.ms.toFixed(0)} ms, baseline ${baseline.ms.toFixed(0)} ms (profiler on)`);
  for (const line of compareProfiles(profiles)) log(line);
  log('ours: top functions by self time');
  for (const { fn, ms } of selfTimeByFunction(profiles.get('ours')!, 20)) {
    log(`${ms.toFixed(0).padStart(6)} ms  ${fn}`);
  }
}

function detail(s: Setup, runs: ReadonlyMap<Side, Run[]>): string[] {
  const head = ['side', 'wall p50', 'wall min', 'wall max', 'CPU p50', 'CPU/wall', 'batches'];
  const cells = SIDES.map((side) => {
    const r = runs.get(side)!;
    const wall = median(r.map((x) => x.ms));
    const cpu = median(r.map((x) => x.cpuMs));
    return [
      side,
      wall.toFixed(0),
      Math.min(...r.map((x) => x.ms)).toFixed(0),
      Math.max(...r.map((x) => x.ms)).toFixed(0),
      cpu.toFixed(0),
      (cpu / wall).toFixed(2),
      median(r.map((x) => x.batches)).toFixed(0),
    ];
  });
  const ours = runs.get('ours')!;
  const inside = (k: 'put' | 'flush' | 'commit') => {
    const total = median(ours.map((x) => x.inside![k].ms));
    const calls = median(ours.map((x) => x.inside![k].calls));
    return `${k} ${total.toFixed(0)} ms (${calls} calls, ${(total / Math.max(1, calls)).toFixed(1)} ms each)`;
  };
  const wall = (side: Side) => median(runs.get(side)!.map((x) => x.ms));
  const sessionMs = median(ours.map((x) => x.sessionMs ?? 0));
  const middle = [...ours].sort((a, b) => a.ms - b.ms)[Math.floor((ours.length - 1) / 2)]!;
  const paired = median(ours.map((o, i) => runs.get('baseline')![i]!.ms / o.ms));
  return [
    `${RECORDS} records over ${PARTITIONS} partitions, ` +
      `${(s.produced.bytes / 1e6).toFixed(1)} MB of keys and ` +
      `values, ${(s.produced.lineBytes / 1e6).toFixed(1)} MB of lines per run; ms per run`,
    ...formatTable(head, cells),
    `ours inside the sink (p50 per run, overlapping the next batch's read): ${inside('put')}, ` +
      `${inside('flush')}, ${inside('commit')}`,
    `ours: the offsets session was open ${sessionMs.toFixed(0)} ms into the ` +
      'invocation (p50); Kafka requests of the median run ' +
      `(${middle.ms.toFixed(0)} ms):`,
    ...(middle.requests ?? []).map((line) => `  ${line}`),
    `throughput ratio ${(wall('baseline') / wall('ours')).toFixed(3)} ` +
      `(paired by round ${paired.toFixed(3)}), ` +
      `vs the fdatasync baseline ${(wall('baseline+fsync') / wall('ours')).toFixed(3)}`,
  ];
}

function rows(s: Setup, runs: ReadonlyMap<Side, Run[]>): ResultRow[] {
  const perSecond = (count: number, side: Side) => median(runs.get(side)!.map((r) => count / (r.ms / 1000)));
  const n = runs.get('ours')!.length;
  const baselineName = 'group-less reads → 1 write per fetch, no fsync';
  const fsyncName = 'same + 1 fdatasync per fetch';
  const notes =
    `${RECORDS} × ~${RECORD_BYTES} B, ${PARTITIONS} partitions, warm invocation: 500-record batches, ` +
    `1 fdatasync + 1 offset-commit transaction each; median of ${n} runs`;
  return [
    compared(
      `${NAME}: records/s`,
      perSecond(RECORDS, 'ours'),
      'records/s',
      { name: baselineName, value: perSecond(RECORDS, 'baseline') },
      notes,
      TARGET,
    ),
    compared(
      `${NAME}: MB/s`,
      perSecond(s.produced.bytes / 1e6, 'ours'),
      'MB/s',
      { name: baselineName, value: perSecond(s.produced.bytes / 1e6, 'baseline') },
      'key + value bytes, 10^6 B',
    ),
    compared(
      `${NAME}: records/s, offset.flush.interval.ms=${CONNECT_FLUSH_INTERVAL_MS}`,
      perSecond(RECORDS, 'ours, interval'),
      'records/s',
      { name: baselineName, value: perSecond(RECORDS, 'baseline') },
      "Kafka Connect's default flush interval: one flush and one commit at the end of the invocation",
    ),
    compared(
      `${NAME}: records/s vs fsync baseline`,
      perSecond(RECORDS, 'ours'),
      'records/s',
      { name: fsyncName, value: perSecond(RECORDS, 'baseline+fsync') },
      'context only: a baseline as durable per fetch as ours is per batch (no offsets)',
    ),
  ];
}

export const sinkThroughput: Benchmark = {
  name: NAME,
  defaultRuns: 5,
  async run({ runs, log, stack, profileDir }) {
    const running = await stack();
    const dir = mkdtempSync(join(tmpdir(), 'connect-fn-sink-throughput-bench-'));
    const kafka = benchKafka(running.kafkaBrokers, 'connect-fn-bench-sink-throughput');
    const topics = new BenchTopics(kafka);
    const probe = new SinkProbe().install();
    try {
      let n = 0;
      const stamp = Date.now().toString(36);
      const id = () => `${stamp}-${n++}`;
      const topic = await topics.create(`bench-sink-throughput-${stamp}`, PARTITIONS);
      const produced = await produceDatagen(kafka, {
        dir: join(dir, 'datagen'),
        brokers: running.kafkaBrokers,
        topic,
        partitions: PARTITIONS,
        count: RECORDS,
        recordBytes: RECORD_BYTES,
      });
      // The baselines' clients, from the same worker file as ours (the connector in it is never run).
      const sample = writeSinkBundle({
        dir: join(dir, 'baseline-bundle'),
        brokers: running.kafkaBrokers,
        connector: 'bench-sink-tp-baseline',
        topic,
        file: join(dir, 'unused.txt'),
      });
      const bundle = loadBundle(sample, { registry: builtinRegistry(), env: SINK_ENV });
      const clients = createKafkaClients(bundle.worker, {
        clientId: 'connect-fn-bench-baseline',
        env: SINK_ENV,
      });
      const s: Setup = { stack: running, dir, topic, produced, clients, probe, id };
      const measured = new Map<Side, Run[]>(SIDES.map((side) => [side, []]));
      for (let round = 0; round < WARM_UP_ROUNDS + runs; round++) {
        const order = SIDES.map((_, i) => SIDES[(i + round) % SIDES.length]!);
        const line: string[] = [];
        for (const side of order) {
          const run = await runSide(s, side);
          line.push(`${side} ${run.ms.toFixed(0)} ms`);
          if (round >= WARM_UP_ROUNDS) measured.get(side)!.push(run);
        }
        log(
          `${round < WARM_UP_ROUNDS ? 'warm-up' : `run ${round - WARM_UP_ROUNDS + 1}`}: ${line.join(', ')}`,
        );
      }
      if (profileDir !== undefined) await profileRound(s, profileDir, log);
      for (const l of detail(s, measured)) log(l);
      return rows(s, measured);
    } finally {
      probe.uninstall();
      await topics.deleteAll(log);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

await runIfMain(import.meta.filename, sinkThroughput);
