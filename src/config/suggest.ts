/**
 * "Did you mean" for unknown keys and class names: the closest candidate by edit distance (optimal string
 * alignment, so a swapped pair of letters costs 1), if it is close enough to be a plausible typo.
 * @module
 */

/** Edit distance with adjacent transpositions. O(|a|·|b|); keys are short. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i * cols + j] = best;
    }
  }
  return at(rows - 1, cols - 1);
}

/**
 * The candidate closest to `input`, or undefined when none is within a third of the input's length
 * (at least 2 edits are always allowed). Case differences count as half an edit.
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const budget = Math.max(2, Math.floor(input.length / 3));
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  const lower = input.toLowerCase();
  for (const c of candidates) {
    const folded = editDistance(lower, c.toLowerCase());
    const score = folded + (folded === 0 && c !== input ? 0.5 : 0);
    if (score < bestScore || (score === bestScore && best !== undefined && c < best)) {
      best = c;
      bestScore = score;
    }
  }
  return bestScore <= budget ? best : undefined;
}
