/**
 * `connect-fn run` never prints a secret, also one that a stray `\` at a line's end joined into a
 * non-secret key's value: the function's log lines (stderr) and the summaries (stdout). In-process, no
 * network: a file source whose file does not exist idles without touching Kafka.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { writeBundle } from '../../support/bundle-fixture.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

async function run(...argv: string[]) {
  const out: string[] = [];
  const logs: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    logs.push(String(chunk));
    return true;
  });
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => logs.push(l) });
  vi.restoreAllMocks();
  return { code, out, logs: logs.join('') };
}

describe('connect-fn run hides secrets whatever key they ended up under', () => {
  it('a password joined into `file` by a stray backslash is hidden from the log line naming the file', async () => {
    const dir = writeBundle({
      'worker.properties':
        'bootstrap.servers=127.0.0.1:1\noffset.storage=file\noffset.storage.file.filename=o.json\n',
      'connectors/a.properties':
        'name=a\nconnector.class=FileStreamSource\nfile=missing.txt\\\nssl.key.password=Zz-Secret-99\ntopic=t\n',
    });
    for (const json of [[], ['--json']]) {
      const r = await run('run', dir, 'a', ...json);
      expect(r.code).toBe(0);
      expect(r.out).toHaveLength(1);
      expect(r.out[0]).toMatch(/idle/);
      // The file source says it idles, naming its file: that name holds the password.
      expect(r.logs).toContain('"file":"[hidden]"');
      expect(`${r.out.join('\n')}${r.logs}`).not.toContain('Zz-Secret-99');
    }
  });
});
