/**
 * Which file a committed offset of the `file` source belongs to, so a file replaced at the same path
 * (rotated: `mv in.txt in.txt.1` and a new `in.txt`; or truncated and rewritten in place) is read from its
 * start instead of from a byte position that meant something only in the old file.
 *
 * The offset keeps Connect's `{"position": N}` first and adds the file's identity after it:
 * `{"position":17,"inode":"1234","head_bytes":17,"head_sha256":"<hex>"}`: the inode (a decimal string:
 * inode numbers are 64-bit, EFS's among them, beyond a JSON number's exact range), and a fingerprint, the
 * SHA-256 of the file's first `head_bytes` bytes (up to {@link HEAD_MAX_BYTES}). Connect's
 * FileStreamSourceTask reads only `position` from an offset and ignores other fields, so Connect resumes
 * from an offset connect-fn wrote; an offset Connect wrote (position only) is honoured as before.
 *
 * The rule: the file at the path is a new file, read from 0, when
 * 1. the committed inode differs from the file's (rotation by rename, delete and create); or
 * 2. the file is shorter than the committed position (the only rule an offset without identity allows); or
 * 3. the file's first `head_bytes` bytes no longer hash to `head_sha256` (truncated and rewritten in
 *    place: same inode; or a new file that was given a reused inode); a head fingerprinted while the
 *    file was shorter than {@link HEAD_MAX_BYTES} is compared on the bytes it covered, so a file that only
 *    grew still matches.
 *
 * The device number is not compared: a network file system's (EFS, NFS) is assigned per mount, so it
 * changes between Lambda execution environments for the same file; comparing it would re-read the whole
 * file on every new sandbox. A file at the path on another device has its own inode and head anyway.
 *
 * @example
 * ```ts
 * const committed = committedFileOffset({ position: 9, inode: '12', head_bytes: 9, head_sha256: '…' });
 * const check = await checkFileIdentity(handle, committed); // {identity, sizeBytes, replaced?: 'inode-changed'}
 * ```
 * @module
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { ConversionError, Stage } from '../../errors.ts';
import type { SourceOffset } from '../../spi/records.ts';

/**
 * Bytes of the file's start that the fingerprint covers at most: Filebeat's default fingerprint length,
 * enough to hold a log line's timestamp or more than a CSV header.
 */
export const HEAD_MAX_BYTES = 1024;

/**
 * The SHA-256 of no bytes: the head of an empty file. A literal, not `createHash(...)` at module load:
 * the first hash initialises OpenSSL's digests (~3 ms), which a function's init then paid before its
 * first invocation needed a hash (a unit test checks the literal).
 */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** The identity of the file an offset belongs to, as stored after `position`. */
export interface FileIdentity {
  /** The inode number, as a decimal string. */
  readonly inode: string;
  /** How many bytes of the file's start `headSha256` covers: min(HEAD_MAX_BYTES, size when hashed). */
  readonly headBytes: number;
  /** Lower-case hex SHA-256 of the file's first `headBytes` bytes. */
  readonly headSha256: string;
}

/** A committed offset, read: the position and, when the offset was written by connect-fn, the identity. */
export interface CommittedFileOffset {
  readonly position: number;
  readonly identity?: FileIdentity;
}

/** Why the file at the path is not the file of the committed offset. */
export type ReplacedReason = 'inode-changed' | 'head-changed' | 'shorter-than-position';

export interface IdentityCheck {
  /** The file now at the path. */
  readonly identity: FileIdentity;
  /** Set when it is a new file: read it from 0. */
  readonly replaced?: ReplacedReason;
}

/** The offset of a line at `position` in the file `identity`, `position` first (Connect's field). */
export function fileOffset(position: number, identity: FileIdentity): SourceOffset {
  return {
    position,
    inode: identity.inode,
    head_bytes: identity.headBytes,
    head_sha256: identity.headSha256,
  };
}

function invalid(field: string, expected: string, value: unknown): ConversionError {
  return new ConversionError(
    `file source: the committed offset's ${field} must be ${expected}, got ${typeof value}`,
    { stage: Stage.TASK_START },
  );
}

/** The byte position stored in a committed offset (0 when none). */
export function committedPosition(offset: SourceOffset | undefined): number {
  const position = offset?.position ?? null;
  if (position === null) return 0;
  if (typeof position === 'number' && Number.isSafeInteger(position) && position >= 0) return position;
  throw invalid('position', 'a non-negative integer', position);
}

/**
 * Reads a committed offset: `{"position": N}` alone (Connect's, or connect-fn's before it kept the
 * identity) has no identity; with any identity field, all three must be there and well-formed.
 */
export function committedFileOffset(offset: SourceOffset | undefined): CommittedFileOffset {
  const position = committedPosition(offset);
  if (offset === undefined) return { position };
  const { inode, head_bytes: headBytes, head_sha256: headSha256 } = offset;
  if (inode === undefined && headBytes === undefined && headSha256 === undefined) return { position };
  if (typeof inode !== 'string' || !/^\d+$/.test(inode)) throw invalid('inode', 'a decimal string', inode);
  if (typeof headBytes !== 'number' || !Number.isSafeInteger(headBytes) || headBytes < 0) {
    throw invalid('head_bytes', 'a non-negative integer', headBytes);
  }
  if (typeof headSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(headSha256)) {
    throw invalid('head_sha256', '64 lower-case hex digits', headSha256);
  }
  return { position, identity: { inode, headBytes, headSha256 } };
}

/** SHA-256 (hex) of the file's first `length` bytes; undefined when the file holds fewer. */
async function headSha256(handle: FileHandle, length: number): Promise<string | undefined> {
  const bytes = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(bytes, filled, length - filled, filled);
    if (bytesRead === 0) return undefined;
    filled += bytesRead;
  }
  return createHash('sha256').update(bytes).digest('hex');
}

/** Whether the open file's first `identity.headBytes` bytes hash to `identity.headSha256`. */
export async function headMatches(handle: FileHandle, identity: FileIdentity): Promise<boolean> {
  return (await headSha256(handle, identity.headBytes)) === identity.headSha256;
}

/** Why the open file is not the committed offset's file, or undefined when it is the same file. */
async function replacedReason(
  handle: FileHandle,
  committed: CommittedFileOffset,
  inode: string,
  sizeBytes: number,
): Promise<ReplacedReason | undefined> {
  const previous = committed.identity;
  if (previous !== undefined && previous.inode !== inode) return 'inode-changed';
  if (sizeBytes < committed.position) return 'shorter-than-position';
  if (previous !== undefined && !(await headMatches(handle, previous))) return 'head-changed';
  return undefined;
}

/**
 * Compares the open file with the committed offset's file, and fingerprints it for the offsets to come
 * (one read of at most {@link HEAD_MAX_BYTES}, two when a short head has grown since).
 */
export async function checkFileIdentity(
  handle: FileHandle,
  committed: CommittedFileOffset,
): Promise<IdentityCheck & { readonly sizeBytes: number }> {
  const stat = await handle.stat({ bigint: true });
  const inode = stat.ino.toString();
  const sizeBytes = Number(stat.size);
  const replaced = await replacedReason(handle, committed, inode, sizeBytes);
  const headBytes = Math.min(HEAD_MAX_BYTES, sizeBytes);
  const previous = committed.identity;
  const reused = replaced === undefined && previous !== undefined && previous.headBytes === headBytes;
  const sha = reused ? previous.headSha256 : await headSha256(handle, headBytes);
  // The file shrank between stat and read (being truncated right now): fingerprint what is left of it
  // next time; this time an empty head, which any file matches, so nothing is re-read for it.
  const identity = { inode, headBytes: sha === undefined ? 0 : headBytes, headSha256: sha ?? EMPTY_SHA256 };
  return replaced === undefined ? { identity, sizeBytes } : { identity, replaced, sizeBytes };
}
