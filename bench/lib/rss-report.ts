/**
 * What the peak-RSS child process (`bench/lib/rss-invocation.ts`) reports, after {@link RSS_MARKER}, and
 * how it measures its peak.
 * @module
 */
import { readFileSync } from 'node:fs';

export interface RssReport {
  /** Peak resident set size of this process, KiB (see {@link peakRssKiB}). */
  readonly peakRssKiB: number;
  /** Where `peakRssKiB` comes from. */
  readonly source: 'VmHWM' | 'maxRSS';
  /** `process.resourceUsage().maxRSS`, KiB, for reference (on Linux it may be the parent's, see below). */
  readonly maxRssKiB: number;
  readonly heapUsedBytes: number;
  readonly records: number;
  readonly bytes: number;
  readonly stopReason: string;
  readonly invocationMs: number;
}

export const RSS_MARKER = 'RSS ';

/**
 * The process's peak RSS: `VmHWM` from `/proc/self/status` on Linux, else `maxRSS`. Not `maxRSS` on
 * Linux: `ru_maxrss` survives `execve`, so a child spawned by a big parent reports the parent's high-water
 * mark at fork time (a 300 MB parent makes a fresh `node` child report ~297 MB, VmHWM says 43 MB).
 */
export function peakRssKiB(): { kib: number; source: RssReport['source'] } {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match !== null) return { kib: Number(match[1]), source: 'VmHWM' };
  } catch {
    // Not Linux: fall back to getrusage.
  }
  return { kib: process.resourceUsage().maxRSS, source: 'maxRSS' };
}
