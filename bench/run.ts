/**
 * `npm run bench [-- --only NAME[,NAME]] [--runs N] [--json FILE]`: runs every benchmark, prints one table
 * of figures, each next to a baseline measured in the same run and the ratio between them (DESIGN.md §6),
 * and with `--json` writes the same rows with a description of the machine.
 *
 * Progress and each benchmark's detailed table go to stderr; the results table goes to stdout. Timings
 * are never asserted anywhere: these machines have 2 cores and are noisy, so compare ratios, not
 * milliseconds, between runs.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { bundleLoad } from './bundle-load.ts';
import { type Benchmark, parseRuns, type ResultRow } from './lib/result.ts';
import { formatTable } from './lib/table.ts';
import { loggerColdStart } from './logger-cold-start.ts';

/** Every benchmark, in the order they run. A new benchmark exports a {@link Benchmark} and joins here. */
const BENCHMARKS: readonly Benchmark[] = [loggerColdStart, bundleLoad];

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

function resultTable(rows: readonly ResultRow[]): string[] {
  const head = ['name', 'value', 'unit', 'baseline', 'baseline value', 'ratio', 'notes'];
  const cells = rows.map((r) => [
    r.name,
    figure(r.value),
    r.unit,
    r.baseline,
    figure(r.baselineValue),
    ratioText(r.ratio),
    r.notes,
  ]);
  return formatTable(head, cells, ['left', 'right', 'left', 'left', 'right', 'right', 'left']);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, runs: { type: 'string' }, json: { type: 'string' } },
  });
  const plan = selected(values.only).map((bench) => ({
    bench,
    runs: parseRuns(values.runs, bench.defaultRuns),
  }));
  const started = { machine: machine(), date: new Date().toISOString() };
  const results: ResultRow[] = [];
  const log = (line: string) => process.stderr.write(`  ${line}\n`);
  for (const { bench, runs } of plan) {
    process.stderr.write(`${bench.name}: ${runs} runs per variant\n`);
    const startedMs = performance.now();
    results.push(...(await bench.run({ runs, log })));
    process.stderr.write(
      `${bench.name}: done in ${((performance.now() - startedMs) / 1000).toFixed(1)} s\n\n`,
    );
  }
  for (const line of resultTable(results)) console.log(line);
  if (values.json !== undefined) {
    const runs = Object.fromEntries(plan.map((p) => [p.bench.name, p.runs]));
    const report: Report = { ...started, runs, results };
    writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
    process.stderr.write(`wrote ${values.json}\n`);
  }
}

await main();
