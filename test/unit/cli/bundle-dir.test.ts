/** `run` and `validate` on a bundle directory that is not one (issue 10, defect 8). */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { writeBundle } from '../../support/bundle-fixture.ts';

async function cli(...args: string[]) {
  const lines: string[] = [];
  const code = await main(args, { out: (l) => lines.push(l), err: (l) => lines.push(l) });
  return { code, text: lines.join('\n') };
}

describe('a bundle directory that is not one', () => {
  it('run says the directory does not exist, or is a file, not "at least one connector file"', async () => {
    const dir = writeBundle({ 'notes.txt': 'x' });
    const missing = await cli('run', join(dir, 'nope'), 'orders');
    expect(missing.code).toBe(1);
    expect(missing.text).toContain(`${join(dir, 'nope')}: (bundle): a bundle directory`);
    expect(missing.text).toContain('(got no such directory)');
    const file = await cli('run', join(dir, 'notes.txt'), 'orders');
    expect(file.text).toContain('(got a file, not a directory)');
    for (const r of [missing, file]) expect(r.text).not.toContain('at least one connector file');
  });

  it('validate says which of the two it is', async () => {
    const dir = writeBundle({ 'notes.txt': 'x' });
    expect((await cli('validate', join(dir, 'nope'))).text).toContain(`${join(dir, 'nope')} does not exist`);
    expect((await cli('validate', join(dir, 'notes.txt'))).text).toContain('is a file, not a directory');
  });
});
