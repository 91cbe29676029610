/**
 * `connect-fn run ... --task N`: a task the connector does not run is a usage error (exit 2) naming the
 * connector, the task asked for and the valid range — not an uncaught RangeError. In-process, no network:
 * the check comes before any invocation, so the unreachable broker is never dialled.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { writeBundle } from '../../support/bundle-fixture.ts';

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err: err.join('\n') };
}

const bundle = () =>
  writeBundle({
    'worker.properties':
      'bootstrap.servers=127.0.0.1:1\noffset.storage=file\noffset.storage.file.filename=o.json\n',
    'connectors/gen.properties':
      'name=gen\nconnector.class=datagen\nkafka.topic=t\niterations=4\ntasks.max=2\n',
    'connectors/file.properties':
      'name=file\nconnector.class=FileStreamSource\nfile=in.txt\ntopic=t\ntasks.max=3\n',
  });

describe('connect-fn run --task', () => {
  it('refuses a task beyond a 2-task connector with a usage error naming the connector and the range', async () => {
    const r = await run('run', bundle(), 'gen', '--task', '9');
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err).toMatch(
      /^--task 9: connector gen runs 2 tasks; --task takes 0 to 1\nusage: connect-fn run /,
    );
    expect(r.err).not.toMatch(/RangeError|\n\s+at /);
  });

  it('says so when the connector runs fewer tasks than tasks.max', async () => {
    const r = await run('run', bundle(), 'file', '--task', '1');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^--task 1: connector file runs 1 task \(tasks\.max=3\); --task takes 0\n/);
  });

  it('keeps refusing a task that is not an integer >= 0 as before', async () => {
    for (const task of ['-1', '1.5', 'x']) {
      const r = await run('run', bundle(), 'gen', '--task', task);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^--task takes an integer >= 0/);
    }
  });
});
