/**
 * A usage error echoes what the user typed, bounded: a megabyte-long command, option or argument is cut
 * (with its full length said), never printed whole. In-process, no network.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';

async function cli(...argv: string[]) {
  const lines: string[] = [];
  const code = await main(argv, { out: (l) => lines.push(l), err: (l) => lines.push(l) });
  return { code, all: lines.join('\n') };
}

const huge = (prefix: string) => `${prefix}${'x'.repeat(1_000_000)}`;

describe('usage errors echo bounded arguments', () => {
  it.each([
    ['an unknown command', [huge('cmd')]],
    ['an unknown run option', ['run', 'bundle', 'conn', huge('--opt')]],
    ['an unknown validate option', ['validate', huge('--opt')]],
    ['an unexpected stack argument', ['stack', 'env', huge('arg')]],
    ['a stack up argument', ['stack', 'up', huge('arg')]],
  ])('%s', async (_what, argv) => {
    const r = await cli(...argv);
    const echoed = argv.find((a) => a.length > 1_000_000) ?? '';
    expect(r.code).toBe(2);
    expect(r.all).toContain(`[cut: ${echoed.length} characters in all]`);
    expect(r.all.length).toBeLessThan(5_000);
  });
});
