/**
 * Cold-start cost of a logger: connect-fn's own (`src/observability/logger.ts`) against
 * `@aws-lambda-powertools/logger`, each measured against an empty baseline in the same run.
 *
 * Each variant is bundled the way a Lambda handler is and run in fresh `node` processes, rounds
 * alternating the order (`bench/lib/cold-start.ts`). `total` is bootstrap + parsing the bundle + evaluating
 * it + creating the logger + writing the first line; `eval` is only the part after the bundle's first
 * statement ran (module evaluation, construction, first line).
 *
 * Run: `npx tsx bench/logger-cold-start.ts [--runs 50]`, or `npm run bench -- --only logger-cold-start`.
 * Powertools is not a dependency; install it for the measurement with
 * `npm install --no-save @aws-lambda-powertools/logger` (its rows are skipped otherwise).
 */
import { bundleVariants, type ColdStartVariant, runRounds, withBenchDir } from './lib/cold-start.ts';
import { coldStartDetail, coldStartRows, summarizeAll } from './lib/cold-start-report.ts';
import { type Benchmark, type ResultRow, runIfMain, skipped } from './lib/result.ts';

const NAME = 'logger-cold-start';
const EXPECT_STDOUT = '"hello"';
/** The one variant that may be missing: it is not a dependency. */
const POWERTOOLS = '@aws-lambda-powertools/logger';

const VARIANTS: readonly ColdStartVariant[] = [
  {
    name: 'baseline (no logger)',
    entry: `process.stdout.write(JSON.stringify({ level: 'info', message: 'hello', records: 1 }) + '\\n');`,
    expectStdout: EXPECT_STDOUT,
  },
  {
    name: 'connect-fn logger',
    entry: `import { createLogger } from './src/observability/logger.ts';
const logger = createLogger();
logger.startInvocation({ connector: 'bench', task: 0, invocationId: 'req-1' });
logger.info('hello', { records: 1 });`,
    expectStdout: EXPECT_STDOUT,
  },
  {
    name: POWERTOOLS,
    entry: `import { Logger } from '${POWERTOOLS}';
const logger = new Logger({ serviceName: 'bench' });
logger.appendKeys({ connector: 'bench', task: 0, invocationId: 'req-1' });
logger.info('hello', { records: 1 });`,
    expectStdout: EXPECT_STDOUT,
  },
];

export const loggerColdStart: Benchmark = {
  name: NAME,
  defaultRuns: 50,
  run: ({ runs, log }) =>
    withBenchDir('connect-fn-logger-bench-', async (dir): Promise<ResultRow[]> => {
      const { bundles, unbundled } = await bundleVariants(VARIANTS, dir);
      const missing = unbundled.find((u) => u.variant.name !== POWERTOOLS);
      if (missing !== undefined) throw new Error(`${missing.variant.name} did not bundle: ${missing.reason}`);
      const baseline = bundles[0]!;
      const summaries = summarizeAll(bundles, runRounds(bundles, runs));
      for (const line of coldStartDetail(bundles, summaries, runs)) log(line);
      const base = { bundle: baseline, summary: summaries.get(baseline)! };
      return [
        ...bundles
          .slice(1)
          .flatMap((b) => coldStartRows(`${NAME}: ${b.variant.name}`, b, summaries.get(b)!, base)),
        ...unbundled.map((u) =>
          skipped(
            `${NAME}: ${u.variant.name}, total p50`,
            'ms',
            `${baseline.variant.name}, total p50`,
            `skipped: ${u.reason} (not a dependency; npm install --no-save ${POWERTOOLS})`,
          ),
        ),
      ];
    }),
};

await runIfMain(import.meta.filename, loggerColdStart);
