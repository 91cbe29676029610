/**
 * Cold-start cost of a logger: connect-fn's own (`src/observability/logger.ts`) against
 * `@aws-lambda-powertools/logger`, each measured against an empty baseline in the same run.
 *
 * Each variant is bundled the way a Lambda handler is (`--bundle --platform=node --format=esm
 * --target=node22 --minify`), then run in fresh `node` processes, rounds alternating the order. Inside the
 * process, `performance.now()` counts from process start (`performance.timeOrigin`), so `total` is
 * bootstrap + parsing the bundle + evaluating it + creating the logger + writing the first line; `eval` is
 * only the part after the bundle's first statement ran (module evaluation, construction, first line).
 *
 * Run: `npx tsx bench/logger-cold-start.ts [--runs 30]`. Powertools is not a dependency; install it for the
 * measurement with `npm install --no-save @aws-lambda-powertools/logger` (its row is skipped otherwise).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const REPO_ROOT = resolve(import.meta.dirname, '..');
const WARM_UP_ROUNDS = 3;

interface Variant {
  readonly name: string;
  /** Entry body; runs after the bench's start marker module and before its end marker. */
  readonly entry: string;
}

const VARIANTS: readonly Variant[] = [
  {
    name: 'baseline (no logger)',
    entry: `process.stdout.write(JSON.stringify({ level: 'info', message: 'hello', records: 1 }) + '\\n');`,
  },
  {
    name: 'connect-fn logger',
    entry: `import { createLogger } from './src/observability/logger.ts';
const logger = createLogger();
logger.startInvocation({ connector: 'bench', task: 0, invocationId: 'req-1' });
logger.info('hello', { records: 1 });`,
  },
  {
    name: '@aws-lambda-powertools/logger',
    entry: `import { Logger } from '@aws-lambda-powertools/logger';
const logger = new Logger({ serviceName: 'bench' });
logger.appendKeys({ connector: 'bench', task: 0, invocationId: 'req-1' });
logger.info('hello', { records: 1 });`,
  },
];

interface Bundle {
  readonly variant: Variant;
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
}

interface Sample {
  /** Process start → first line written, measured inside the process. */
  readonly totalMs: number;
  /** First statement of the bundle → first line written. */
  readonly evalMs: number;
  /** spawn → exit, measured by this process. */
  readonly wallMs: number;
}

async function bundle(variant: Variant, dir: string, index: number): Promise<Bundle | undefined> {
  const file = join(dir, `variant-${index}.mjs`);
  const contents = `import ${JSON.stringify(join(dir, 'start-marker.mjs'))};
${variant.entry}
const endMs = performance.now();
process.stderr.write('BENCH ' + JSON.stringify({ totalMs: endMs, evalMs: endMs - globalThis.__benchStartMs }) + '\\n');`;
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
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    console.error(`skipping ${variant.name}: cannot bundle it (${reason})`);
    return undefined;
  }
  const code = readFileSync(file);
  return { variant, file, bytes: code.length, gzipBytes: gzipSync(code).length };
}

/** A clean environment: no NODE_OPTIONS (tsx's loader would be inherited), no LOG_LEVEL. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  if (process.env.PATH !== undefined) env.PATH = process.env.PATH;
  return env;
}

function runOnce(b: Bundle): Sample {
  const startedMs = performance.now();
  const child = spawnSync(process.execPath, [b.file], { env: childEnv(), encoding: 'utf8' });
  const wallMs = performance.now() - startedMs;
  const marker = child.stderr.split('\n').find((line) => line.startsWith('BENCH '));
  const logged = child.stdout.split('\n').some((line) => line.includes('"hello"'));
  if (child.status !== 0 || marker === undefined || !logged) {
    throw new Error(`${b.variant.name} failed (exit ${child.status}):\n${child.stdout}\n${child.stderr}`);
  }
  const { totalMs, evalMs } = JSON.parse(marker.slice('BENCH '.length)) as {
    totalMs: number;
    evalMs: number;
  };
  return { totalMs, evalMs, wallMs };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile. */
function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!;
}

function parseRuns(argv: readonly string[]): number {
  const i = argv.indexOf('--runs');
  const runs = i === -1 ? 30 : Number(argv[i + 1]);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
  return runs;
}

function printTable(bundles: readonly Bundle[], samples: ReadonlyMap<Bundle, Sample[]>, runs: number): void {
  const base = bundles[0]!;
  const baseSamples = samples.get(base)!;
  const baseTotal = median(baseSamples.map((s) => s.totalMs));
  const baseEval = median(samples.get(base)!.map((s) => s.evalMs));
  const f = (ms: number) => ms.toFixed(1);
  const rows = bundles.map((b) => {
    const s = samples.get(b)!;
    const total = s.map((x) => x.totalMs);
    const evalMs = s.map((x) => x.evalMs);
    return [
      b.variant.name,
      (b.bytes / 1024).toFixed(1),
      (b.gzipBytes / 1024).toFixed(1),
      f(median(total)),
      f(percentile(total, 90)),
      f(median(total) - baseTotal),
      f(median(total.map((t, round) => t - baseSamples[round]!.totalMs))),
      f(median(evalMs)),
      f(percentile(evalMs, 90)),
      f(median(evalMs) - baseEval),
      f(median(s.map((x) => x.wallMs))),
    ];
  });
  const head = [
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
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`node ${process.version}, ${runs} runs per variant (+${WARM_UP_ROUNDS} warm-up), times in ms`);
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  console.log(
    'Δ = median minus the baseline median; Δ paired = median over rounds of (variant − baseline) in the same' +
      ' round; total counts from process start (performance.timeOrigin).',
  );
}

async function main(): Promise<void> {
  const runs = parseRuns(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'connect-fn-logger-bench-'));
  try {
    // The start marker is the first module evaluated; esbuild keeps import order within the bundle.
    writeFileSync(join(dir, 'start-marker.mjs'), 'globalThis.__benchStartMs = performance.now();\n');
    const built = await Promise.all(VARIANTS.map((v, i) => bundle(v, dir, i)));
    const bundles = built.filter((b): b is Bundle => b !== undefined);
    const samples = new Map(bundles.map((b) => [b, [] as Sample[]]));
    for (let round = 0; round < WARM_UP_ROUNDS + runs; round++) {
      // Rotate the order every round so no variant always runs right after another.
      for (let k = 0; k < bundles.length; k++) {
        const b = bundles[(round + k) % bundles.length]!;
        const sample = runOnce(b);
        if (round >= WARM_UP_ROUNDS) samples.get(b)!.push(sample);
      }
    }
    printTable(bundles, samples, runs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
