/**
 * What every benchmark hands to `bench/run.ts`: rows of one figure each, next to a baseline measured in the
 * same run and the ratio between the two (DESIGN.md §6). A figure that could not be measured is a row with
 * `value: null` and the reason in `notes`, so the table and the JSON always list the same names.
 * @module
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export interface ResultRow {
  readonly name: string;
  readonly value: number | null;
  readonly unit: string;
  /** What `value` is compared with, measured in the same run. */
  readonly baseline: string;
  readonly baselineValue: number | null;
  /** `value / baselineValue`. */
  readonly ratio: number | null;
  readonly notes: string;
}

export interface BenchOptions {
  /** Measured repetitions per variant (warm-up rounds come on top). */
  readonly runs: number;
  /** Where a benchmark prints its own detailed table. */
  readonly log: (line: string) => void;
}

export interface Benchmark {
  /** Short kebab-case name, matched by `npm run bench -- --only <name>`. */
  readonly name: string;
  /** Chosen so that the whole `npm run bench` stays under ~2 minutes on a 2-core machine. */
  readonly defaultRuns: number;
  run(options: BenchOptions): Promise<ResultRow[]>;
}

export interface Baseline {
  readonly name: string;
  readonly value: number;
}

/** A figure next to its baseline. */
export function compared(
  name: string,
  value: number,
  unit: string,
  baseline: Baseline,
  notes = '',
): ResultRow {
  const ratio = baseline.value === 0 ? null : value / baseline.value;
  return { name, value, unit, baseline: baseline.name, baselineValue: baseline.value, ratio, notes };
}

/** A figure that was not measured, and why. */
export function skipped(name: string, unit: string, baseline: string, notes: string): ResultRow {
  return { name, value: null, unit, baseline, baselineValue: null, ratio: null, notes };
}

/**
 * Runs `bench` on its own when its file is the process's entry point (`npx tsx bench/<name>.ts [--runs N]`),
 * printing only its detailed table.
 */
export async function runIfMain(moduleFile: string, bench: Benchmark): Promise<void> {
  if (process.argv[1] === undefined || resolve(process.argv[1]) !== moduleFile) return;
  const { values } = parseArgs({ options: { runs: { type: 'string' } } });
  await bench.run({ runs: parseRuns(values.runs, bench.defaultRuns), log: (line) => console.log(line) });
}

/** `--runs` as a positive integer, or `fallback` when absent. */
export function parseRuns(text: string | undefined, fallback: number): number {
  const runs = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
  return runs;
}
