/**
 * `offset.storage=file`: offsets in one JSON file (`offset.storage.file.filename`), the default for local
 * runs. The file maps each connect-offsets key, as its exact JSON text (the same bytes as the Kafka key),
 * to the offset:
 *
 * ```json
 * {
 *   "[\"local-file-source\",{\"filename\":\"/data/in.txt\"}]": {"position":1234}
 * }
 * ```
 *
 * Every commit rewrites the whole file atomically: a temp file in the same directory is written, flushed
 * to disk and renamed over the old one, so a crash at any moment leaves either the old or the new file,
 * never a mix (a crashed writer may leave a `*.tmp` file behind, which is never read).
 *
 * There is **no lease**: this store is for local runs by one process. Sessions of one store instance are
 * serialised; two processes (or two store instances) committing to one file can lose each other's
 * updates. Use `dynamodb` or `kafka` wherever invocations may overlap.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { OffsetSession, OffsetStore } from '../runtime/ports.ts';
import type { SourceOffset } from '../spi/records.ts';
import { decodeValue } from './connect-format.ts';
import { type ConnectJson, parseConnectJson, writeConnectJson } from './connect-json.ts';
import { OffsetFormatError, OffsetStorageError } from './errors.ts';
import { type EncodedEntry, type EncodedPartition, StoredOffsetSession } from './stored-session.ts';

/** `ObjectOutputStream`'s stream magic, the first two bytes of Connect standalone's offsets file. */
const JAVA_SERIALIZATION_MAGIC = [0xac, 0xed] as const;

export interface FileOffsetStoreOptions {
  /** The offsets file (`offset.storage.file.filename`); created with its directory on the first commit. */
  readonly filename: string;
}

/**
 * The file offset store.
 *
 * @example
 * ```ts
 * const store = new FileOffsetStore({ filename: '.connect-fn/offsets.json' });
 * const session = await store.open('local-file-source', 0);
 * const [offset] = await session.read([{ filename: '/data/in.txt' }]);
 * await session.commit([{ partition: { filename: '/data/in.txt' }, offset: { position: 1234 } }]);
 * await session.close();
 * ```
 */
export class FileOffsetStore implements OffsetStore {
  readonly filename: string;
  /** Read-modify-write cycles of this instance run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: FileOffsetStoreOptions) {
    this.filename = resolve(options.filename);
  }

  async open(connector: string, taskId: number): Promise<OffsetSession> {
    return new FileOffsetSession(connector, taskId, this);
  }

  /** Every stored entry: key JSON → offset JSON, in file order. */
  async entries(): Promise<Map<string, string>> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.filename);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw new OffsetStorageError(
        `cannot read the offsets file ${this.filename}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    if (bytes[0] === JAVA_SERIALIZATION_MAGIC[0] && bytes[1] === JAVA_SERIALIZATION_MAGIC[1]) {
      // Connect standalone's offsets file: refused before any commit could rewrite it as ours.
      throw new OffsetStorageError(
        `the offsets file ${this.filename} is Kafka Connect's standalone offsets file (Java-serialised), which connect-fn cannot read; ` +
          'name a new file in offset.storage.file.filename (connect-fn writes JSON) and leave this one to Connect',
      );
    }
    return parseOffsetsFile(bytes.toString('utf8'), this.filename);
  }

  /** Applies `entries` (null deletes) in one atomic rewrite of the file. */
  update(entries: readonly EncodedEntry[]): Promise<void> {
    const run = this.queue.then(async () => {
      const stored = await this.entries();
      for (const entry of entries) {
        if (entry.valueJson === null) stored.delete(entry.keyJson);
        else stored.set(entry.keyJson, entry.valueJson);
      }
      await writeAtomically(this.filename, formatOffsetsFile(stored));
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

class FileOffsetSession extends StoredOffsetSession {
  constructor(
    connector: string,
    taskId: number,
    private readonly store: FileOffsetStore,
  ) {
    super(connector, taskId);
  }

  protected async readStored(partitions: readonly EncodedPartition[]): Promise<Map<string, SourceOffset>> {
    const stored = await this.store.entries();
    const found = new Map<string, SourceOffset>();
    for (const { keyJson } of partitions) {
      const valueJson = stored.get(keyJson);
      const offset = valueJson === undefined ? null : decodeValue(valueJson);
      if (offset !== null) found.set(keyJson, offset);
    }
    return found;
  }

  protected writeStored(entries: readonly EncodedEntry[]): Promise<void> {
    return this.store.update(entries);
  }

  async close(): Promise<void> {}
}

/** The file's text for `entries`: one entry per line, values exactly as encoded. */
export function formatOffsetsFile(entries: ReadonlyMap<string, string>): string {
  const lines = [...entries].map(([key, value]) => `  ${JSON.stringify(key)}: ${value}`);
  return lines.length === 0 ? '{}\n' : `{\n${lines.join(',\n')}\n}\n`;
}

function parseOffsetsFile(text: string, filename: string): Map<string, string> {
  let parsed: ConnectJson;
  try {
    parsed = parseConnectJson(text);
  } catch (err) {
    throw new OffsetStorageError(`the offsets file ${filename} is not valid: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new OffsetStorageError(`the offsets file ${filename} must hold a JSON object`, {
      cause: new OffsetFormatError('not an object'),
    });
  }
  const entries = new Map<string, string>();
  for (const [key, value] of Object.entries(parsed)) entries.set(key, writeConnectJson(value));
  return entries;
}

/** Writes `text` to a temp file beside `filename`, flushes it, then renames it over `filename`. */
async function writeAtomically(filename: string, text: string): Promise<void> {
  const dir = dirname(filename);
  const temp = `${filename}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, filename);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw new OffsetStorageError(`cannot write the offsets file ${filename}: ${(err as Error).message}`, {
      cause: err,
      retriable: true,
    });
  }
  await syncDirectory(dir);
}

/** Makes the rename itself durable; best effort (not every platform can open a directory). */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The rename is atomic either way; only its durability across a power loss is at stake.
  }
}
