/**
 * Counter-based randomness: every record's draws come from a hash of (seed, task, sequence), so any record
 * can be generated on its own, in any invocation, and always comes out the same — no generator state has
 * to be stored in the offsets (Confluent stores the next random seed there instead).
 *
 * 32-bit integer arithmetic throughout (`Math.imul`): a record costs a few dozen multiplications.
 * @module
 */

const TWO_POW_32 = 4_294_967_296;

/** MurmurHash3's 32-bit finaliser: a bijection that spreads every input bit over the output. */
export function mix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Low and high 32 bits of a safe integer (negative values in two's complement). */
function split(n: number): [number, number] {
  return [n >>> 0, Math.floor(n / TWO_POW_32) >>> 0];
}

/** The seed of one task's stream: different tasks of one seed draw unrelated values. */
export function streamSeed(seed: number, task: number): number {
  const [lo, hi] = split(seed);
  return mix32(mix32(mix32(lo ^ 0x9e3779b9) ^ hi) ^ mix32(task + 0x632be5ab));
}

/**
 * Draws of one record: a small generator (mulberry32) started from the hash of the stream and the
 * sequence number. Reused across records with {@link Draws.reset} to avoid an allocation per record.
 *
 * @example
 * ```ts
 * const draws = new Draws();
 * draws.reset(streamSeed(42, 0), 7);
 * draws.int(10); // the same number in every run, for seed 42, task 0, sequence 7
 * ```
 */
export class Draws {
  #state = 0;

  /** Positions the draws at record `sequence` of the stream `stream`. */
  reset(stream: number, sequence: number): void {
    const [lo, hi] = split(sequence);
    this.#state = mix32(mix32(stream ^ lo) + Math.imul(hi, 0x27d4eb2f));
  }

  /** A uniform unsigned 32-bit integer. */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n) (modulo bias below 2^-20 for n < 4096). */
  int(n: number): number {
    return this.next() % n;
  }

  /** A number in [0, 1). */
  unit(): number {
    return this.next() / TWO_POW_32;
  }
}
