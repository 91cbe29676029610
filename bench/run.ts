/**
 * `npm run bench [-- --only NAME[,NAME]] [--runs N] [--json FILE] [--profile DIR]`: runs every benchmark,
 * prints one table of figures, each next to a baseline measured in the same run, the ratio between them
 * (DESIGN.md §6) and the issue's target where it sets one, and with `--json` writes the same rows as
 * `{"results": [{name, unit, ours, baseline, ratio, target, pass, baselineName, notes}]}` beside a
 * description of the machine, the date and the runs.
 *
 * The Kafka benchmarks run against the local stack (a real broker and DynamoDB Local, `src/stack`),
 * started once here and stopped at the end, unless `KAFKA_BROKERS` / `DYNAMODB_ENDPOINT` are set.
 * `--profile DIR` makes the benchmarks that support it write CPU profiles of one extra, uncounted round.
 *
 * Progress and each benchmark's detailed table go to stderr; the results table goes to stdout. Timings
 * are never asserted anywhere: these machines have 2 cores and are noisy, so compare ratios, not
 * milliseconds, between runs. A missed target is reported, not an error (the exit code stays 0).
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { bundleLoad } from './bundle-load.ts';
import { dynamodbSinkThroughput } from './dynamodb-sink-throughput.ts';
import { dynamodbStreamsThroughput } from './dynamodb-streams-throughput.ts';
import { type Benchmark, parseRuns, type ResultRow } from './lib/result.ts';
import { withStack } from './lib/stack.ts';
import { formatTable } from './lib/table.ts';
import { loggerColdStart } from './logger-cold-start.ts';
import { offsetCommit } from './offset-commit.ts';
import { packageBench } from './package.ts';
import { sinkFirstRecord } from './sink-first-record.ts';
import { sinkThroughput } from './sink-throughput.ts';
import { sinkTrigger } from './sink-trigger.ts';
import { sourceRss } from './source-rss.ts';
import { sourceThroughput } from './source-throughput.ts';

/** Every benchmark, in the order they run. A new benchmark exports a {@link Benchmark} and joins here. */
const BENCHMARKS: readonly Benchmark[] = [
  loggerColdStart,
  bundleLoad,
  sourceThroughput,
  offsetCommit,
  sourceRss,
  sinkFirstRecord,
  sinkThroughput,
  sinkTrigger,
  dynamodbSinkThroughput,
  dynamodbStreamsThroughput,
  packageBench,
];

interface Report {
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly node: string;
    readonly platform: string;
    readonly arch: string;
    readonly memoryMiB: number;
    /** 1-, 5- and 15-minute load averages when the run started: how busy the machine was. */
    readonly loadAverage: readonly number[];
  };
  readonly date: string;
  /** Measured runs per variant, by benchmark. */
  readonly runs: Readonly<Record<string, number>>;
  readonly results: readonly ResultRow[];
}

function machine(): Report['machine'] {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    memoryMiB: Math.round(totalmem() / 2 ** 20),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

function selected(only: string | undefined): readonly Benchmark[] {
  if (only === undefined) return BENCHMARKS;
  const names = only.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !BENCHMARKS.some((b) => b.name === n));
  if (unknown.length > 0) {
    throw new Error(`unknown benchmark ${unknown.join(', ')} (${BENCHMARKS.map((b) => b.name).join(', ')})`);
  }
  return BENCHMARKS.filter((b) => names.includes(b.name));
}

/** Whole numbers as they are (bytes); otherwise 3 decimals below 1, 1 decimal below 10 000, none above. */
function figure(value: number | null): string {
  if (value === null) return '-';
  if (Number.isInteger(value)) return String(value);
  if (Math.abs(value) < 1) return value.toFixed(3);
  return Math.abs(value) < 10_000 ? value.toFixed(1) : value.toFixed(0);
}

function ratioText(ratio: number | null): string {
  if (ratio === null) return '-';
  return `${Math.abs(ratio) < 10 ? ratio.toFixed(2) : ratio.toFixed(0)}x`;
}

function mark(pass: boolean | null): string {
  if (pass === null) return '';
  return pass ? 'ok' : 'MISS';
}

function resultTable(rows: readonly ResultRow[]): string[] {
  const head = ['name', 'ours', 'baseline', 'unit', 'ratio', 'target', 'pass', 'baseline is', 'notes'];
  const cells = rows.map((r) => [
    r.name,
    figure(r.ours),
    figure(r.baseline),
    r.unit,
    ratioText(r.ratio),
    r.target ?? '',
    mark(r.pass),
    r.baselineName,
    r.notes,
  ]);
  const align = ['left', 'right', 'right', 'left', 'right', 'left', 'left', 'left', 'left'] as const;
  return formatTable(head, cells, align);
}

/** `targets: 3 met, 1 missed (name)` */
function targetLine(rows: readonly ResultRow[]): string {
  const met = rows.filter((r) => r.pass === true).length;
  const missed = rows.filter((r) => r.pass === false).map((r) => r.name);
  const open = rows.filter((r) => r.target !== null && r.pass === null).length;
  const parts = [
    `${met} met`,
    `${missed.length} missed${missed.length > 0 ? ` (${missed.join('; ')})` : ''}`,
  ];
  if (open > 0) parts.push(`${open} not measured`);
  return `targets: ${parts.join(', ')}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      runs: { type: 'string' },
      json: { type: 'string' },
      profile: { type: 'string' },
    },
  });
  const plan = selected(values.only).map((bench) => ({
    bench,
    runs: parseRuns(values.runs, bench.defaultRuns),
  }));
  const started = { machine: machine(), date: new Date().toISOString() };
  const results: ResultRow[] = [];
  const log = (line: string) => process.stderr.write(`  ${line}\n`);
  const profile = values.profile === undefined ? {} : { profileDir: values.profile };
  if (values.profile !== undefined) mkdirSync(values.profile, { recursive: true });
  const allStartedMs = performance.now();
  await withStack(log, async (stack) => {
    for (const { bench, runs } of plan) {
      process.stderr.write(`${bench.name}: ${runs} runs per variant\n`);
      const startedMs = performance.now();
      results.push(...(await bench.run({ runs, log, stack, ...profile })));
      process.stderr.write(
        `${bench.name}: done in ${((performance.now() - startedMs) / 1000).toFixed(1)} s\n\n`,
      );
    }
  });
  process.stderr.write(`all done in ${((performance.now() - allStartedMs) / 1000).toFixed(1)} s\n`);
  for (const line of resultTable(results)) console.log(line);
  console.log(targetLine(results));
  if (values.json !== undefined) {
    const runs = Object.fromEntries(plan.map((p) => [p.bench.name, p.runs]));
    const report: Report = { ...started, runs, results };
    writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
    process.stderr.write(`wrote ${values.json}\n`);
  }
}

await main();
