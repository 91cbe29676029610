/**
 * The file source through the real source cycle (runSourceCycle, fake Kafka behind the ports): a file
 * replaced at its path (rotation, rewrite in place) and a line longer than `line.max.bytes`.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { fileSourceConnector } from '../../../src/connectors/file/source-connector.ts';
import type { TaskLog } from '../../../src/connectors/task-log.ts';
import { ConversionError } from '../../../src/errors.ts';
import type { OffsetStore } from '../../../src/runtime/ports.ts';
import { runSourceCycle } from '../../../src/runtime/source-cycle.ts';
import type { TaskConfig } from '../../../src/spi/source.ts';
import { converters } from '../../support/counting-task.ts';
import { FakeClock, FakeKafka, kafkaOffsets, LeasedOffsets } from '../../support/fake-kafka.ts';
import { invoke, MemoryOffsets } from './task-harness.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'connect-fn-file-cycle-'));
  dirs.push(dir);
  const file = join(dir, 'in.txt');
  writeFileSync(file, content);
  return file;
}

interface Warning {
  readonly message: string;
  readonly fields: unknown;
}

/** A bundle's file source, run one invocation at a time at-least-once against a fake Kafka. */
class FileSourceRun {
  readonly warnings: Warning[] = [];
  readonly #clock = new FakeClock();
  readonly #log: TaskLog = { warn: (message, fields) => this.warnings.push({ message, fields }) };

  constructor(
    readonly config: TaskConfig,
    readonly offsets: OffsetStore = new LeasedOffsets(),
    readonly kafka = new FakeKafka(),
  ) {}

  invoke(maxRecords = 100) {
    return runSourceCycle({
      connector: 'c',
      taskId: 0,
      task: fileSourceConnector(this.#log).createTask(this.config),
      converters,
      offsets: this.offsets,
      delivery: { mode: 'at-least-once', writer: this.kafka.writer() },
      limits: { maxRecords, maxBytes: 1e9, deadlineMs: this.#clock.now + 60_000 },
      errors: { tolerance: 'none', retryTimeoutMs: 0, retryDelayMaxMs: 60_000 },
      clock: this.#clock,
    });
  }

  /** Invocations until one is idle. */
  async drain(maxRecords: number): Promise<void> {
    for (let i = 0; i < 100; i++) if ((await this.invoke(maxRecords)).stopReason === 'idle') return;
    throw new Error('the source never became idle');
  }

  /** The topic's values, in log order. */
  lines(): unknown[] {
    return this.kafka
      .committed('lines')
      .map((r) => JSON.parse(new TextDecoder().decode(r.value ?? new Uint8Array())));
  }
}

const quiet: TaskLog = { warn: () => {} };

const config = (file: string, extra: TaskConfig = {}): TaskConfig => ({
  file,
  topic: 'lines',
  'batch.size': 2000,
  ...extra,
});
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const inodeOf = (file: string) => String(statSync(file, { bigint: true }).ino);

describe('file source, a file replaced at its path', () => {
  it('reads a file rotated to a longer one from its first line: each new line once, no partial line', async () => {
    const file = tempFile('a1\nb1\nc1\n');
    const run = new FileSourceRun(config(file));
    await run.invoke();
    const oldInode = inodeOf(file);
    // Rotation: the old file moves aside (keeping its inode), a longer new file takes the path.
    renameSync(file, `${file}.1`);
    const fresh = Array.from({ length: 7 }, (_, i) => `NEW${i + 1}`);
    writeFileSync(file, `${fresh.join('\n')}\n`);
    await run.drain(2);
    expect(run.lines()).toEqual(['a1', 'b1', 'c1', ...fresh]);
    expect(run.warnings).toEqual([
      {
        message: expect.stringContaining('reading the file from the start: another file is at the path'),
        fields: {
          file,
          reason: 'inode-changed',
          committedPosition: 9,
          committedInode: oldInode,
          inode: inodeOf(file),
          sizeBytes: 35,
          rotatedFile: `${file}.1`,
        },
      },
    ]);
  });

  it('reads what was written to the rotated file after the last invocation first, each line once across crashes', async () => {
    const file = tempFile('a1\nb1\n');
    const run = new FileSourceRun(config(file));
    await run.invoke();
    // Written to the old file between two invocations, then rotated; the writer never finished "part".
    appendFileSync(file, 'c1\nd1\ne1\npart');
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'NEW1\nNEW2\nNEW3\n');
    await run.drain(1); // one line per invocation: every invocation finds the rotated file again
    expect(run.lines()).toEqual(['a1', 'b1', 'c1', 'd1', 'e1', 'NEW1', 'NEW2', 'NEW3']);
    // Four invocations found the rotated file (c1, d1, e1, then its unterminated end and NEW1); then the new
    // file is the committed one.
    expect(run.warnings.map((w) => w.message)).toEqual([
      ...Array(4).fill(expect.stringContaining('reading the rest of the rotated file first')),
      expect.stringContaining('the rotated file ends in a line without a line ending'),
    ]);
    expect(run.warnings[0]?.fields).toMatchObject({ rotatedFile: `${file}.1`, committedPosition: 6 });
    expect(run.warnings[4]?.fields).toMatchObject({ rotatedFile: `${file}.1`, position: 15, bytes: 4 });
  });

  it('says what it could not read when the rotated file is not in the directory any more', async () => {
    const file = tempFile('a1\n');
    const run = new FileSourceRun(config(file));
    await run.invoke();
    appendFileSync(file, 'b1\n');
    const elsewhere = mkdtempSync(join(tmpdir(), 'connect-fn-file-cycle-'));
    dirs.push(elsewhere);
    renameSync(file, join(elsewhere, 'in.txt.1'));
    writeFileSync(file, 'NEW1\n');
    await run.drain(100);
    expect(run.lines()).toEqual(['a1', 'NEW1']);
    expect(run.warnings).toEqual([
      {
        message: expect.stringContaining('the old file was not found in the directory'),
        fields: expect.objectContaining({ reason: 'inode-changed', committedPosition: 3 }),
      },
    ]);
  });

  it('reads a file truncated and rewritten in place (same inode) from the start when its first bytes changed', async () => {
    const file = tempFile('a1\nb1\nc1\n');
    const run = new FileSourceRun(config(file));
    await run.invoke();
    const inode = inodeOf(file);
    writeFileSync(file, 'NEW1\nNEW2\nNEW3\n'); // O_TRUNC: the same inode, longer than position 9
    expect(inodeOf(file)).toBe(inode);
    await run.drain(100);
    expect(run.lines()).toEqual(['a1', 'b1', 'c1', 'NEW1', 'NEW2', 'NEW3']);
    expect(run.warnings).toEqual([
      {
        message: expect.stringContaining('its first bytes changed'),
        fields: expect.objectContaining({ reason: 'head-changed', committedPosition: 9, inode }),
      },
    ]);
  });

  it('resumes a file that only grew, comparing a short fingerprint on the bytes it covered', async () => {
    const file = tempFile('a\n');
    const offsets = new LeasedOffsets();
    const run = new FileSourceRun(config(file), offsets);
    await run.invoke();
    expect(offsets.offsets.get(JSON.stringify(['c', { filename: file }]))).toEqual({
      position: 2,
      inode: inodeOf(file),
      head_bytes: 2,
      head_sha256: sha256('a\n'),
    });
    const more = Array.from({ length: 300 }, (_, i) => `line ${i}`);
    appendFileSync(file, `${more.join('\n')}\n`);
    await run.drain(50);
    expect(run.lines()).toEqual(['a', ...more]);
    expect(run.warnings).toEqual([]);
    // The fingerprint now covers the first 1024 bytes of the grown file.
    const content = `a\n${more.join('\n')}\n`;
    expect(offsets.offsets.get(JSON.stringify(['c', { filename: file }]))).toMatchObject({
      head_bytes: 1024,
      head_sha256: sha256(content.slice(0, 1024)),
    });
  });

  it("honours an offset Kafka Connect wrote ({position} only), and writes position first, then the file's identity", async () => {
    const file = tempFile('a1\nb1\nc1\n');
    const kafka = new FakeKafka();
    const store = kafkaOffsets(kafka);
    const session = await store.open('c', 0, Number.POSITIVE_INFINITY);
    await session.commit([{ partition: { filename: file }, offset: { position: 3 } }]);
    const run = new FileSourceRun(config(file), store, kafka);
    await run.invoke();
    expect(run.lines()).toEqual(['b1', 'c1']);
    const written = kafka
      .committed('connect-offsets')
      .map((r) => new TextDecoder().decode(r.value ?? undefined));
    expect(written).toEqual([
      '{"position":3}',
      `{"position":9,"inode":"${inodeOf(file)}","head_bytes":9,"head_sha256":"${sha256('a1\nb1\nc1\n')}"}`,
    ]);
    expect(run.warnings).toEqual([]);
  });

  it('refuses a committed identity it cannot read, naming the field', async () => {
    const file = tempFile('x\n');
    const offsets = new LeasedOffsets();
    offsets.offsets.set(JSON.stringify(['c', { filename: file }]), {
      position: 2,
      inode: 12,
      head_bytes: 2,
      head_sha256: sha256('x\n'),
    });
    const summary = await new FileSourceRun(config(file), offsets).invoke();
    expect(summary.error).toMatchObject({ code: new ConversionError('').code, retriable: false });
    expect(summary.error?.message).toContain("offset's inode must be a decimal string");
  });
});

describe('file source, line.max.bytes', () => {
  it('fails on a longer line, non-retriable, after delivering and committing the lines before it', async () => {
    const file = tempFile(`ok\nfine\n${'x'.repeat(20)}\nafter\n`);
    const offsets = new LeasedOffsets();
    const run = new FileSourceRun(config(file, { 'line.max.bytes': 8, 'batch.size': 1 }), offsets);
    const first = await run.invoke();
    expect(first).toMatchObject({
      stopReason: 'error',
      records: 2,
      error: {
        code: 'CONNECT_FN_FILE_LINE_TOO_LONG',
        stage: 'TASK_POLL',
        retriable: false,
        message: expect.stringContaining(
          `the line of ${file} that starts at byte 8 is longer than line.max.bytes (8 bytes`,
        ),
      },
    });
    expect(run.lines()).toEqual(['ok', 'fine']);
    expect(offsets.offsets.get(JSON.stringify(['c', { filename: file }]))).toMatchObject({ position: 8 });
    // The next invocation meets the same line: the same error, nothing more sent or committed.
    const second = await run.invoke();
    expect(second).toMatchObject({ records: 0, error: { code: 'CONNECT_FN_FILE_LINE_TOO_LONG' } });
    expect(run.lines()).toEqual(['ok', 'fine']);
    expect(offsets.offsets.get(JSON.stringify(['c', { filename: file }]))).toMatchObject({ position: 8 });
  });

  it('delivers the lines before an over-long line polled in the same batch, then fails on it', async () => {
    const file = tempFile(`ok\nfine\n${'x'.repeat(20)}`);
    const run = new FileSourceRun(config(file, { 'line.max.bytes': 8 }));
    const summary = await run.invoke();
    expect(summary).toMatchObject({ records: 2, committed: [{ offset: { position: 8 } }] });
    expect(summary.error?.code).toBe('CONNECT_FN_FILE_LINE_TOO_LONG');
    expect(run.lines()).toEqual(['ok', 'fine']);
  });
});

describe('file source, rotations', () => {
  const text = fc.string({ unit: fc.constantFrom('a', 'é', ' '), maxLength: 4 });
  const terminator = fc.constantFrom('\n', '\r\n', '\r');
  const step = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('append' as const),
        lines: fc.array(fc.tuple(text, terminator), { minLength: 1, maxLength: 4 }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('rotate' as const) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('invoke' as const),
        maxRecords: fc.integer({ min: 1, max: 4 }),
        crash: fc.boolean(),
      }),
    },
  );
  /** The lines of a file's text; `final`: it will not grow, so a last `\r` ends its line. */
  const linesOf = (content: string, final: boolean) =>
    content.split(/\r\n|\r|\n/).slice(0, !final && content.endsWith('\r') ? -2 : -1);

  it('delivers every line of every generation once, in order, whatever the budgets and crashes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 10, maxLength: 40 }), async (steps) => {
        const file = tempFile('');
        const offsets = new MemoryOffsets();
        const contents = [''];
        const generationOf = new Map([[inodeOf(file), 0]]);
        let committedGeneration = -1;
        const delivered: unknown[] = [];
        const invokeOnce = async (maxRecords: number, crash: boolean) => {
          const records = await invoke(fileSourceConnector(quiet), config(file), offsets, {
            maxRecords,
            commit: !crash,
          });
          const last = records.at(-1);
          if (crash || last === undefined) return records.length;
          delivered.push(...records.map((r) => r.value));
          committedGeneration = generationOf.get(String(last.sourceOffset.inode)) ?? -2;
          return records.length;
        };
        for (const s of steps) {
          const current = contents.length - 1;
          if (s.kind === 'append') {
            const added = s.lines.map(([l, t]) => l + t).join('');
            appendFileSync(file, added);
            contents[current] += added;
          } else if (s.kind === 'invoke') {
            await invokeOnce(s.maxRecords, s.crash);
          } else if (committedGeneration === current) {
            // Only the committed file is followed (docs/connectors.md): rotate once per committed generation.
            renameSync(file, `${file}.${current}`);
            writeFileSync(file, '');
            contents.push('');
            generationOf.set(inodeOf(file), current + 1);
          }
        }
        while ((await invokeOnce(100, false)) > 0) {}
        const expected = contents.flatMap((c, g) => linesOf(c, g < contents.length - 1));
        expect(delivered).toEqual(expected);
      }),
      { numRuns: 80 },
    );
  }, 60_000);
});
