/**
 * The child process of the peak-RSS benchmark (`bench/source-rss.ts` bundles it the way a Lambda handler
 * is bundled and runs it with plain `node`): builds the source function of `<bundle-dir> <connector>`
 * (the cold start) and runs one invocation of task 0, then prints one JSON line with the process's peak
 * resident set size.
 *
 * `produce` runs the invocation with a long deadline (it produces up to `invocation.max.records`);
 * `idle` runs it with no time left past the safety margin, so the function loads everything, opens its
 * offsets store and producer, and produces nothing: the baseline.
 *
 * Usage: `node rss-invocation.mjs <bundle-dir> <connector> produce|idle`
 * @module
 */
import { createSourceFunction } from '../../src/app/source-function.ts';
import { localContext } from '../../src/lambda/lambda-context.ts';
import { peakRssKiB, RSS_MARKER, type RssReport } from './rss-report.ts';

async function main(): Promise<void> {
  const [dir, connector, mode] = process.argv.slice(2);
  if (dir === undefined || connector === undefined || (mode !== 'produce' && mode !== 'idle')) {
    throw new Error('usage: rss-invocation <bundle-dir> <connector> produce|idle');
  }
  const fn = createSourceFunction({
    bundleDir: dir,
    connector,
    env: { LOG_LEVEL: 'warn' },
    logSink: (line) => process.stderr.write(line),
  });
  try {
    const timeoutMs = mode === 'produce' ? 900_000 : fn.connector.common['invocation.safety.margin.ms'];
    const startMs = performance.now();
    const summary = await fn.handler({ task: 0 }, localContext(`connect-fn-${connector}`, timeoutMs));
    const peak = peakRssKiB();
    const report: RssReport = {
      peakRssKiB: peak.kib,
      source: peak.source,
      maxRssKiB: process.resourceUsage().maxRSS,
      heapUsedBytes: process.memoryUsage().heapUsed,
      records: summary.records,
      bytes: summary.bytes,
      stopReason: summary.stopReason,
      invocationMs: performance.now() - startMs,
    };
    process.stdout.write(`${RSS_MARKER}${JSON.stringify(report)}\n`);
  } finally {
    await fn.close();
  }
}

await main();
