/**
 * The `file` sink task, with Kafka Connect's FileStreamSink semantics: `start` opens `file` for appending
 * (creating it), `put` appends each record's value as one line, `flush` makes what was put durable,
 * `stop` closes the file. Keys, headers, topics and offsets are not written.
 *
 * A value becomes a line as Connect's `println(record.value())` prints it, where JavaScript has the same
 * form; where it has none, the line is what a reader of the file can use:
 *
 * | value | line |
 * |---|---|
 * | string | as is (a value holding line breaks spans several lines, as in Connect) |
 * | null, undefined | `null` |
 * | number, bigint, boolean | `String(value)`: `1` where Java prints a Double as `1.0` |
 * | Uint8Array / Buffer | its bytes as they are: the text itself for UTF-8 (Connect prints `[B@1b6d3586`) |
 * | Date | ISO 8601, `2024-05-01T12:00:00.000Z` (Java prints `Wed May 01 12:00:00 UTC 2024`) |
 * | object, array, Map | compact JSON as the JsonConverter writes it (Java prints `Struct{a=1}`, `{a=1}`) |
 *
 * A value with no JSON form (a Set, a class instance) fails the put with a ConversionError (TASK_PUT).
 * A file that cannot be opened, written or synced is a `SinkTargetError`: a failure of the target, never
 * a record's, so the invocation fails whatever `errors.tolerance` says.
 *
 * Writing: a put encodes all its lines into one buffer and appends it with one `write` on a descriptor
 * opened with O_APPEND, so tasks appending to the same (local) file interleave whole puts, never parts of
 * lines. Nothing is fsynced per record: `flush` runs one fdatasync (the data and the file size) when
 * something was written since the last flush, and once more on the directory after `start` created the
 * file, so the file's name survives a crash too. A failed fdatasync poisons the task: Linux may drop the
 * failed pages, so a second fdatasync could succeed without them ever reaching the disk.
 *
 * @example
 * ```ts
 * const task = new FileSinkTask({ file: '/data/out.txt' });
 * await task.start(context); // opens (or creates) the file for appending
 * await task.put(records); // one write of one line per record
 * await task.flush(offsets); // fdatasync: the lines are durable
 * await task.stop();
 * ```
 * @module
 */
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { plainJson, writeJson } from '../../data/converters/json-writer.ts';
import { ConversionError, SinkTargetError, Stage } from '../../errors.ts';
import type { SinkRecord, SinkTask, TopicPartitionOffset } from '../../spi/sink.ts';

export interface FileSinkSettings {
  /** The file as configured. */
  readonly file: string;
  /** Where to write `file`, when it differs from `file` (a relative `file` resolved against the bundle). */
  readonly path?: string;
}

const LF = 0x0a;
const INITIAL_BYTES = 64 * 1024;
/** A put's buffer is kept for the next put up to this size; a larger one is left to the GC. */
const RETAINED_MAX_BYTES = 4 * 1024 * 1024;
/** Up to this many UTF-16 units, reserve the worst case (3 bytes per unit) rather than measure. */
const MEASURE_FROM_UNITS = 4096;

/** The lines of one put, encoded back to back into one buffer. */
class LineBatch {
  #bytes = Buffer.allocUnsafe(INITIAL_BYTES);
  #length = 0;

  get byteLength(): number {
    return this.#length;
  }

  addText(text: string): void {
    const worstCase = text.length <= MEASURE_FROM_UNITS ? 3 * text.length : Buffer.byteLength(text);
    this.#reserve(worstCase + 1);
    this.#length += this.#bytes.write(text, this.#length, 'utf8');
    this.#bytes[this.#length++] = LF;
  }

  addBytes(bytes: Uint8Array): void {
    this.#reserve(bytes.byteLength + 1);
    this.#bytes.set(bytes, this.#length);
    this.#length += bytes.byteLength;
    this.#bytes[this.#length++] = LF;
  }

  /** Appends the lines; loops only on a short write (a full disk, a write over 2 GiB). */
  async appendTo(handle: FileHandle): Promise<void> {
    let written = 0;
    while (written < this.#length) {
      const { bytesWritten } = await handle.write(this.#bytes, written, this.#length - written);
      written += bytesWritten;
    }
  }

  clear(): void {
    this.#length = 0;
    if (this.#bytes.length > RETAINED_MAX_BYTES) this.#bytes = Buffer.allocUnsafe(INITIAL_BYTES);
  }

  #reserve(bytes: number): void {
    if (this.#bytes.length - this.#length >= bytes) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.#bytes.length, this.#length + bytes));
    this.#bytes.copy(grown, 0, 0, this.#length);
    this.#bytes = grown;
  }
}

/** The line of a value that is neither a string nor bytes (see the module table). */
function valueLine(value: unknown, record: SinkRecord): string {
  switch (typeof value) {
    case 'undefined':
      return 'null';
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value);
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  return plainJson(value) ?? writeJson(value, (why) => unprintable(record, why));
}

function unprintable(record: SinkRecord, why: string): never {
  const where = `${record.topic}-${record.kafkaPartition}@${record.kafkaOffset}`;
  throw new ConversionError(`file sink: cannot write the value of ${where} as a line: ${why}`, {
    stage: Stage.TASK_PUT,
  });
}

function errnoCode(err: unknown): string | undefined {
  return err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
}

function openFailure(path: string, err: unknown): SinkTargetError {
  const code = errnoCode(err);
  const why =
    code === 'ENOENT' || code === 'ENOTDIR'
      ? `its directory ${dirname(path)} does not exist`
      : `cannot open it for appending (${code ?? String(err)})`;
  return new SinkTargetError(`file sink: cannot write to ${path}: ${why}`, {
    stage: Stage.TASK_START,
    cause: err,
  });
}

/** A write or fdatasync of the file failed (a full disk, an I/O error): the file, not a record, is at fault. */
function fileFailure(path: string, operation: string, err: unknown): SinkTargetError {
  return new SinkTargetError(`file sink: ${operation} of ${path} failed (${errnoCode(err) ?? String(err)})`, {
    stage: Stage.TASK_PUT,
    cause: err,
  });
}

/** Opens `path` for appending, creating it; `created` tells whether this call created it. */
async function openForAppend(path: string): Promise<{ handle: FileHandle; created: boolean }> {
  try {
    return { handle: await open(path, 'ax'), created: true };
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw openFailure(path, err);
  }
  try {
    return { handle: await open(path, 'a'), created: false };
  } catch (err) {
    throw openFailure(path, err);
  }
}

/** Makes the directory entry of a new file durable; a no-op where directories cannot be synced. */
async function syncDirectory(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const directory = await open(dirname(path), 'r');
  try {
    await directory.sync();
  } catch (err) {
    if (errnoCode(err) !== 'EINVAL') throw err; // a file system without directory fsync
  } finally {
    await directory.close();
  }
}

export class FileSinkTask implements SinkTask {
  readonly #path: string;
  #handle: FileHandle | undefined;
  /** The buffer of the next put; taken while a put writes it. */
  #batch: LineBatch | undefined = new LineBatch();
  /** Something was written since the last successful flush. */
  #unsynced = false;
  /** `start` created the file and its directory entry has not been synced yet. */
  #directoryUnsynced = false;
  #syncFailure: unknown;

  constructor(settings: FileSinkSettings) {
    this.#path = settings.path ?? settings.file;
  }

  async start(): Promise<void> {
    const { handle, created } = await openForAppend(this.#path);
    this.#handle = handle;
    this.#directoryUnsynced = created;
  }

  async put(records: readonly SinkRecord[]): Promise<void> {
    const handle = this.#open('put');
    if (records.length === 0) return;
    const batch = this.#batch ?? new LineBatch();
    this.#batch = undefined;
    try {
      for (const record of records) {
        const value = record.value;
        if (typeof value === 'string') batch.addText(value);
        else if (value instanceof Uint8Array) batch.addBytes(value);
        else batch.addText(value === null ? 'null' : valueLine(value, record));
      }
      this.#unsynced = true;
      await batch.appendTo(handle).catch((err: unknown) => {
        throw fileFailure(this.#path, 'a write', err);
      });
    } finally {
      batch.clear();
      this.#batch = batch;
    }
  }

  async flush(_offsets?: readonly TopicPartitionOffset[]): Promise<void> {
    if (this.#syncFailure !== undefined) {
      throw new SinkTargetError(`file sink: an earlier fdatasync of ${this.#path} failed`, {
        stage: Stage.TASK_PUT,
        cause: this.#syncFailure,
      });
    }
    if (!this.#unsynced && !this.#directoryUnsynced) return;
    const handle = this.#open('flush');
    try {
      if (this.#unsynced) {
        this.#unsynced = false; // before the sync: a put completing meanwhile sets it again
        await handle.datasync();
      }
      if (this.#directoryUnsynced) {
        await syncDirectory(this.#path);
        this.#directoryUnsynced = false;
      }
    } catch (err) {
      this.#syncFailure = err;
      throw fileFailure(this.#path, 'an fdatasync', err);
    }
  }

  async stop(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  #open(operation: string): FileHandle {
    if (this.#handle === undefined) throw new Error(`file sink: ${operation} before start or after stop`);
    return this.#handle;
  }
}
