import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { sourceConnectors } from '../../../src/connectors/builtins.ts';
import { LineBuffer, LineTooLongError } from '../../../src/connectors/file/line-buffer.ts';
import { fileSourceConnector } from '../../../src/connectors/file/source-connector.ts';
import type { TaskLog } from '../../../src/connectors/task-log.ts';
import { ConversionError } from '../../../src/errors.ts';
import type { SourceRecord } from '../../../src/spi/records.ts';
import { invoke, MemoryOffsets } from './task-harness.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempFile(content?: string | Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'connect-fn-file-source-'));
  dirs.push(dir);
  const file = join(dir, 'in.txt');
  if (content !== undefined) writeFileSync(file, content);
  return file;
}

function recordingLog(): TaskLog & { readonly warnings: { message: string; fields: unknown }[] } {
  const warnings: { message: string; fields: unknown }[] = [];
  return { warnings, warn: (message, fields) => warnings.push({ message, fields }) };
}

const config = (file: string, batchSize = 2000) => ({ file, topic: 'lines', 'batch.size': batchSize });
const lines = (records: readonly SourceRecord[]) => records.map((r) => r.value);
const positions = (records: readonly SourceRecord[]) => records.map((r) => r.sourceOffset.position);

const unlimited = { file: 'in.txt', maxLineBytes: Number.MAX_SAFE_INTEGER };

/** What `fn` threw, for assertions on its fields. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('LineBuffer', () => {
  it("splits at \\n, \\r\\n and \\r as Connect's FileStreamSourceTask, with byte positions", () => {
    const buffer = new LineBuffer(100, unlimited);
    buffer.append(Buffer.from('a\nbb\r\nc\r\rd'));
    const out = [buffer.next(), buffer.next(), buffer.next(), buffer.next(), buffer.next()];
    expect(out).toEqual([
      { text: 'a', position: 102 },
      { text: 'bb', position: 106 },
      { text: 'c', position: 108 },
      { text: '', position: 109 },
      undefined,
    ]);
    expect(buffer.position).toBe(109);
    expect(buffer.readPosition).toBe(110);
  });

  it('waits for the byte after a final \\r, which may make it \\r\\n', () => {
    const buffer = new LineBuffer(0, unlimited);
    buffer.append(Buffer.from('x\r'));
    expect(buffer.next()).toBeUndefined();
    buffer.append(Buffer.from('\ny'));
    expect(buffer.next()).toEqual({ text: 'x', position: 3 });
  });

  it('ends a line at a final \r when told the file will not grow (a rotated file)', () => {
    const buffer = new LineBuffer(0, unlimited);
    buffer.append(Buffer.from('x\r'));
    expect(buffer.next()).toBeUndefined();
    expect(buffer.next(true)).toEqual({ text: 'x', position: 2 });
    expect(buffer.next(true)).toBeUndefined();
  });

  it('counts positions in bytes for multi-byte characters, and keeps lines longer than its buffer', () => {
    const buffer = new LineBuffer(0, unlimited);
    const long = 'é'.repeat(100_000);
    buffer.append(Buffer.from(`€\n${long}`));
    buffer.append(Buffer.from('\n'));
    expect(buffer.next()).toEqual({ text: '€', position: 4 });
    expect(buffer.next()).toEqual({ text: long, position: 200_005 });
  });
});

describe('LineBuffer with line.max.bytes', () => {
  const limits = { file: 'logs/in.txt', maxLineBytes: 4 };

  it('accepts a line of exactly the limit, whatever its line ending', () => {
    const buffer = new LineBuffer(0, limits);
    buffer.append(Buffer.from('abcd\nefgh\r\nijkl\r'));
    expect([buffer.next(), buffer.next(), buffer.next()]).toEqual([
      { text: 'abcd', position: 5 },
      { text: 'efgh', position: 11 },
      undefined,
    ]);
    buffer.append(Buffer.from('\n'));
    expect(buffer.next()).toEqual({ text: 'ijkl', position: 17 });
  });

  it('fails a longer line as soon as limit + 1 bytes without a line end are held, naming file, position and limit', () => {
    const buffer = new LineBuffer(100, limits);
    buffer.append(Buffer.from('ok\nabcd'));
    expect(buffer.next()).toEqual({ text: 'ok', position: 103 });
    expect(buffer.next()).toBeUndefined(); // 4 bytes: may still end here
    buffer.append(Buffer.from('e'));
    const err = thrown(() => buffer.next());
    expect(err).toBeInstanceOf(LineTooLongError);
    expect(err).toMatchObject({
      code: 'CONNECT_FN_FILE_LINE_TOO_LONG',
      retriable: false,
      stage: 'TASK_POLL',
      position: 103,
    });
    expect((err as Error).message).toContain('logs/in.txt');
    expect((err as Error).message).toContain('starts at byte 103');
    expect((err as Error).message).toContain('line.max.bytes (4 bytes');
    // It stays failed: the next poll meets the same line, and the position never moves past it.
    expect(() => buffer.next()).toThrow(LineTooLongError);
    expect(buffer.position).toBe(103);
  });

  it('fails a longer line that has its line ending too, and holds no more than the limit plus one read', () => {
    const buffer = new LineBuffer(0, limits);
    buffer.append(Buffer.from('abcdefgh\n'));
    expect(() => buffer.next()).toThrow(LineTooLongError);
    // A file of one endless line, read the way the task reads (fill the free region, then look for a line).
    const big = new LineBuffer(0, { file: 'in.txt', maxLineBytes: 200_000 });
    const failure = thrown(() => {
      for (;;) {
        const region = big.writable();
        region.fill(0x61);
        big.commitRead(region.length);
        big.next();
      }
    });
    expect(failure).toBeInstanceOf(LineTooLongError);
    expect(big.readPosition).toBeGreaterThan(200_000);
    expect(big.readPosition).toBeLessThan(2 * (200_000 + 64 * 1024));
  });
});

describe('file source task', () => {
  it('emits each complete line with key null, partition {filename} and offset {position} after the line', async () => {
    const file = tempFile('one\r\ntwo\nthree\rfour');
    const records = await invoke(fileSourceConnector(), config(file), new MemoryOffsets(), {
      maxRecords: 100,
    });
    expect(lines(records)).toEqual(['one', 'two', 'three']);
    expect(positions(records)).toEqual([5, 9, 15]);
    expect(records[0]).toEqual({
      sourcePartition: { filename: file },
      sourceOffset: {
        position: 5,
        inode: String(statSync(file).ino),
        head_bytes: 19,
        head_sha256: createHash('sha256').update('one\r\ntwo\nthree\rfour').digest('hex'),
      },
      topic: 'lines',
      key: null,
      value: 'one',
    });
  });

  it('emits a partial last line only once it is complete, resuming from the committed position', async () => {
    const file = tempFile('done\npart');
    const offsets = new MemoryOffsets();
    const connector = fileSourceConnector();
    expect(lines(await invoke(connector, config(file), offsets, { maxRecords: 100 }))).toEqual(['done']);
    expect(offsets.get({ filename: file })).toMatchObject({ position: 5, head_bytes: 9 });
    appendFileSync(file, 'ial\r');
    expect(await invoke(connector, config(file), offsets, { maxRecords: 100 })).toEqual([]);
    appendFileSync(file, '\nnext\n');
    const resumed = await invoke(connector, config(file), offsets, { maxRecords: 100 });
    expect(lines(resumed)).toEqual(['partial', 'next']);
    expect(positions(resumed)).toEqual([14, 19]);
  });

  it('reads lines appended while the task runs', async () => {
    const file = tempFile('a\n');
    const task = fileSourceConnector().createTask(config(file));
    await task.start(new MemoryOffsets().context());
    const budget = { maxRecords: 10, deadlineMs: Infinity };
    expect(lines(await task.poll(budget))).toEqual(['a']);
    expect(await task.poll(budget)).toEqual([]);
    appendFileSync(file, 'b\n');
    expect(lines(await task.poll(budget))).toEqual(['b']);
    await task.stop();
  });

  it('returns at most min(batch.size, maxRecords) lines per poll', async () => {
    const file = tempFile('1\n2\n3\n4\n5\n6\n7\n');
    const task = fileSourceConnector().createTask(config(file, 3));
    await task.start(new MemoryOffsets().context());
    const sizes = [];
    for (const maxRecords of [10, 2, 10, 10])
      sizes.push((await task.poll({ maxRecords, deadlineMs: 0 })).length);
    expect(sizes).toEqual([3, 2, 2, 0]);
    await task.stop();
  });

  it('delivers every line exactly once across invocations, whatever the budgets, crashes and line contents', async () => {
    const line = fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀', ' ', '\t') });
    const terminator = fc.constantFrom('\n', '\r\n', '\r');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(line, terminator), { maxLength: 60 }),
        fc.array(fc.record({ maxRecords: fc.integer({ min: 1, max: 9 }), crash: fc.boolean() }), {
          minLength: 25,
          maxLength: 25,
        }),
        fc.integer({ min: 1, max: 5 }),
        async (content, invocations, batchSize) => {
          const text = content.map(([l, t]) => l + t).join('');
          // The model: split at every terminator (a "\r" then "\n" is one CRLF); a final lone \r is not a
          // line end until the next byte arrives (Connect waits for a possible \n).
          const expected = text.split(/\r\n|\r|\n/).slice(0, text.endsWith('\r') ? -2 : -1);
          const file = tempFile(text);
          const offsets = new MemoryOffsets();
          const delivered: unknown[] = [];
          for (const { maxRecords, crash } of invocations) {
            const records = await invoke(fileSourceConnector(), config(file, batchSize), offsets, {
              maxRecords,
              commit: !crash,
            });
            if (!crash) delivered.push(...lines(records));
          }
          const budget = invocations.filter((i) => !i.crash).reduce((n, i) => n + i.maxRecords, 0);
          expect(delivered).toEqual(expected.slice(0, budget));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is idle with one warning while the file does not exist, and reads it once it does', async () => {
    const file = tempFile();
    const log = recordingLog();
    const task = fileSourceConnector(log).createTask(config(file));
    await task.start(new MemoryOffsets().context());
    expect(await task.poll({ maxRecords: 10, deadlineMs: 0 })).toEqual([]);
    expect(await task.poll({ maxRecords: 10, deadlineMs: 0 })).toEqual([]);
    expect(log.warnings).toEqual([{ message: expect.stringContaining('does not exist'), fields: { file } }]);
    writeFileSync(file, 'hello\n');
    expect(lines(await task.poll({ maxRecords: 10, deadlineMs: 0 }))).toEqual(['hello']);
    await task.stop();
  });

  it('reads a file that shrank below the committed position from the start, with a warning', async () => {
    const file = tempFile('first line\nsecond line\n');
    const offsets = new MemoryOffsets();
    const log = recordingLog();
    await invoke(fileSourceConnector(log), config(file), offsets, { maxRecords: 100 });
    truncateSync(file, 0);
    appendFileSync(file, 'new\n');
    const records = await invoke(fileSourceConnector(log), config(file), offsets, { maxRecords: 100 });
    expect(lines(records)).toEqual(['new']);
    expect(positions(records)).toEqual([4]);
    expect(log.warnings).toEqual([
      {
        message: expect.stringContaining('reading the file from the start'),
        fields: {
          file,
          reason: 'shorter-than-position',
          committedPosition: 23,
          committedInode: String(statSync(file).ino),
          inode: String(statSync(file).ino),
          sizeBytes: 4,
        },
      },
    ]);
  });

  it('refuses a committed position it cannot read', async () => {
    const file = tempFile('x\n');
    const offsets = new MemoryOffsets();
    offsets.set({ filename: file }, { position: '12' });
    await expect(invoke(fileSourceConnector(), config(file), offsets, { maxRecords: 1 })).rejects.toThrow(
      ConversionError,
    );
  });

  it('runs one task whatever tasks.max says, registered as file-source', () => {
    const connector = sourceConnectors().get('file-source');
    expect(connector?.taskConfigs(config('/in.txt'), 4)).toEqual([config('/in.txt')]);
  });
});
