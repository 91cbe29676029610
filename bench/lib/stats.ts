/**
 * The few statistics the benchmarks report. Medians and nearest-rank percentiles rather than means: on a
 * noisy 2-core machine one descheduled process can add tens of milliseconds to a single sample.
 * @module
 */

function sorted(xs: readonly number[]): number[] {
  if (xs.length === 0) throw new RangeError('no samples');
  return [...xs].sort((a, b) => a - b);
}

export function median(xs: readonly number[]): number {
  const s = sorted(xs);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile. */
export function percentile(xs: readonly number[], p: number): number {
  const s = sorted(xs);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!;
}

/**
 * Median over rounds of (variant − baseline) in the same round: `xs[i]` and `baseline[i]` were measured in
 * round `i`, close together in time, so a slow stretch of the machine affects both sides of each pair.
 */
export function pairedDelta(xs: readonly number[], baseline: readonly number[]): number {
  if (xs.length !== baseline.length) throw new RangeError('paired samples need one pair per round');
  return median(xs.map((x, round) => x - baseline[round]!));
}
