/**
 * The cold-start harness: bundle an entry the way a Lambda handler is bundled (`--bundle --platform=node
 * --format=esm --target=node22 --minify`), then run it in fresh `node` processes, rounds alternating the
 * order of the variants, and collect the timings each process measures on itself.
 *
 * Inside the process, `performance.now()` counts from process start (`performance.timeOrigin`), so
 * `totalMs` is bootstrap + parsing the bundle + evaluating it + the entry's work; `evalMs` is only the part
 * after the bundle's first statement ran (module evaluation and the entry's work). An entry may add its own
 * in-process figures by assigning an object to `globalThis.__benchMetrics`; they come back as `metrics`.
 *
 * @example
 * ```ts
 * await withBenchDir('connect-fn-x-bench-', async (dir) => {
 *   const { bundles } = await bundleVariants(variants, dir);
 *   const samples = runRounds(bundles, 30);
 * });
 * ```
 * @module
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

/** Rounds run before measuring, so the page cache and the CPU governor settle. */
export const WARM_UP_ROUNDS = 3;

const START_MARKER = 'start-marker.mjs';
const MARKER_PREFIX = 'BENCH ';

export interface ColdStartVariant {
  readonly name: string;
  /** Entry body (TypeScript, imports resolved from the repository root); runs between the bench's markers. */
  readonly entry: string;
  /** Command-line arguments of every process of this variant. */
  readonly args?: readonly string[];
  /** Text the process must write to stdout, proving it did the work. */
  readonly expectStdout: string;
}

export interface ColdStartBundle {
  readonly variant: ColdStartVariant;
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
}

/** A variant that could not be bundled (say, a package that is not installed), and why. */
export interface UnbundledVariant {
  readonly variant: ColdStartVariant;
  readonly reason: string;
}

export interface ColdStartSample {
  /** Process start → end of the entry, measured inside the process. */
  readonly totalMs: number;
  /** First statement of the bundle → end of the entry. */
  readonly evalMs: number;
  /** spawn → exit, measured by this process. */
  readonly wallMs: number;
  /** What the entry put in `globalThis.__benchMetrics`. */
  readonly metrics: Readonly<Record<string, unknown>>;
}

/** Runs `fn` with a fresh temp dir holding the start marker; removes the dir afterwards. */
export async function withBenchDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    // The start marker is the first module evaluated; esbuild keeps import order within the bundle.
    writeFileSync(join(dir, START_MARKER), 'globalThis.__benchStartMs = performance.now();\n');
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** esbuild's own message ("Could not resolve ...") rather than its "Build failed with 1 error" header. */
function buildFailureReason(err: unknown): string {
  const first = (err as { errors?: readonly { text?: string }[] }).errors?.[0]?.text;
  if (first !== undefined) return first;
  return err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
}

async function bundleVariant(
  variant: ColdStartVariant,
  dir: string,
  index: number,
): Promise<ColdStartBundle | UnbundledVariant> {
  const file = join(dir, `variant-${index}.mjs`);
  const contents = `import ${JSON.stringify(join(dir, START_MARKER))};
${variant.entry}
const endMs = performance.now();
process.stderr.write(${JSON.stringify(MARKER_PREFIX)} + JSON.stringify({ totalMs: endMs, evalMs: endMs - globalThis.__benchStartMs, metrics: globalThis.__benchMetrics ?? {} }) + '\\n');`;
  try {
    await build({
      stdin: { contents, resolveDir: REPO_ROOT, sourcefile: `variant-${index}.ts`, loader: 'ts' },
      outfile: file,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      minify: true,
      logLevel: 'silent',
    });
  } catch (err) {
    return { variant, reason: buildFailureReason(err) };
  }
  const code = readFileSync(file);
  return { variant, file, bytes: code.length, gzipBytes: gzipSync(code).length };
}

/** Bundles every variant into `dir`; those that fail are reported on stderr and returned apart. */
export async function bundleVariants(
  variants: readonly ColdStartVariant[],
  dir: string,
): Promise<{ bundles: ColdStartBundle[]; unbundled: UnbundledVariant[] }> {
  const built = await Promise.all(variants.map((v, i) => bundleVariant(v, dir, i)));
  const unbundled = built.filter((b): b is UnbundledVariant => 'reason' in b);
  for (const u of unbundled) console.error(`skipping ${u.variant.name}: cannot bundle it (${u.reason})`);
  return { bundles: built.filter((b): b is ColdStartBundle => 'file' in b), unbundled };
}

/** A clean environment: no NODE_OPTIONS (tsx's loader would be inherited), no LOG_LEVEL. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  if (process.env.PATH !== undefined) env.PATH = process.env.PATH;
  return env;
}

/** Runs `b` once in a fresh process; `extraArgs` follow the variant's own arguments. */
export function runOnce(b: ColdStartBundle, extraArgs: readonly string[] = []): ColdStartSample {
  const args = [b.file, ...(b.variant.args ?? []), ...extraArgs];
  const startedMs = performance.now();
  const child = spawnSync(process.execPath, args, { env: childEnv(), encoding: 'utf8' });
  const wallMs = performance.now() - startedMs;
  const marker = child.stderr.split('\n').find((line) => line.startsWith(MARKER_PREFIX));
  if (child.status !== 0 || marker === undefined || !child.stdout.includes(b.variant.expectStdout)) {
    throw new Error(`${b.variant.name} failed (exit ${child.status}):\n${child.stdout}\n${child.stderr}`);
  }
  const reported = JSON.parse(marker.slice(MARKER_PREFIX.length)) as Omit<ColdStartSample, 'wallMs'>;
  return { ...reported, wallMs };
}

/**
 * `WARM_UP_ROUNDS + runs` rounds of one fresh process per bundle, the order rotated every round so no
 * variant always runs right after another. Sample `i` of every bundle comes from round `i`.
 */
export function runRounds(
  bundles: readonly ColdStartBundle[],
  runs: number,
): Map<ColdStartBundle, ColdStartSample[]> {
  const samples = new Map(bundles.map((b) => [b, [] as ColdStartSample[]]));
  for (let round = 0; round < WARM_UP_ROUNDS + runs; round++) {
    for (let k = 0; k < bundles.length; k++) {
      const b = bundles[(round + k) % bundles.length]!;
      const sample = runOnce(b);
      if (round >= WARM_UP_ROUNDS) samples.get(b)!.push(sample);
    }
  }
  return samples;
}

/** The numeric metric `name` the entry reported; throws when it is missing. */
export function metric(sample: ColdStartSample, name: string): number {
  const value = sample.metrics[name];
  if (typeof value !== 'number') throw new Error(`the entry did not report ${name} as a number`);
  return value;
}

/** The list of numbers `name` the entry reported; throws when it is missing. */
export function metricList(sample: ColdStartSample, name: string): number[] {
  const value = sample.metrics[name];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number')) {
    throw new Error(`the entry did not report ${name} as a list of numbers`);
  }
  return value;
}
