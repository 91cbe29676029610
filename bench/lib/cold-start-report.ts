/**
 * Summaries of cold-start samples against the baseline variant of the same run, and the detailed table
 * each cold-start benchmark prints.
 * @module
 */
import type { ColdStartBundle, ColdStartSample } from './cold-start.ts';
import { WARM_UP_ROUNDS } from './cold-start.ts';
import { compared, type ResultRow } from './result.ts';
import { median, pairedDelta, percentile } from './stats.ts';
import { formatTable, kib, ms } from './table.ts';

export interface ColdStartSummary {
  readonly totalP50Ms: number;
  readonly totalP90Ms: number;
  /** Median minus the baseline median. */
  readonly deltaP50Ms: number;
  /** Median over rounds of (variant − baseline) in the same round. */
  readonly pairedDeltaMs: number;
  readonly evalP50Ms: number;
  readonly evalP90Ms: number;
  readonly evalDeltaMs: number;
  readonly wallP50Ms: number;
}

export function summarize(
  samples: readonly ColdStartSample[],
  baseline: readonly ColdStartSample[],
): ColdStartSummary {
  const total = samples.map((s) => s.totalMs);
  const evalMs = samples.map((s) => s.evalMs);
  const baseTotal = baseline.map((s) => s.totalMs);
  return {
    totalP50Ms: median(total),
    totalP90Ms: percentile(total, 90),
    deltaP50Ms: median(total) - median(baseTotal),
    pairedDeltaMs: pairedDelta(total, baseTotal),
    evalP50Ms: median(evalMs),
    evalP90Ms: percentile(evalMs, 90),
    evalDeltaMs: median(evalMs) - median(baseline.map((s) => s.evalMs)),
    wallP50Ms: median(samples.map((s) => s.wallMs)),
  };
}

/** Columns a benchmark adds to the detailed table, one cell per bundle. */
export interface ExtraColumns {
  readonly head: readonly string[];
  readonly cells: (b: ColdStartBundle) => readonly string[];
}

const HEAD = [
  'variant',
  'KiB',
  'gz KiB',
  'total p50',
  'total p90',
  'Δ p50',
  'Δ paired',
  'eval p50',
  'eval p90',
  'Δ eval',
  'wall p50',
];

/** The detailed table: one line per bundle, the first bundle being the baseline. */
export function coldStartDetail(
  bundles: readonly ColdStartBundle[],
  summaries: ReadonlyMap<ColdStartBundle, ColdStartSummary>,
  runs: number,
  extra: ExtraColumns = { head: [], cells: () => [] },
): string[] {
  const rows = bundles.map((b) => {
    const s = summaries.get(b)!;
    return [
      b.variant.name,
      kib(b.bytes),
      kib(b.gzipBytes),
      ms(s.totalP50Ms),
      ms(s.totalP90Ms),
      ms(s.deltaP50Ms),
      ms(s.pairedDeltaMs),
      ms(s.evalP50Ms),
      ms(s.evalP90Ms),
      ms(s.evalDeltaMs),
      ms(s.wallP50Ms),
      ...extra.cells(b),
    ];
  });
  return [
    `node ${process.version}, ${runs} runs per variant (+${WARM_UP_ROUNDS} warm-up), times in ms`,
    ...formatTable([...HEAD, ...extra.head], rows),
    'Δ = median minus the baseline median; Δ paired = median over rounds of (variant − baseline) in the same' +
      ' round; total counts from process start (performance.timeOrigin).',
  ];
}

/** Summaries of every bundle against `bundles[0]`, the baseline. */
export function summarizeAll(
  bundles: readonly ColdStartBundle[],
  samples: ReadonlyMap<ColdStartBundle, readonly ColdStartSample[]>,
): Map<ColdStartBundle, ColdStartSummary> {
  const base = samples.get(bundles[0]!)!;
  return new Map(bundles.map((b) => [b, summarize(samples.get(b)!, base)]));
}

/**
 * The result rows of one variant: bundle size (unless `size: false`), total p50 and p90, the paired delta
 * and eval p50, each next to the baseline's figure. The paired delta's ratio is the share of the
 * baseline's cold start it adds.
 */
export function coldStartRows(
  prefix: string,
  bundle: ColdStartBundle,
  summary: ColdStartSummary,
  base: { readonly bundle: ColdStartBundle; readonly summary: ColdStartSummary },
  options: { readonly size?: boolean } = {},
): ResultRow[] {
  const baseName = base.bundle.variant.name;
  const s = summary;
  const b = base.summary;
  const size = compared(
    `${prefix}, bundle size`,
    bundle.bytes,
    'B',
    { name: `${baseName}, size`, value: base.bundle.bytes },
    `gzip ${bundle.gzipBytes} B`,
  );
  return [
    ...(options.size === false ? [] : [size]),
    compared(`${prefix}, total p50`, s.totalP50Ms, 'ms', {
      name: `${baseName}, total p50`,
      value: b.totalP50Ms,
    }),
    compared(`${prefix}, total p90`, s.totalP90Ms, 'ms', {
      name: `${baseName}, total p90`,
      value: b.totalP90Ms,
    }),
    compared(
      `${prefix}, Δ paired`,
      s.pairedDeltaMs,
      'ms',
      { name: `${baseName}, total p50`, value: b.totalP50Ms },
      'ratio = share of the baseline cold start added',
    ),
    compared(
      `${prefix}, eval p50`,
      s.evalP50Ms,
      'ms',
      { name: `${baseName}, eval p50`, value: b.evalP50Ms },
      'first statement of the bundle → end of the entry',
    ),
  ];
}
