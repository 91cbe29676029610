/**
 * Finds the rest of a rotated file. When another file is at the path (`mv in.txt in.txt.1` and a new
 * `in.txt`), the lines written to the old file after the last invocation read it are still in that old
 * file, under its new name. The task looks for it in the same directory by the committed inode, checks
 * its first bytes against the committed fingerprint (an inode can be reused after delete and create), and
 * reads it from the committed position to its end before the new file; offsets of those lines keep the
 * old file's identity, so a crash meanwhile resumes in the old file again.
 *
 * Not found (moved to another directory, compressed, deleted): the new file is read from its start and
 * the warning says that whatever the old file held past the committed position was not read.
 *
 * @example
 * ```ts
 * const rotated = await findRotatedFile('/logs/in.txt', committed); // {path: '/logs/in.txt.1', handle, sizeBytes}
 * ```
 * @module
 */
import type { FileHandle } from 'node:fs/promises';
import { lstat, open, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type CommittedFileOffset, type FileIdentity, headMatches } from './file-identity.ts';

export interface RotatedFile {
  /** Where the old file is now. */
  readonly path: string;
  readonly handle: FileHandle;
  readonly sizeBytes: number;
}

/**
 * The committed offset's file, now under another name in the directory of `path` (at least as long as
 * the committed position), or undefined. The caller closes the handle.
 */
export async function findRotatedFile(
  path: string,
  committed: CommittedFileOffset,
): Promise<RotatedFile | undefined> {
  const identity = committed.identity;
  if (identity === undefined) return undefined;
  const dir = dirname(path);
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const candidate = join(dir, name);
    const stat = await lstat(candidate, { bigint: true }).catch(() => undefined);
    if (stat === undefined || !stat.isFile() || stat.ino.toString() !== identity.inode) continue;
    const found = await openIfSameFile(candidate, identity, committed.position);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Opens `path` when it is still the file of `identity` (inode and head), at least `position` long. */
async function openIfSameFile(
  path: string,
  identity: FileIdentity,
  position: number,
): Promise<RotatedFile | undefined> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (handle === undefined) return undefined;
  try {
    // Checked again on the open file: the name may have moved on between lstat and open.
    const stat = await handle.stat({ bigint: true });
    const sizeBytes = Number(stat.size);
    if (
      stat.ino.toString() === identity.inode &&
      sizeBytes >= position &&
      (await headMatches(handle, identity))
    ) {
      return { path, handle, sizeBytes };
    }
  } catch {
    // Unreadable: as if not found.
  }
  await handle.close();
  return undefined;
}
