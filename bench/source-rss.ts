/**
 * Peak RSS of one invocation producing 100,000 records of 1 KB (issue 3, benchmark 3; target ≤ 256 MB).
 *
 * `bench/lib/rss-invocation.ts` is bundled the way a Lambda handler is (esbuild, one ESM file, minified)
 * and run with plain `node` in a fresh process per measurement: it builds the source function (cold
 * start), runs one invocation of the datagen connector (orders, `record.bytes=1024`, default
 * `batch.size` 1000, `invocation.max.records=100000`) into a fresh topic, and reports its peak RSS:
 * `VmHWM` on Linux rather than `process.resourceUsage().maxRSS`, which Linux carries over `execve` from
 * the parent (every child of a big parent would report the parent's peak; see `lib/rss-report.ts`).
 *
 * The baseline is the same process running the invocation with no time left: it loads every module,
 * opens the offsets store and the producer, and produces nothing. Both delivery modes are measured
 * (offsets in Kafka); runs alternate the two processes, figures are medians. MB here is 2^20 bytes, as
 * Lambda's memory setting counts.
 *
 * Run: `npx tsx bench/source-rss.ts [--runs 3]`, or `npm run bench -- --only source-rss`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { Kafka, logLevel } from 'kafkajs';
import { REPO_ROOT } from './lib/cold-start.ts';
import { writeDatagenBundle } from './lib/datagen-bundle.ts';
import { type Benchmark, compared, type ResultRow, runIfMain } from './lib/result.ts';
import { RSS_MARKER, type RssReport } from './lib/rss-report.ts';
import { median } from './lib/stats.ts';
import { formatTable } from './lib/table.ts';
import { BenchTopics } from './lib/topics.ts';

const NAME = 'source-rss';
const RECORDS = 100_000;
const RECORD_BYTES = 1024;
const OFFSETS_TOPIC = 'connect-fn-bench-offsets';
const TARGET = '<= 256 MB';
const MIB = 2 ** 20;

interface Mode {
  readonly name: 'exactly-once' | 'at-least-once';
  readonly exactlyOnce: boolean;
}

const MODES: readonly Mode[] = [
  { name: 'exactly-once', exactlyOnce: true },
  { name: 'at-least-once', exactlyOnce: false },
];

/** The child, bundled as Lambda would run it; `require` for the CommonJS dependencies (kafkajs, AWS SDK). */
async function bundleChild(dir: string): Promise<string> {
  const outfile = join(dir, 'rss-invocation.mjs');
  await build({
    entryPoints: [join(REPO_ROOT, 'bench', 'lib', 'rss-invocation.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    logLevel: 'silent',
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  });
  return outfile;
}

/** A clean environment: no NODE_OPTIONS (tsx's loader would be inherited). */
function childEnv(): NodeJS.ProcessEnv {
  return process.env.PATH === undefined ? {} : { PATH: process.env.PATH };
}

interface Context {
  readonly dir: string;
  readonly child: string;
  readonly brokers: string;
  readonly topics: BenchTopics;
  readonly id: () => string;
}

/** One fresh process: a fresh connector (from sequence 0) writing to a fresh topic. */
async function measureOnce(c: Context, mode: Mode, produce: boolean): Promise<RssReport> {
  const id = c.id();
  const connector = `bench-rss-${id}`;
  const topic = `bench-rss-${id}`;
  await c.topics.create(topic);
  const bundleDir = writeDatagenBundle({
    dir: join(c.dir, id),
    brokers: c.brokers,
    connector,
    topic,
    exactlyOnce: mode.exactlyOnce,
    offsetsTopic: OFFSETS_TOPIC,
    maxRecords: RECORDS,
    recordBytes: RECORD_BYTES,
  });
  const args = [c.child, bundleDir, connector, produce ? 'produce' : 'idle'];
  const child = spawnSync(process.execPath, args, { env: childEnv(), encoding: 'utf8', maxBuffer: 64 * MIB });
  const line = child.stdout.split('\n').find((l) => l.startsWith(RSS_MARKER));
  if (child.status !== 0 || line === undefined) {
    throw new Error(`${NAME} child failed (exit ${child.status}):\n${child.stdout}\n${child.stderr}`);
  }
  const report = JSON.parse(line.slice(RSS_MARKER.length)) as RssReport;
  const expected = produce ? RECORDS : 0;
  if (report.records !== expected) {
    throw new Error(`${NAME}: expected ${expected} records, got ${JSON.stringify(report)}`);
  }
  return report;
}

interface ModeReports {
  readonly ours: RssReport[];
  readonly baseline: RssReport[];
}

const mib = (r: RssReport) => r.peakRssKiB / 1024;

function detail(results: ReadonlyMap<Mode, ModeReports>): string[] {
  const head = ['mode', 'ours MB', 'baseline MB', 'added MB', 'ours heap MB', 'invocation s', 'records/s'];
  const cells = [...results].map(([mode, r]) => {
    const oursMb = median(r.ours.map(mib));
    const baseMb = median(r.baseline.map(mib));
    const seconds = median(r.ours.map((x) => x.invocationMs)) / 1000;
    return [
      mode.name,
      oursMb.toFixed(1),
      baseMb.toFixed(1),
      (oursMb - baseMb).toFixed(1),
      (median(r.ours.map((x) => x.heapUsedBytes)) / MIB).toFixed(1),
      seconds.toFixed(2),
      (RECORDS / seconds).toFixed(0),
    ];
  });
  const first = [...results.values()][0]?.ours ?? [];
  return [
    `peak RSS (${first[0]?.source}) of one fresh process, median of ${first.length} runs; MB = 2^20 B`,
    ...formatTable(head, cells),
    'ours = one invocation of 100,000 × 1 KB records;',
    'baseline = the same process, its invocation given no time left (loads everything, produces nothing).',
  ];
}

function rows(results: ReadonlyMap<Mode, ModeReports>): ResultRow[] {
  return [...results].map(([mode, r]) =>
    compared(
      `${NAME}: ${mode.name}, peak RSS of ${RECORDS.toLocaleString('en-US')} × 1 KB`,
      median(r.ours.map(mib)),
      'MB',
      { name: 'same process, produces nothing', value: median(r.baseline.map(mib)) },
      `bundled handler in a fresh node process, ${r.ours[0]?.source ?? 'VmHWM'}, median of ${r.ours.length} runs`,
      TARGET,
    ),
  );
}

export const sourceRss: Benchmark = {
  name: NAME,
  defaultRuns: 3,
  async run({ runs, log, stack }) {
    const brokers = (await stack()).kafkaBrokers;
    const dir = mkdtempSync(join(tmpdir(), 'connect-fn-rss-bench-'));
    const kafka = new Kafka({
      clientId: 'connect-fn-bench-rss',
      brokers: brokers.split(','),
      logLevel: logLevel.NOTHING,
    });
    const topics = new BenchTopics(kafka);
    try {
      let n = 0;
      const stamp = Date.now().toString(36);
      const c: Context = { dir, child: await bundleChild(dir), brokers, topics, id: () => `${stamp}-${n++}` };
      const results = new Map<Mode, ModeReports>();
      for (const mode of MODES) {
        const reports: ModeReports = { ours: [], baseline: [] };
        for (let round = 0; round < runs; round++) {
          const sides = [true, false];
          if (round % 2 === 1) sides.reverse();
          for (const produce of sides) {
            const report = await measureOnce(c, mode, produce);
            (produce ? reports.ours : reports.baseline).push(report);
            log(
              `${mode.name} run ${round + 1} ${produce ? 'ours' : 'baseline'}: ${mib(report).toFixed(1)} MB, ` +
                `${report.records} records in ${(report.invocationMs / 1000).toFixed(2)} s`,
            );
          }
        }
        results.set(mode, reports);
      }
      for (const line of detail(results)) log(line);
      return rows(results);
    } finally {
      await topics.deleteAll(log);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

await runIfMain(import.meta.filename, sourceRss);
