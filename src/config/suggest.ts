/**
 * "Did you mean" for unknown keys and class names: the closest candidate by edit distance (optimal string
 * alignment, so a swapped pair of letters costs 1), if it is close enough to be a plausible typo.
 *
 * Suggestions are hints, so they are kept cheap whatever the input: nothing is suggested for an input
 * longer than {@link MAX_SUGGEST_LENGTH}, candidates whose length alone rules them out are skipped, each
 * distance is computed only near the diagonal and stops as soon as it exceeds what could still win, and
 * one call computes at most {@link MAX_SUGGEST_CELLS} cells (then the best so far is the answer).
 * @module
 */

/** Inputs longer than this get no suggestion (a key this long is not a typo of a known one). */
export const MAX_SUGGEST_LENGTH = 256;

/** The work one {@link closest} call may do, in dynamic-programming cells (well under a millisecond). */
export const MAX_SUGGEST_CELLS = 50_000;

/**
 * Edit distance with adjacent transpositions. O(|a|·|b|), less when `max` is given: the result is exact
 * when it is at most `max`, and some number above `max` otherwise.
 */
export function editDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  return boundedDistance(a, b, Math.min(max, Math.max(a.length, b.length))).distance;
}

/**
 * Optimal string alignment distance, computed only within `max` of the diagonal (a cell farther away
 * costs more than `max` to reach) and abandoned once a whole row exceeds `max` (row minima never
 * decrease). Cells outside the band hold `max + 1`. `cells` is the work done.
 */
function boundedDistance(a: string, b: string, max: number): { distance: number; cells: number } {
  const over = max + 1;
  if (Math.abs(a.length - b.length) > max) return { distance: over, cells: 0 };
  const cols = b.length + 1;
  // Three rows: the one before the previous is needed for transpositions.
  let prev2 = new Int32Array(cols);
  let prev = new Int32Array(cols);
  let row = new Int32Array(cols);
  for (let j = 0; j < cols; j++) prev[j] = j <= max ? j : over;
  let cells = 0;
  for (let i = 1; i <= a.length; i++) {
    const from = i - max > 1 ? i - max : 1;
    const to = i + max < b.length ? i + max : b.length;
    row[from - 1] = from === 1 ? i : over;
    if (to + 1 < cols) row[to + 1] = over;
    const ai = a.charCodeAt(i - 1);
    const aPrev = i > 1 ? a.charCodeAt(i - 2) : -1;
    let rowMin = from === 1 ? i : over;
    let left = row[from - 1] as number;
    let diagonal = prev[from - 1] as number;
    for (let j = from; j <= to; j++) {
      const bj = b.charCodeAt(j - 1);
      const up = prev[j] as number;
      let best = diagonal + (ai === bj ? 0 : 1);
      if (up + 1 < best) best = up + 1;
      if (left + 1 < best) best = left + 1;
      if (j > 1 && aPrev === bj && ai === b.charCodeAt(j - 2)) {
        const swapped = (prev2[j - 2] as number) + 1;
        if (swapped < best) best = swapped;
      }
      if (best > over) best = over;
      row[j] = best;
      if (best < rowMin) rowMin = best;
      left = best;
      diagonal = up;
    }
    cells += to - from + 1;
    if (rowMin > max) return { distance: over, cells };
    const recycled = prev2;
    prev2 = prev;
    prev = row;
    row = recycled;
  }
  const last = prev[b.length] as number;
  return { distance: last < over ? last : over, cells };
}

/** The input's character counts, folded into 256 buckets (collisions only loosen the bound); reused. */
const inputCounts = new Int32Array(256);

function countInto(counts: Int32Array, s: string, step: 1 | -1): void {
  for (let i = 0; i < s.length; i++) counts[s.charCodeAt(i) & 0xff]! += step;
}

/**
 * A lower bound of the edit distance in O(|b|): characters of one string that the other lacks must each
 * be inserted, deleted or substituted (a transposition keeps them), so the distance is at least the larger
 * of the two multiset differences. `aCounts` holds a's character counts; it is restored before returning.
 */
function bagDistance(aCounts: Int32Array, aLength: number, b: string): number {
  let missing = 0; // characters of b that a lacks
  for (let i = 0; i < b.length; i++) if (--aCounts[b.charCodeAt(i) & 0xff]! < 0) missing++;
  for (let i = 0; i < b.length; i++) aCounts[b.charCodeAt(i) & 0xff]!++;
  const common = b.length - missing;
  return Math.max(missing, aLength - common);
}

/**
 * The most edits a suggestion may be away from `input`: a third of its length, and 1 for inputs under 6
 * characters (2 edits in a 3-letter word leave one letter in common: a guess, not a typo).
 */
export function editBudget(input: string): number {
  return input.length < 6 ? 1 : Math.floor(input.length / 3);
}

/**
 * The candidate closest to `input`, or undefined when none is within {@link editBudget} edits. Case
 * differences count as half an edit. Ties go to the alphabetically first candidate.
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  if (input.length > MAX_SUGGEST_LENGTH) return undefined;
  const budget = editBudget(input);
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  let cells = 0;
  const lower = input.toLowerCase();
  const counts = inputCounts;
  countInto(counts, lower, 1);
  try {
    for (const c of candidates) {
      if (cells > MAX_SUGGEST_CELLS) break;
      // Only a distance up to the budget, and no worse than the best so far (ties may still win), counts.
      const limit = Math.min(budget, Math.floor(bestScore));
      if (Math.abs(c.length - lower.length) > limit) continue;
      const folded = c.toLowerCase();
      cells += folded.length;
      if (bagDistance(counts, lower.length, folded) > limit) continue;
      const measured = boundedDistance(lower, folded, limit);
      cells += measured.cells;
      if (measured.distance > limit) continue;
      const score = measured.distance + (measured.distance === 0 && c !== input ? 0.5 : 0);
      if (score < bestScore || (score === bestScore && best !== undefined && c < best)) {
        best = c;
        bestScore = score;
      }
    }
  } finally {
    countInto(counts, lower, -1);
  }
  return bestScore <= budget ? best : undefined;
}
