/**
 * Cold-start cost of loading the configuration bundle, what every function does once per cold start:
 * `loadBundle(dir, { registry: builtinRegistry() })` on `examples/file-to-file` and on a synthetic bundle
 * of 50 connectors, against an empty baseline bundle in the same run.
 *
 * Each variant is bundled the way a Lambda handler is and run in fresh `node` processes, rounds
 * alternating the order (`bench/lib/cold-start.ts`); `total` and `eval` as there. Inside each process the
 * entry also times the `loadBundle` call alone (the first call: cold code, nothing compiled yet). One more
 * process per bundle then repeats the call 200 times for the warm median.
 *
 * Run: `npx tsx bench/bundle-load.ts [--runs 50]`, or `npm run bench -- --only bundle-load`.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  bundleVariants,
  type ColdStartBundle,
  type ColdStartVariant,
  metric,
  metricList,
  REPO_ROOT,
  runOnce,
  runRounds,
  withBenchDir,
} from './lib/cold-start.ts';
import {
  type ColdStartSummary,
  coldStartDetail,
  coldStartRows,
  summarizeAll,
} from './lib/cold-start-report.ts';
import { type Baseline, type Benchmark, compared, type ResultRow, runIfMain } from './lib/result.ts';
import { median, percentile } from './lib/stats.ts';
import { writeSyntheticBundle } from './lib/synthetic-bundle.ts';
import { ms } from './lib/table.ts';

const NAME = 'bundle-load';
const WARM_CALLS = 200;
const SYNTHETIC_CONNECTORS = 50;
const EXAMPLE_DIR = join(REPO_ROOT, 'examples', 'file-to-file');

/** Loads the bundle in argv[2], then repeats the call argv[3] times (0 in the cold-start rounds). */
const LOAD_ENTRY = `import { loadBundle } from './src/config/bundle.ts';
import { builtinRegistry } from './src/connectors/builtins.ts';
const dir = process.argv[2];
const repeat = Number(process.argv[3] ?? '0');
const registry = builtinRegistry();
const loadStartMs = performance.now();
const bundle = loadBundle(dir, { registry });
const loadMs = performance.now() - loadStartMs;
const warmLoadsMs = [];
for (let i = 0; i < repeat; i++) {
  const startMs = performance.now();
  loadBundle(dir, { registry });
  warmLoadsMs.push(performance.now() - startMs);
}
globalThis.__benchMetrics = { loadMs, warmLoadsMs };
process.stdout.write(JSON.stringify({ connectors: bundle.connectors.length }) + '\\n');`;

function loadVariant(name: string, dir: string, connectors: number): ColdStartVariant {
  return { name, entry: LOAD_ENTRY, args: [dir], expectStdout: `{"connectors":${connectors}}` };
}

/** Total size of the files under `dir`. */
function configBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => statSync(join(dir, f)))
    .reduce((sum, s) => sum + (s.isFile() ? s.size : 0), 0);
}

interface LoadTimes {
  /** The first call of each cold process. */
  readonly coldMs: readonly number[];
  /** `WARM_CALLS` calls after the first, in one process. */
  readonly warmMs: readonly number[];
}

/**
 * The `loadBundle` rows: the cold first call against `coldBase`; the warm median against `warmBase`, or
 * against the same bundle's cold call when there is none (how much of the first call is cold code).
 */
function loadRows(
  prefix: string,
  t: LoadTimes,
  coldBase: Baseline,
  warmBase: Baseline | undefined,
  notes: string,
) {
  const cold = median(t.coldMs);
  const warm = median(t.warmMs);
  return [
    compared(`${prefix}, loadBundle cold`, cold, 'ms', coldBase, `first call in-process, p50; ${notes}`),
    compared(
      `${prefix}, loadBundle warm`,
      warm,
      'ms',
      warmBase ?? { name: `${prefix}, loadBundle cold`, value: cold },
      `median of ${WARM_CALLS} calls in one process`,
    ),
  ];
}

interface Measurement {
  readonly runs: number;
  readonly bundles: readonly ColdStartBundle[];
  readonly summaries: ReadonlyMap<ColdStartBundle, ColdStartSummary>;
  readonly times: ReadonlyMap<ColdStartBundle, LoadTimes>;
  readonly configDirs: ReadonlyMap<ColdStartBundle, string>;
}

async function measure(dir: string, runs: number): Promise<Measurement> {
  const syntheticDir = join(dir, 'synthetic-bundle');
  mkdirSync(syntheticDir);
  writeSyntheticBundle(syntheticDir, SYNTHETIC_CONNECTORS);
  const { bundles, unbundled } = await bundleVariants(
    [
      {
        name: 'baseline (empty bundle)',
        entry: `process.stdout.write(JSON.stringify({ connectors: 0 }) + '\\n');`,
        expectStdout: '{"connectors":0}',
      },
      loadVariant('examples/file-to-file', EXAMPLE_DIR, 2),
      loadVariant(`synthetic (${SYNTHETIC_CONNECTORS} connectors)`, syntheticDir, SYNTHETIC_CONNECTORS),
    ],
    dir,
  );
  if (unbundled.length > 0)
    throw new Error(`cannot bundle ${unbundled[0]!.variant.name}: ${unbundled[0]!.reason}`);
  const samples = runRounds(bundles, runs);
  const loaders = bundles.slice(1);
  const times = new Map(
    loaders.map((b) => [
      b,
      {
        coldMs: samples.get(b)!.map((s) => metric(s, 'loadMs')),
        warmMs: metricList(runOnce(b, [String(WARM_CALLS)]), 'warmLoadsMs'),
      },
    ]),
  );
  const configDirs = new Map([
    [loaders[0]!, EXAMPLE_DIR],
    [loaders[1]!, syntheticDir],
  ]);
  return { runs, bundles, summaries: summarizeAll(bundles, samples), times, configDirs };
}

function detail(m: Measurement): string[] {
  const cells = (b: ColdStartBundle) => {
    const t = m.times.get(b);
    if (t === undefined) return ['-', '-', '-'];
    return [ms(median(t.coldMs)), ms(percentile(t.coldMs, 90)), median(t.warmMs).toFixed(3)];
  };
  const extra = { head: ['load p50', 'load p90', 'load warm'], cells };
  return [
    ...coldStartDetail(m.bundles, m.summaries, m.runs, extra),
    `load = the loadBundle call alone, in-process: first call (cold); warm = median of ${WARM_CALLS} more.`,
  ];
}

/**
 * The example against the empty baseline; the synthetic bundle's totals against the empty baseline too,
 * and its `loadBundle` times against the example's, to show how loading scales with the config.
 */
function resultRows(m: Measurement): ResultRow[] {
  const [baseline, example, synthetic] = m.bundles as [ColdStartBundle, ColdStartBundle, ColdStartBundle];
  const base = { bundle: baseline, summary: m.summaries.get(baseline)! };
  const prefix = (b: ColdStartBundle) => `${NAME}: ${b.variant.name}`;
  const config = (b: ColdStartBundle) =>
    `${(configBytes(m.configDirs.get(b)!) / 1024).toFixed(1)} KiB of config`;
  const exampleTimes = m.times.get(example)!;
  return [
    ...coldStartRows(prefix(example), example, m.summaries.get(example)!, base),
    ...loadRows(
      prefix(example),
      exampleTimes,
      { name: `${baseline.variant.name}, total p50`, value: base.summary.totalP50Ms },
      undefined,
      config(example),
    ),
    // The same code as the example's bundle, only the config differs: no size row.
    ...coldStartRows(prefix(synthetic), synthetic, m.summaries.get(synthetic)!, base, { size: false }),
    ...loadRows(
      prefix(synthetic),
      m.times.get(synthetic)!,
      { name: `${prefix(example)}, loadBundle cold`, value: median(exampleTimes.coldMs) },
      { name: `${prefix(example)}, loadBundle warm`, value: median(exampleTimes.warmMs) },
      config(synthetic),
    ),
  ];
}

export const bundleLoad: Benchmark = {
  name: NAME,
  defaultRuns: 50,
  run: ({ runs, log }) =>
    withBenchDir('connect-fn-bundle-load-bench-', async (dir) => {
      const m = await measure(dir, runs);
      for (const line of detail(m)) log(line);
      return resultRows(m);
    }),
};

await runIfMain(import.meta.filename, bundleLoad);
