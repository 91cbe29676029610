import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { sinkConnectors } from '../../../src/connectors/builtins.ts';
import { fileSinkConnector } from '../../../src/connectors/file/sink-connector.ts';
import { ConversionError, SinkTargetError, Stage } from '../../../src/errors.ts';
import type { SinkRecord, SinkTask, SinkTaskContext } from '../../../src/spi/sink.ts';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** FileHandle is not exported by node:fs/promises; its prototype is where fsync and write live. */
let fileHandleProto: {
  write: (...args: never[]) => unknown;
  datasync: () => Promise<void>;
  sync: () => Promise<void>;
};
beforeAll(async () => {
  const handle = await open(join(tempDir(), 'probe'), 'w');
  fileHandleProto = Object.getPrototypeOf(handle);
  await handle.close();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'connect-fn-file-sink-'));
  dirs.push(dir);
  return dir;
}

const context: SinkTaskContext = { connector: 'c', taskId: 0, assignment: [{ topic: 'in', partition: 0 }] };

let nextOffset = 0;
function record(value: unknown): SinkRecord {
  const kafkaOffset = nextOffset++;
  return { topic: 'in', kafkaPartition: 0, kafkaOffset, timestamp: 0, key: 'k', value, headers: [] };
}

function fileTask(file: string): SinkTask {
  return fileSinkConnector().createTask({ file, topics: 'in' });
}

/** One invocation: start, a put per batch, flush, stop. */
async function invoke(task: SinkTask, ...batches: unknown[][]): Promise<void> {
  await task.start(context);
  try {
    for (const values of batches) await task.put(values.map(record));
    await task.flush?.([{ topic: 'in', partition: 0, offset: nextOffset }]);
  } finally {
    await task.stop();
  }
}

describe('file sink task', () => {
  it('appends each record value as one line, in order, creating the file', async () => {
    const file = join(tempDir(), 'out.txt');
    await invoke(fileTask(file), ['one', '', 'é€😀'], ['two']);
    expect(readFileSync(file, 'utf8')).toBe('one\n\né€😀\ntwo\n');
  });

  it("writes a null value as the text null, as Connect's println does", async () => {
    const file = join(tempDir(), 'out.txt');
    await invoke(fileTask(file), [null, 'x', undefined]);
    expect(readFileSync(file, 'utf8')).toBe('null\nx\nnull\n');
  });

  it('writes objects, arrays and Maps as compact JSON and other values as their text', async () => {
    const file = join(tempDir(), 'out.txt');
    const values = [
      { id: 1, tags: ['a', null], nested: { ok: true } },
      [1, 'two'],
      new Map([['k', Uint8Array.of(1, 2, 3)]]),
      42,
      1.5,
      2n ** 64n,
      false,
      new Date(Date.UTC(2024, 4, 1, 12)),
    ];
    await invoke(fileTask(file), values);
    expect(readFileSync(file, 'utf8').split('\n')).toEqual([
      '{"id":1,"tags":["a",null],"nested":{"ok":true}}',
      '[1,"two"]',
      '{"k":"AQID"}',
      '42',
      '1.5',
      '18446744073709551616',
      'false',
      '2024-05-01T12:00:00.000Z',
      '',
    ]);
  });

  it("writes a byte-array value's bytes as they are (UTF-8 text as text)", async () => {
    const file = join(tempDir(), 'out.txt');
    const backing = Buffer.from('__héllo__');
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 2, backing.byteLength - 4);
    await invoke(fileTask(file), [view, Uint8Array.of(0xff, 0x41)]);
    expect(readFileSync(file)).toEqual(Buffer.concat([Buffer.from('héllo\n'), Buffer.of(0xff, 0x41, 0x0a)]));
  });

  it('fails a put holding a value with no JSON form, writing none of its lines', async () => {
    const file = join(tempDir(), 'out.txt');
    const task = fileTask(file);
    await task.start(context);
    await task.put([record('kept')]);
    const failed = task.put([record('lost'), record(new Set([1]))]);
    await expect(failed).rejects.toThrow(ConversionError);
    await expect(failed).rejects.toMatchObject({ stage: Stage.TASK_PUT, message: /in-0@\d+.*Set/ });
    await task.stop();
    expect(readFileSync(file, 'utf8')).toBe('kept\n');
  });

  it('appends to an existing file, keeping what it holds', async () => {
    const file = join(tempDir(), 'out.txt');
    writeFileSync(file, 'written before\n');
    await invoke(fileTask(file), ['first invocation']);
    await invoke(fileTask(file), ['second invocation']);
    expect(readFileSync(file, 'utf8')).toBe('written before\nfirst invocation\nsecond invocation\n');
  });

  it('writes each put with one write call, whatever its size', async () => {
    const write = vi.spyOn(fileHandleProto, 'write');
    const file = join(tempDir(), 'out.txt');
    const values = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(i % 300)}`);
    await invoke(fileTask(file), values, [], ['last']);
    expect(write).toHaveBeenCalledTimes(2);
    expect(readFileSync(file, 'utf8')).toBe(`${[...values, 'last'].join('\n')}\n`);
  });

  it('makes the lines durable in flush, with one fdatasync, and never in put', async () => {
    const file = join(tempDir(), 'out.txt');
    writeFileSync(file, '');
    const datasync = vi.spyOn(fileHandleProto, 'datasync');
    const sync = vi.spyOn(fileHandleProto, 'sync');
    const task = fileTask(file);
    await task.start(context);
    await task.put([record('a'), record('b')]);
    await task.put([record('c')]);
    expect(datasync).not.toHaveBeenCalled();
    await task.flush?.([]);
    expect(datasync).toHaveBeenCalledTimes(1);
    await task.flush?.([]); // nothing new: nothing to sync
    expect(datasync).toHaveBeenCalledTimes(1);
    await task.put([record('d')]);
    await task.flush?.([]);
    expect(datasync).toHaveBeenCalledTimes(2);
    expect(sync).not.toHaveBeenCalled(); // the file existed: its directory entry is already durable
    await task.stop();
  });

  it('syncs the directory once after creating the file, so the new name is durable too', async () => {
    const sync = vi.spyOn(fileHandleProto, 'sync');
    const task = fileTask(join(tempDir(), 'new.txt'));
    await task.start(context);
    await task.put([record('a')]);
    await task.flush?.([]);
    await task.put([record('b')]);
    await task.flush?.([]);
    await task.stop();
    expect(sync).toHaveBeenCalledTimes(process.platform === 'win32' ? 0 : 1);
  });

  it('fails every flush after a failed fdatasync, even if a later one would succeed', async () => {
    const file = join(tempDir(), 'out.txt');
    const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    vi.spyOn(fileHandleProto, 'datasync').mockRejectedValueOnce(eio);
    const task = fileTask(file);
    await task.start(context);
    await task.put([record('a')]);
    await expect(task.flush?.([])).rejects.toMatchObject({
      code: 'CONNECT_FN_SINK_TARGET',
      message: `file sink: an fdatasync of ${file} failed (EIO)`,
      cause: eio,
    });
    await task.put([record('b')]);
    await expect(task.flush?.([])).rejects.toMatchObject({ code: 'CONNECT_FN_SINK_TARGET', cause: eio });
    await task.stop();
  });

  it('fails a put whose write fails (a full disk) with a target failure naming the file', async () => {
    const file = join(tempDir(), 'out.txt');
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    vi.spyOn(fileHandleProto, 'write').mockRejectedValueOnce(enospc as never);
    const task = fileTask(file);
    await task.start(context);
    await expect(task.put([record('a')])).rejects.toMatchObject({
      code: 'CONNECT_FN_SINK_TARGET',
      retriable: false,
      stage: Stage.TASK_PUT,
      message: `file sink: a write of ${file} failed (ENOSPC)`,
    });
    await task.stop();
  });

  it('resolves a relative file against the bundle directory, and keeps an absolute one', async () => {
    const bundle = tempDir();
    const elsewhere = join(tempDir(), 'abs.txt');
    const connector = sinkConnectors({ baseDir: bundle }).get('file-sink');
    if (connector === undefined) throw new Error('file-sink is not registered');
    await invoke(connector.createTask({ file: 'out.txt' }), ['relative']);
    await invoke(connector.createTask({ file: elsewhere }), ['absolute']);
    expect(readFileSync(join(bundle, 'out.txt'), 'utf8')).toBe('relative\n');
    expect(readFileSync(elsewhere, 'utf8')).toBe('absolute\n');
  });

  it('fails start with a target failure naming the path when its directory does not exist', async () => {
    const missing = join(tempDir(), 'no-such-dir');
    const file = join(missing, 'out.txt');
    const started = fileTask(file).start(context);
    await expect(started).rejects.toThrow(SinkTargetError);
    await expect(started).rejects.toMatchObject({
      code: 'CONNECT_FN_SINK_TARGET',
      stage: Stage.TASK_START,
      retriable: false,
      message: `file sink: cannot write to ${file}: its directory ${missing} does not exist`,
    });
  });

  it.runIf(existsSync('/proc/self/fd'))('closes the file in stop; a put after stop fails', async () => {
    const file = join(tempDir(), 'out.txt');
    const descriptorsOf = (path: string) =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === path;
        } catch {
          return false; // the descriptor readdir itself used, closed by now
        }
      });
    const task = fileTask(file);
    await task.start(context);
    await task.put([record('a')]);
    expect(descriptorsOf(file)).toHaveLength(1); // kept open between puts
    await task.stop();
    expect(descriptorsOf(file)).toEqual([]);
    await expect(task.put([record('b')])).rejects.toThrow(/after stop/);
  });

  it('interleaves whole lines, never torn ones, when two tasks append to one file at once', async () => {
    const file = join(tempDir(), 'shared.txt');
    const [configA, configB] = fileSinkConnector().taskConfigs({ file }, 2);
    const line = (task: string, i: number) => `${task}:${i}:${'abcdefgh'.repeat(1 + ((i * 37) % 1000))}`;
    const run = async (task: string, config: typeof configA) => {
      const sink = fileSinkConnector().createTask(config ?? {});
      await sink.start(context);
      for (let put = 0; put < 10; put++) {
        await sink.put(Array.from({ length: 100 }, (_, i) => record(line(task, put * 100 + i))));
      }
      await sink.flush?.([]);
      await sink.stop();
    };
    await Promise.all([run('A', configA), run('B', configB)]);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    for (const task of ['A', 'B']) {
      const own = lines.filter((l) => l.startsWith(`${task}:`));
      expect(own).toEqual(Array.from({ length: 1000 }, (_, i) => line(task, i)));
    }
    expect(lines).toHaveLength(2000);
  });
});

describe('file sink connector', () => {
  it("returns tasks.max copies of the config, as Connect's FileStreamSinkConnector", () => {
    const config = { file: '/out.txt', topics: 'a,b' };
    const connector = sinkConnectors().get('file-sink');
    expect(connector?.taskConfigs(config, 3)).toEqual([config, config, config]);
  });
});
