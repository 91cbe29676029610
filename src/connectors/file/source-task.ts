/**
 * The `file` source task, with Kafka Connect's FileStreamSource semantics: each line of `file` becomes a
 * record (value = the line as a string, key null) on `topic`; source partition `{"filename": <file as
 * configured>}`, offset `{"position": <byte offset just after the line>, ...}` (the file's identity after
 * `position`, see file-identity.ts). Lines end at `\n`, `\r\n` or `\r`; a last line without its
 * terminator (or ending in a `\r` that may yet be followed by `\n`) waits until it is complete, so a line
 * being written is never emitted half. Each poll returns at most min(`batch.size`, `budget.maxRecords`)
 * lines, and `[]` (idle) at the end of the file.
 *
 * Where a function has to differ from Connect's long-running task:
 * - a missing file is idle, not an error: `poll` returns `[]` and logs a warning (Connect logs and waits);
 *   the next invocation looks again;
 * - a file that is not the one the committed offset was taken in (another inode, other first bytes, or
 *   shorter than the committed position: rotated, or truncated and rewritten) is read from the start,
 *   with a warning; when it was rotated away and is still in the directory (found by inode and first
 *   bytes, rotated-file.ts), the rest of the old file is read first. Connect seeks to the old byte
 *   position in whatever file is there: it skips the new file's first lines and emits a partial line (or,
 *   for a shorter file, waits until it grows past it);
 * - a line longer than `line.max.bytes` fails the invocation with a non-retriable
 *   `CONNECT_FN_FILE_LINE_TOO_LONG` naming the file and the line's byte position, after the lines before
 *   it are delivered; Connect grows its buffer until the JVM runs out of memory;
 * - the position counts bytes. Connect counts decoded characters but seeks by bytes on restart, which
 *   agrees for ASCII files only; for other files an offset committed by Connect points before the line
 *   it meant (a migrated connector re-reads or splits a line there).
 *
 * @example
 * ```ts
 * const settings = { file: '/data/in.txt', topic: 'lines', batchSize: 2000, maxLineBytes: 1_048_576 };
 * const task = new FileSourceTask(settings, logger);
 * await task.start(context); // seeks to the committed {"position": n}
 * await task.poll({ maxRecords: 500, deadlineMs }); // up to 500 lines after n
 * await task.stop();
 * ```
 * @module
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { SourcePartition, SourceRecord } from '../../spi/records.ts';
import type { PollBudget, SourceTask, SourceTaskContext } from '../../spi/source.ts';
import type { TaskLog } from '../task-log.ts';
import {
  type CommittedFileOffset,
  checkFileIdentity,
  committedFileOffset,
  type FileIdentity,
  fileOffset,
  type ReplacedReason,
} from './file-identity.ts';
import { type Line, LineBuffer, LineTooLongError } from './line-buffer.ts';
import { findRotatedFile } from './rotated-file.ts';

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
  /** `line.max.bytes`: the longest line accepted (bytes, without its line ending). */
  readonly maxLineBytes: number;
}

/** Connect's source partition of a file. */
export function filePartition(file: string): SourcePartition {
  return { filename: file };
}

function isMissing(err: unknown): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/** What the warning says about each way a file can have been replaced. */
const REPLACED_MESSAGES: Readonly<Record<ReplacedReason, string>> = {
  'inode-changed': 'another file is at the path (rotated, or deleted and created again)',
  'head-changed':
    'its first bytes changed (truncated and rewritten in place, or a new file on a reused inode)',
  'shorter-than-position': 'it is shorter than the committed position (truncated or replaced)',
};

/** Added when the old file was found, read to its end already. */
const READ_NOTE = '; the rotated file holds nothing past the committed position';

/** Added when the old file was not found: what it held past the committed position is not read. */
const NOT_FOUND_NOTE =
  '; the old file was not found in the directory by its inode and first bytes (moved elsewhere, compressed or deleted): what it held past the committed position is not read';

/** One file being read: the file at the path, or (first) the rest of the file rotated away from it. */
interface Segment {
  readonly handle: FileHandle;
  readonly lines: LineBuffer;
  /** The identity its offsets carry. */
  readonly identity: FileIdentity;
  /** Set while reading a rotated file: where it is now, and the file at the path, read next from 0. */
  readonly rotated?: { readonly path: string; readonly next: Segment };
}

export class FileSourceTask implements SourceTask {
  readonly #settings: FileSourceSettings;
  readonly #log: TaskLog;
  readonly #partition: SourcePartition;
  #committed: CommittedFileOffset = { position: 0 };
  #segment: Segment | undefined;
  #warnedMissing = false;

  constructor(settings: FileSourceSettings, log: TaskLog) {
    this.#settings = settings;
    this.#log = log;
    this.#partition = filePartition(settings.file);
  }

  async start(context: SourceTaskContext): Promise<void> {
    const [offset] = await context.offsets([this.#partition]);
    this.#committed = committedFileOffset(offset);
  }

  async poll(budget: PollBudget): Promise<readonly SourceRecord[]> {
    let segment = this.#segment ?? (await this.#open());
    const limit = Math.min(this.#settings.batchSize, budget.maxRecords);
    const records: SourceRecord[] = [];
    // True once a rotated file is read to its end: it will not grow, so a last `\r` ends its last line.
    let final = false;
    while (segment !== undefined && records.length < limit) {
      let line: Line | undefined;
      try {
        line = segment.lines.next(final);
      } catch (err) {
        // Deliver the lines before an over-long one first; the next poll meets it again and fails.
        if (err instanceof LineTooLongError && records.length > 0) break;
        throw err;
      }
      if (line !== undefined) {
        records.push({
          sourcePartition: this.#partition,
          sourceOffset: fileOffset(line.position, segment.identity),
          topic: this.#settings.topic,
          key: null,
          value: line.text,
        });
        continue;
      }
      if (await read(segment)) {
        final = false; // a rotated file still being written to (the writer has not reopened yet)
        continue;
      }
      const rotated = segment.rotated;
      if (rotated === undefined) break;
      if (final) {
        segment = await this.#leaveRotated(segment, rotated);
        final = false;
      } else {
        final = true;
      }
    }
    return records;
  }

  async stop(): Promise<void> {
    const segment = this.#segment;
    this.#segment = undefined;
    await segment?.rotated?.next.handle.close();
    await segment?.handle.close();
  }

  /**
   * Opens the file at the committed position, or at 0 (after a warning) when it is not the file the
   * committed offset was taken in — after the rest of that file, when it was rotated away and is found;
   * undefined (after a warning) while the file does not exist.
   */
  async #open(): Promise<Segment | undefined> {
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
    const committed = this.#committed;
    const check = await checkFileIdentity(handle, committed).catch(async (err: unknown) => {
      await handle.close();
      throw err;
    });
    const reason = check.replaced;
    this.#segment = this.#segmentOf(handle, reason === undefined ? committed.position : 0, check.identity);
    if (reason === undefined) return this.#segment;
    const fields = {
      file,
      reason,
      committedPosition: committed.position,
      ...(committed.identity === undefined ? {} : { committedInode: committed.identity.inode }),
      inode: check.identity.inode,
      sizeBytes: check.sizeBytes,
    };
    if (reason !== 'inode-changed') {
      this.#log.warn(`file source: reading the file from the start: ${REPLACED_MESSAGES[reason]}`, fields);
      return this.#segment;
    }
    this.#segment = await this.#followRotation(this.#segment, fields);
    return this.#segment;
  }

  /**
   * Another file is at the path: the rest of the committed file first, when it is still in the
   * directory under another name, then `next` (the new file, from 0); says which in a warning.
   */
  async #followRotation(next: Segment, fields: Readonly<Record<string, unknown>>): Promise<Segment> {
    const committed = this.#committed;
    const rotated = await findRotatedFile(this.#settings.path ?? this.#settings.file, committed);
    const identity = committed.identity;
    if (rotated === undefined || identity === undefined || rotated.sizeBytes === committed.position) {
      await rotated?.handle.close();
      const note = rotated === undefined ? NOT_FOUND_NOTE : READ_NOTE;
      const where = rotated === undefined ? {} : { rotatedFile: rotated.path };
      const message = `file source: reading the file from the start: ${REPLACED_MESSAGES['inode-changed']}${note}`;
      this.#log.warn(message, { ...fields, ...where });
      return next;
    }
    this.#log.warn(
      'file source: another file is at the path (rotated): reading the rest of the rotated file first, then the new file from the start',
      { ...fields, rotatedFile: rotated.path, rotatedSizeBytes: rotated.sizeBytes },
    );
    const first = this.#segmentOf(rotated.handle, committed.position, identity, rotated.path);
    return { ...first, rotated: { path: rotated.path, next } };
  }

  #segmentOf(handle: FileHandle, position: number, identity: FileIdentity, path?: string): Segment {
    const { file, maxLineBytes } = this.#settings;
    return { handle, identity, lines: new LineBuffer(position, { file: path ?? file, maxLineBytes }) };
  }

  /** The rotated file is read to its end: on to the file at the path, from 0. */
  async #leaveRotated(segment: Segment, rotated: NonNullable<Segment['rotated']>): Promise<Segment> {
    const { lines } = segment;
    const unterminated = lines.readPosition - lines.position;
    if (unterminated > 0) {
      this.#log.warn(
        'file source: the rotated file ends in a line without a line ending; it is not sent (a line is sent with its line ending only)',
        {
          file: this.#settings.file,
          rotatedFile: rotated.path,
          position: lines.position,
          bytes: unterminated,
        },
      );
    }
    await segment.handle.close();
    this.#segment = rotated.next;
    return this.#segment;
  }
}

/** Reads more of the segment's file into its lines; false at the end of the file. */
async function read(segment: Segment): Promise<boolean> {
  const { lines, handle } = segment;
  const target = lines.writable();
  const { bytesRead } = await handle.read(target, 0, target.length, lines.readPosition);
  lines.commitRead(bytesRead);
  return bytesRead > 0;
}
