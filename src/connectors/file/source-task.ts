/**
 * The `file` source task, with Kafka Connect's FileStreamSource semantics: each line of `file` becomes a
 * record (value = the line as a string, key null) on `topic`; source partition `{"filename": <file as
 * configured>}`, offset `{"position": <byte offset just after the line>}`. Lines end at `\n`, `\r\n` or
 * `\r`; a last line without its terminator (or ending in a `\r` that may yet be followed by `\n`) waits
 * until it is complete, so a line being written is never emitted half. Each poll returns at most
 * min(`batch.size`, `budget.maxRecords`) lines, and `[]` (idle) at the end of the file.
 *
 * Where a function has to differ from Connect's long-running task:
 * - a missing file is idle, not an error: `poll` returns `[]` and logs a warning (Connect logs and waits);
 *   the next invocation looks again;
 * - a file shorter than the committed position was truncated or replaced: the task logs a warning and
 *   reads it from the start. Connect skips past the end and emits nothing until the file grows beyond the
 *   old position, then resumes mid-file; re-reading is the choice that loses no data.
 * - the position counts bytes. Connect counts decoded characters but seeks by bytes on restart, which
 *   agrees for ASCII files only; for other files an offset committed by Connect points before the line
 *   it meant (a migrated connector re-reads or splits a line there).
 *
 * @example
 * ```ts
 * const task = new FileSourceTask({ file: '/data/in.txt', topic: 'lines', batchSize: 2000 }, logger);
 * await task.start(context); // seeks to the committed {"position": n}
 * await task.poll({ maxRecords: 500, deadlineMs }); // up to 500 lines after n
 * await task.stop();
 * ```
 * @module
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { ConversionError, Stage } from '../../errors.ts';
import type { SourceOffset, SourcePartition, SourceRecord } from '../../spi/records.ts';
import type { PollBudget, SourceTask, SourceTaskContext } from '../../spi/source.ts';
import type { TaskLog } from '../task-log.ts';
import { LineBuffer } from './line-buffer.ts';

export interface FileSourceSettings {
  /**
   * Where to read `file`, when it differs from `file` as configured (a relative `file` resolved against
   * the bundle directory). The source partition always holds `file` as configured, as Connect's does.
   */
  readonly path?: string;
  /** The file to read, exactly as configured: it names the source partition. */
  readonly file: string;
  readonly topic: string;
  readonly batchSize: number;
}

/** Connect's source partition of a file. */
export function filePartition(file: string): SourcePartition {
  return { filename: file };
}

/** The byte position stored in a committed offset (0 when none). */
export function committedPosition(offset: SourceOffset | undefined): number {
  const position = offset?.position ?? null;
  if (position === null) return 0;
  if (typeof position === 'number' && Number.isSafeInteger(position) && position >= 0) return position;
  throw new ConversionError(
    `file source: the committed offset's position must be a non-negative integer, got ${typeof position}`,
    { stage: Stage.TASK_START },
  );
}

function isMissing(err: unknown): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOENT';
}

export class FileSourceTask implements SourceTask {
  readonly #settings: FileSourceSettings;
  readonly #log: TaskLog;
  readonly #partition: SourcePartition;
  #committed = 0;
  #handle: FileHandle | undefined;
  #lines: LineBuffer | undefined;
  #warnedMissing = false;

  constructor(settings: FileSourceSettings, log: TaskLog) {
    this.#settings = settings;
    this.#log = log;
    this.#partition = filePartition(settings.file);
  }

  async start(context: SourceTaskContext): Promise<void> {
    const [offset] = await context.offsets([this.#partition]);
    this.#committed = committedPosition(offset);
  }

  async poll(budget: PollBudget): Promise<readonly SourceRecord[]> {
    const lines = this.#lines ?? (await this.#open());
    if (lines === undefined) return [];
    const limit = Math.min(this.#settings.batchSize, budget.maxRecords);
    const records: SourceRecord[] = [];
    while (records.length < limit) {
      const line = lines.next();
      if (line !== undefined) {
        records.push({
          sourcePartition: this.#partition,
          sourceOffset: { position: line.position },
          topic: this.#settings.topic,
          key: null,
          value: line.text,
        });
      } else if (!(await this.#read(lines))) {
        break;
      }
    }
    return records;
  }

  async stop(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    this.#lines = undefined;
    await handle?.close();
  }

  /** Opens the file at the committed position; undefined (after a warning) while it does not exist. */
  async #open(): Promise<LineBuffer | undefined> {
    const { file } = this.#settings;
    let handle: FileHandle;
    try {
      handle = await open(this.#settings.path ?? file, 'r');
    } catch (err) {
      if (!isMissing(err)) throw err;
      if (!this.#warnedMissing) this.#log.warn('file source: the file does not exist (yet); idle', { file });
      this.#warnedMissing = true;
      return undefined;
    }
    this.#handle = handle;
    const { size } = await handle.stat();
    let position = this.#committed;
    if (size < position) {
      this.#log.warn(
        'file source: the file is shorter than the committed position (truncated or replaced); reading it from the start',
        {
          file,
          committedPosition: position,
          sizeBytes: size,
        },
      );
      position = 0;
    }
    this.#lines = new LineBuffer(position);
    return this.#lines;
  }

  /** Reads more of the file into `lines`; false at the end of the file. */
  async #read(lines: LineBuffer): Promise<boolean> {
    const handle = this.#handle;
    if (handle === undefined) return false;
    const target = lines.writable();
    const { bytesRead } = await handle.read(target, 0, target.length, lines.readPosition);
    lines.commitRead(bytesRead);
    return bytesRead > 0;
  }
}
