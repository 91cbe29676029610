/**
 * What every benchmark hands to `bench/run.ts`: rows of one figure each (`ours`), next to a baseline
 * measured in the same run and the ratio between the two (DESIGN.md §6), and, where the issue sets one, a
 * target. The JSON report lists the rows as
 * `{"results": [{name, unit, ours, baseline, ratio, target, pass, baselineName, notes}]}`.
 * A figure that could not be measured is a row with `ours: null` and the reason in `notes`, so the table
 * and the JSON always list the same names.
 *
 * A target is text, one of two forms:
 * - `">= 0.85"`, no unit: a bound on `ratio` (ours / baseline);
 * - `"<= 256 MB"`, with the row's unit: a bound on `ours` itself.
 * @module
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchStack } from './stack.ts';
import { withStack } from './stack.ts';

export interface ResultRow {
  readonly name: string;
  readonly unit: string;
  /** Our figure. */
  readonly ours: number | null;
  /** The baseline's figure, measured in the same run. */
  readonly baseline: number | null;
  /** `ours / baseline`. */
  readonly ratio: number | null;
  /** `">= 0.85"` (on the ratio) or `"<= 256 MB"` (on ours, in the row's unit); null when there is none. */
  readonly target: string | null;
  /** Whether the target is met; null without a target or without a figure. */
  readonly pass: boolean | null;
  /** What `baseline` is. */
  readonly baselineName: string;
  readonly notes: string;
}

export interface BenchOptions {
  /** Measured repetitions per variant (warm-up rounds come on top). */
  readonly runs: number;
  /** Where a benchmark prints its own detailed table. */
  readonly log: (line: string) => void;
  /**
   * The Kafka broker and DynamoDB Local to measure against: started on the first call (unless
   * `KAFKA_BROKERS` / `DYNAMODB_ENDPOINT` are set) and stopped by the runner after the last benchmark.
   */
  readonly stack: () => Promise<BenchStack>;
  /** `--profile DIR`: where a benchmark that supports it writes CPU profiles of an extra, uncounted round. */
  readonly profileDir?: string;
}

export interface Benchmark {
  /** Short kebab-case name, matched by `npm run bench -- --only <name>`. */
  readonly name: string;
  /** Chosen so that the whole `npm run bench` stays under ~5 minutes on a 2-core machine. */
  readonly defaultRuns: number;
  run(options: BenchOptions): Promise<ResultRow[]>;
}

export interface Baseline {
  readonly name: string;
  readonly value: number;
}

const TARGET = /^(>=|<=)\s*(\d+(?:\.\d+)?)(?:\s+(\S+))?$/;

/** Whether `ours` / `ratio` meet `target`; throws for a target that is not one of the two forms. */
export function meetsTarget(target: string, row: Pick<ResultRow, 'unit' | 'ours' | 'ratio'>): boolean | null {
  const match = TARGET.exec(target);
  if (match === null) throw new Error(`target ${JSON.stringify(target)} is not ">= N" or "<= N unit"`);
  const [, op, bound, unit] = match;
  if (unit !== undefined && unit !== row.unit) {
    throw new Error(`target ${JSON.stringify(target)} is in ${unit}, the figure in ${row.unit}`);
  }
  const value = unit === undefined ? row.ratio : row.ours;
  if (value === null) return null;
  return op === '>=' ? value >= Number(bound) : value <= Number(bound);
}

/** A figure next to its baseline; `target` as in {@link ResultRow.target}. */
export function compared(
  name: string,
  ours: number,
  unit: string,
  baseline: Baseline,
  notes = '',
  target: string | null = null,
): ResultRow {
  const ratio = baseline.value === 0 ? null : ours / baseline.value;
  const pass = target === null ? null : meetsTarget(target, { unit, ours, ratio });
  return {
    name,
    unit,
    ours,
    baseline: baseline.value,
    ratio,
    target,
    pass,
    baselineName: baseline.name,
    notes,
  };
}

/** A figure that was not measured, and why. */
export function skipped(
  name: string,
  unit: string,
  baselineName: string,
  notes: string,
  target: string | null = null,
): ResultRow {
  return { name, unit, ours: null, baseline: null, ratio: null, target, pass: null, baselineName, notes };
}

/**
 * Runs `bench` on its own when its file is the process's entry point
 * (`npx tsx bench/<name>.ts [--runs N] [--profile DIR]`), printing only its detailed table (and starting
 * the local stack if the benchmark asks for it).
 */
export async function runIfMain(moduleFile: string, bench: Benchmark): Promise<void> {
  if (process.argv[1] === undefined || resolve(process.argv[1]) !== moduleFile) return;
  const { values } = parseArgs({ options: { runs: { type: 'string' }, profile: { type: 'string' } } });
  const runs = parseRuns(values.runs, bench.defaultRuns);
  const log = (line: string) => console.log(line);
  const profile = values.profile === undefined ? {} : { profileDir: resolve(values.profile) };
  await withStack(log, (stack) => bench.run({ runs, log, stack, ...profile }));
}

/** `--runs` as a positive integer, or `fallback` when absent. */
export function parseRuns(text: string | undefined, fallback: number): number {
  const runs = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
  return runs;
}
