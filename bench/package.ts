/**
 * What `connect-fn package` produces, per connector kind, against a baseline bundle built the same way
 * (src/deploy/artifact.ts) that only imports the same Kafka client and AWS SDK clients and does nothing
 * (issue 11: each ≤ 1.2× its baseline):
 * - the zip's size;
 * - the cold start of a plain `node` that imports the unpacked `index.mjs` (process start to the end of
 *   the import: for ours, loading and validating the bundle and composing the function), median of the
 *   runs, rounds alternating ours and the baseline;
 * - the cold start under AWS's Lambda Runtime Interface Emulator with AWS's runtime interface client
 *   (./lib/emulator-init.ts): the runtime's init (`INIT REPORT`), the figure Lambda calls Init Duration,
 *   next to the emulator's own REPORT Init Duration (~0: it starts the runtime inside the first
 *   invocation), both functions deployed alike (the manifest's environment, `NODE_OPTIONS` included).
 * Each figure: the median, and the spread (25th-75th percentile) in the detailed table.
 * And the seconds `connect-fn package` takes for a 20-connector bundle, next to `connect-fn validate` of
 * the same bundle (the CLI's start-up and the validation both do).
 *
 * Run: `npx tsx bench/package.ts [--runs 15]`, or `npm run bench -- --only package`. No stack needed:
 * nothing connects at init. The emulator and the runtime client are installed into the tool cache on the
 * first run (test/e2e/support/lambda-tools.ts: minutes).
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCode, packageZip } from '../src/deploy/artifact.ts';
import type { ConnectorManifest } from '../src/deploy/manifest.ts';
import type { LambdaTools } from '../test/e2e/support/lambda-tools.ts';
import { REPO_ROOT, withBenchDir } from './lib/cold-start.ts';
import { type EmulatorSample, emulatorSample, ensureLambdaTools } from './lib/emulator-init.ts';
import { type Benchmark, compared, type ResultRow, runIfMain } from './lib/result.ts';
import { median, percentile } from './lib/stats.ts';

interface Kind {
  readonly name: string;
  /** The connector file (after `name=<name>`). */
  readonly lines: string;
  /** What the baseline imports: the packages whose clients this kind's function opens. */
  readonly clients: readonly (readonly [module: string, name: string])[];
}

const KAFKA = ['kafkajs', 'Kafka'] as const;
const DYNAMODB = ['@aws-sdk/client-dynamodb', 'DynamoDBClient'] as const;
const STREAMS = ['@aws-sdk/client-dynamodb-streams', 'DynamoDBStreamsClient'] as const;

const KINDS: readonly Kind[] = [
  {
    name: 'file-source',
    lines: 'connector.class=FileStreamSource\nfile=/tmp/in\ntopic=t\n',
    clients: [KAFKA],
  },
  { name: 'datagen', lines: 'connector.class=datagen\nkafka.topic=t\n', clients: [KAFKA] },
  { name: 'file-sink', lines: 'connector.class=FileStreamSink\nfile=/tmp/out\ntopics=t\n', clients: [KAFKA] },
  {
    name: 'dynamodb-sink',
    lines: 'connector.class=dynamodb-sink\ntopics=t\ntable.name.format=tbl\ntrigger=kafka\n',
    clients: [KAFKA, DYNAMODB],
  },
  {
    name: 'dynamodb-streams',
    lines: 'connector.class=dynamodb-streams\ndynamodb.table=tbl\ntopic.format=t\n',
    clients: [KAFKA, DYNAMODB, STREAMS],
  },
];

const WORKER = 'bootstrap.servers=${env:KAFKA_BROKERS}\n';
const BASELINE_NAME = 'a bundle importing the same clients, doing nothing';

function writeBundle(dir: string, copies: number): void {
  mkdirSync(join(dir, 'connectors'), { recursive: true });
  writeFileSync(join(dir, 'worker.properties'), WORKER);
  for (let i = 0; i < copies; i++) {
    for (const kind of KINDS) {
      const name = copies === 1 ? kind.name : `${kind.name}-${i}`;
      writeFileSync(join(dir, 'connectors', `${name}.properties`), `name=${name}\n${kind.lines}`);
    }
  }
}

/** Runs the CLI; returns the seconds it took. */
function cliSeconds(args: readonly string[]): number {
  const started = performance.now();
  execFileSync(process.execPath, [join(REPO_ROOT, 'bin/connect-fn.mjs'), ...args], {
    env: { ...process.env, KAFKA_BROKERS: 'localhost:9092' },
    stdio: 'ignore',
  });
  return (performance.now() - started) / 1000;
}

/** Milliseconds from process start to the end of importing `dir/index.mjs`, in a fresh node. */
function importMs(dir: string, connector: string): number {
  const script = `await import(${JSON.stringify(join(dir, 'index.mjs'))}); process.stdout.write('BENCH ' + performance.now());`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, CONNECT_FN_CONNECTOR: connector, KAFKA_BROKERS: 'localhost:9092' },
    encoding: 'utf8',
  });
  const figure = /BENCH ([\d.]+)/.exec(run.stdout)?.[1];
  if (run.status !== 0 || figure === undefined) throw new Error(`${dir}: import failed: ${run.stderr}`);
  return Number(figure);
}

/** The baseline of `kind`: its clients imported (and exported, so they stay in the bundle), nothing run. */
async function baselineZip(kind: Kind, dir: string): Promise<number> {
  const entry = [
    ...kind.clients.map(([module, name]) => `import { ${name} } from '${module}';`),
    `export { ${kind.clients.map(([, name]) => name).join(', ')} };`,
    'export const handler = async () => ({});',
  ].join('\n');
  const code = await buildCode(entry);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.mjs'), code.code);
  return packageZip({ code, bundleDir: dir, files: [] }).zip.length;
}

function unzip(zip: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('unzip', ['-q', '-o', zip, '-d', dir]);
}

/** `median (p25-p75)` of `xs`. */
function spread(xs: readonly number[]): string {
  const f = (x: number) => x.toFixed(1);
  return `${f(median(xs))} (${f(percentile(xs, 25))}-${f(percentile(xs, 75))})`;
}

interface Samples {
  readonly node: number[];
  readonly emulator: EmulatorSample[];
}

/** How each side runs: its unpacked directory, its handler and its environment. */
interface Side {
  readonly dir: string;
  readonly handler: string;
  readonly env: Readonly<Record<string, string>>;
}

async function sample(side: Side, tools: LambdaTools, into: Samples, connector: string): Promise<void> {
  into.node.push(importMs(side.dir, connector));
  into.emulator.push(await emulatorSample(tools, side.dir, side.handler, side.env));
}

async function measureKind(
  kind: Kind,
  root: string,
  runs: number,
  tools: LambdaTools,
  log: (l: string) => void,
) {
  const zipFile = join(root, 'out', kind.name, `${kind.name}.zip`);
  const manifest = JSON.parse(
    readFileSync(join(root, 'out', kind.name, 'manifest.json'), 'utf8'),
  ) as ConnectorManifest;
  const env = { ...manifest.function.environment, KAFKA_BROKERS: 'localhost:9092' };
  const ours: Side = { dir: join(root, 'unpacked', kind.name), handler: manifest.function.handler, env };
  unzip(zipFile, ours.dir);
  const zipBytes = readFileSync(zipFile).length;
  const base: Side = { dir: join(root, 'baseline', kind.name), handler: 'index.handler', env };
  const baseBytes = await baselineZip(kind, base.dir);
  const samples = {
    ours: { node: [], emulator: [] } as Samples,
    base: { node: [], emulator: [] } as Samples,
  };
  for (let round = 0; round < runs + 1; round++) {
    const pair = round % 2 === 0 ? (['ours', 'base'] as const) : (['base', 'ours'] as const);
    for (const which of pair) {
      const into: Samples = round > 0 ? samples[which] : { node: [], emulator: [] }; // round 0 warms the page cache
      await sample(which === 'ours' ? ours : base, tools, into, kind.name);
    }
  }
  const runtimeInit = (s: Samples) => s.emulator.map((e) => e.runtimeInitMs);
  const reportInit = (s: Samples) => s.emulator.map((e) => e.reportInitMs);
  const firstCall = (s: Samples) => s.emulator.map((e) => e.firstMinusWarmMs);
  // The ratio of each round's pair too: on a busy machine, the load drifts between rounds more than within one.
  const paired = (f: (s: Samples) => number[]) => {
    const base = f(samples.base);
    return median(f(samples.ours).map((x, round) => x / (base[round] ?? Number.NaN))).toFixed(2);
  };
  const both = (f: (s: Samples) => number[]) =>
    `${spread(f(samples.ours))} vs ${spread(f(samples.base))}, paired ratio ${paired(f)}`;
  log(
    `${kind.name}: zip ${(zipBytes / 1024).toFixed(0)} kB vs ${(baseBytes / 1024).toFixed(0)} kB; ms, median (p25-p75) of ${runs}, ours vs baseline:`,
  );
  log(`  plain node import           ${both((s) => s.node)}`);
  log(`  emulator: runtime init      ${both(runtimeInit)}`);
  log(`  emulator: REPORT Init Dur.  ${both(reportInit)}`);
  log(`  emulator: 1st - warm invoke ${both(firstCall)}`);
  const baseline = (value: number) => ({ name: BASELINE_NAME, value });
  const ms = (name: string, f: (s: Samples) => number[], notes: string, target: string | null) =>
    compared(name, median(f(samples.ours)), 'ms', baseline(median(f(samples.base))), notes, target);
  return [
    compared(`package size: ${kind.name}`, zipBytes / 1024, 'kB', baseline(baseBytes / 1024), '', '<= 1.2'),
    ms(
      `package cold start (node import): ${kind.name}`,
      (s) => s.node,
      'process start to the end of importing index.mjs',
      '<= 1.2',
    ),
    ms(
      `package cold start (emulator init): ${kind.name}`,
      runtimeInit,
      "the runtime's INIT REPORT under aws-lambda-rie: node + runtime client + the handler's import",
      '<= 1.2',
    ),
    ms(
      `package REPORT Init Duration (emulator): ${kind.name}`,
      reportInit,
      '~0 as measured: the emulator starts the runtime inside the first invocation and times only its hand-over',
      null,
    ),
  ];
}

export const packageBench: Benchmark = {
  name: 'package',
  defaultRuns: 15,
  run: ({ runs, log }) =>
    withBenchDir('connect-fn-package-bench-', async (root): Promise<ResultRow[]> => {
      const one = join(root, 'bundle');
      writeBundle(one, 1);
      cliSeconds(['package', one, '--out', join(root, 'out')]);
      const tools = await ensureLambdaTools(log);
      const rows: ResultRow[] = [];
      for (const kind of KINDS) rows.push(...(await measureKind(kind, root, runs, tools, log)));
      const twenty = join(root, 'bundle-20');
      writeBundle(twenty, 4);
      const validate = cliSeconds(['validate', twenty]);
      const pack = cliSeconds(['package', twenty, '--out', join(root, 'out-20')]);
      log(`connect-fn package of 20 connectors: ${pack.toFixed(1)} s (validate: ${validate.toFixed(1)} s)`);
      rows.push(
        compared('connect-fn package, 20 connectors', pack, 's', {
          name: 'connect-fn validate of the same bundle',
          value: validate,
        }),
      );
      return rows;
    }),
};

await runIfMain(import.meta.filename, packageBench);
