import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OffsetStorageError } from '../../../src/offsets/errors.ts';
import { FileOffsetStore } from '../../../src/offsets/file-store.ts';

const renameFailures = vi.hoisted(() => ({ remaining: 0 }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    rename: async (from: string, to: string) => {
      if (renameFailures.remaining > 0) {
        renameFailures.remaining--;
        throw Object.assign(new Error('EIO: simulated crash before the rename'), { code: 'EIO' });
      }
      return real.rename(from, to);
    },
  };
});

const FILE = { filename: '/data/in.txt' };
const CRASH_WRITER = fileURLToPath(new URL('./file-store-crash-writer.ts', import.meta.url));

describe('file offset store', () => {
  let dir: string;
  let filename: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'connect-fn-offsets-'));
    filename = join(dir, 'nested', 'offsets.json');
  });

  afterEach(async () => {
    renameFailures.remaining = 0;
    await rm(dir, { recursive: true, force: true });
  });

  it('reads nothing before the first commit, then what was committed', async () => {
    // Prepare
    const session = await new FileOffsetStore({ filename }).open('local-file-source', 0);
    expect(await session.read([FILE])).toEqual([undefined]);
    // Act
    await session.commit([{ partition: FILE, offset: { position: 1234 } }]);
    // Assess: a new store (a new process) sees it
    const reopened = await new FileOffsetStore({ filename }).open('local-file-source', 0);
    expect(await reopened.read([FILE, { filename: '/other' }, FILE])).toEqual([
      { position: 1234 },
      undefined,
      { position: 1234 },
    ]);
  });

  it('keys the file by the exact connect-offsets key bytes', async () => {
    const session = await new FileOffsetStore({ filename }).open('local-file-source', 0);
    await session.commit([{ partition: FILE, offset: { position: 1234 } }]);
    expect(await readFile(filename, 'utf8')).toBe(
      '{\n  "[\\"local-file-source\\",{\\"filename\\":\\"/data/in.txt\\"}]": {"position":1234}\n}\n',
    );
    const parsed = JSON.parse(await readFile(filename, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['["local-file-source",{"filename":"/data/in.txt"}]']);
  });

  it('keeps the last entry per partition and deletes on a null offset', async () => {
    const store = new FileOffsetStore({ filename });
    const session = await store.open('c', 0);
    await session.commit([
      { partition: { p: 1 }, offset: { n: 1 } },
      { partition: { p: 2 }, offset: { n: 1 } },
      { partition: { p: 1 }, offset: { n: 2 } },
    ]);
    await session.commit([{ partition: { p: 2 }, offset: null }]);
    expect(await session.read([{ p: 1 }, { p: 2 }])).toEqual([{ n: 2 }, undefined]);
    expect([...(await store.entries()).keys()]).toEqual(['["c",{"p":1}]']);
  });

  it('keeps concurrent commits of several tasks and connectors', async () => {
    const store = new FileOffsetStore({ filename });
    const sessions = await Promise.all([store.open('a', 0), store.open('a', 1), store.open('b', 0)]);
    await Promise.all(
      sessions.flatMap((s, i) =>
        [1, 2, 3].map((n) => s.commit([{ partition: { task: i }, offset: { n: n * 10 + i } }])),
      ),
    );
    const [a0, a1, b0] = sessions;
    expect(await a0!.read([{ task: 0 }])).toEqual([{ n: 30 }]);
    expect(await a1!.read([{ task: 1 }])).toEqual([{ n: 31 }]);
    expect(await b0!.read([{ task: 2 }, { task: 0 }])).toEqual([{ n: 32 }, undefined]);
  });

  it('leaves the previous file intact when a write fails before the rename', async () => {
    // Prepare
    const session = await new FileOffsetStore({ filename }).open('c', 0);
    await session.commit([{ partition: FILE, offset: { position: 1 } }]);
    const before = await readFile(filename, 'utf8');
    renameFailures.remaining = 1;
    // Act
    const failed = session.commit([{ partition: FILE, offset: { position: 2 } }]);
    // Assess
    await expect(failed).rejects.toBeInstanceOf(OffsetStorageError);
    expect(await readFile(filename, 'utf8')).toBe(before);
    expect((await readdir(join(dir, 'nested'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await session.commit([{ partition: FILE, offset: { position: 3 } }]);
    expect(await session.read([FILE])).toEqual([{ position: 3 }]);
  });

  it('ignores a temp file a crashed writer left behind', async () => {
    const session = await new FileOffsetStore({ filename }).open('c', 0);
    await session.commit([{ partition: FILE, offset: { position: 1 } }]);
    await writeFile(`${filename}.999.deadbeef.tmp`, '{"["c",{"filename');
    expect(await session.read([FILE])).toEqual([{ position: 1 }]);
  });

  it("refuses Kafka Connect standalone's Java-serialised offsets file, and never rewrites it", async () => {
    // Prepare: the first bytes of an ObjectOutputStream (magic 0xACED, version 5), as Connect writes it.
    const connectFile = join(dir, 'connect.offsets');
    const javaBytes = Buffer.from([0xac, 0xed, 0x00, 0x05, 0x73, 0x72, 0x00, 0x11, 0x6a, 0x61, 0x76, 0x61]);
    await writeFile(connectFile, javaBytes);
    const session = await new FileOffsetStore({ filename: connectFile }).open('c', 0);
    // Act / Assess
    await expect(session.read([FILE])).rejects.toThrow(
      /connect\.offsets is Kafka Connect's standalone offsets file \(Java-serialised\), which connect-fn cannot read/,
    );
    await expect(session.commit([{ partition: FILE, offset: { position: 1 } }])).rejects.toThrow(
      OffsetStorageError,
    );
    expect(await readFile(connectFile)).toEqual(javaBytes);
  });

  it('refuses a file that is not an offsets file, naming it', async () => {
    await rm(join(dir, 'nested'), { recursive: true, force: true });
    await writeFile(join(dir, 'broken.json'), '{"half":');
    const session = await new FileOffsetStore({ filename: join(dir, 'broken.json') }).open('c', 0);
    await expect(session.read([FILE])).rejects.toThrow(/broken\.json is not valid/);
    await writeFile(join(dir, 'broken.json'), '[]');
    await expect(session.read([FILE])).rejects.toThrow(/must hold a JSON object/);
  });

  it('leaves a whole file when the writer is killed with SIGKILL at any moment', async () => {
    for (const delayMs of [150, 400, 700]) {
      // Act: a child process commits ever larger positions until it is killed
      const child = spawn(process.execPath, ['--import', 'tsx', CRASH_WRITER, filename], { stdio: 'pipe' });
      let reported = 0;
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.stdout.on('data', (chunk: Buffer) => {
        const lines = chunk.toString().trim().split('\n');
        reported = Number(lines.at(-1));
      });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      // A writer that cannot even start found the file its predecessor left unreadable.
      await waitFor(
        () => reported > 0,
        () => stderr,
      );
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      // Assess: the file is whole and holds a committed position at least as new as the last reported
      const [offset] = await (await new FileOffsetStore({ filename }).open('c', 0)).read([FILE]);
      expect(offset?.position).toBeGreaterThanOrEqual(reported);
    }
  }, 30_000);
});

async function waitFor(condition: () => boolean, stderr: () => string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  if (!condition()) throw new Error(`the crash writer never committed:\n${stderr()}`);
}
