/**
 * In-process CPU profiles of one timed region (the V8 sampling profiler through `node:inspector`), written
 * as `.cpuprofile` files (open them in Chrome DevTools or VS Code), and a summary of where the time went:
 * self time grouped into idle (waiting on the network), garbage collection, kafkajs, Node internals and
 * connect-fn's own files.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { formatTable } from './table.ts';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Sampling interval, µs (V8's default is 1000). */
const INTERVAL_US = 250;

/** Runs `fn` under the profiler; returns its result and the profile. */
export async function profiled<T>(fn: () => Promise<T>): Promise<{ result: T; profile: CpuProfile }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: INTERVAL_US });
    await session.post('Profiler.start');
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      await session.post('Profiler.stop').catch(() => undefined);
      throw err;
    }
    const { profile } = await session.post('Profiler.stop');
    return { result, profile: profile as unknown as CpuProfile };
  } finally {
    session.disconnect();
  }
}

/** Writes `profile` to `<dir>/<name>.cpuprofile`; returns the path. */
export function writeProfile(dir: string, name: string, profile: CpuProfile): string {
  const file = join(dir, `${name}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  return file;
}

/** The group a sample's function belongs to. */
function groupOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(idle)' || functionName === '(garbage collector)' || functionName === '(program)') {
      return functionName;
    }
    return '(native: buffer copies, writes)';
  }
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length).split('/')[0]!;
  if (url.startsWith('node:')) return 'node internals';
  const repo = url.match(/\/(src|handlers|bench)\/(.+)$/);
  return repo === null ? url : `${repo[1]}/${repo[2]}`;
}

/** Self time in ms by group, largest first. */
export function selfTimeByGroup(profile: CpuProfile): { group: string; ms: number }[] {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const group = groupOf(frames.get(id)!);
    totals.set(group, (totals.get(group) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...totals].map(([group, ms]) => ({ group, ms })).sort((a, b) => b.ms - a.ms);
}

/** The top functions by self time, `name file:line`. */
export function selfTimeByFunction(profile: CpuProfile, top: number): { fn: string; ms: number }[] {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const f = frames.get(id)!;
    const where =
      f.url === ''
        ? ''
        : ` ${f.url.replace(/^.*\/(node_modules|src|handlers)\//, '$1/')}:${f.lineNumber + 1}`;
    const key = `${f.functionName || '(anonymous)'}${where}`;
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...totals]
    .map(([fn, ms]) => ({ fn, ms }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top);
}

/** Side-by-side self times (ms) of several profiles of the same work, groups as rows. */
export function compareProfiles(named: ReadonlyMap<string, CpuProfile>, minMs = 5): string[] {
  const tables = [...named].map(
    ([name, p]) => [name, new Map(selfTimeByGroup(p).map((g) => [g.group, g.ms]))] as const,
  );
  const groups = new Map<string, number>();
  for (const [, t] of tables) for (const [g, ms] of t) groups.set(g, Math.max(groups.get(g) ?? 0, ms));
  const rows = [...groups]
    .filter(([, ms]) => ms >= minMs)
    .sort((a, b) => b[1] - a[1])
    .map(([g]) => [g, ...tables.map(([, t]) => (t.get(g) ?? 0).toFixed(0))]);
  const totals = ['total', ...tables.map(([, t]) => [...t.values()].reduce((a, b) => a + b, 0).toFixed(0))];
  return formatTable(['self time, ms', ...tables.map(([n]) => n)], [...rows, totals]);
}
