/**
 * Reads a regular file, and nothing else: a FIFO, a device (`/dev/zero`), a socket or a directory is refused
 * without blocking on it, and reading stops at a size limit. The file is opened once and checked through
 * its descriptor, so it cannot be swapped between the check and the read.
 * @module
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export type RegularFileRead =
  | { readonly ok: true; readonly bytes: Buffer }
  /** `code`: the system error (`ENOENT`, `EACCES`, ...), `not-regular` or `too-large`. */
  | { readonly ok: false; readonly code: string; readonly directory?: boolean };

/** Reads `path` if it is a regular file of at most `maxBytes` bytes. Never throws for I/O errors. */
export function readRegularFile(path: string, maxBytes = Number.MAX_SAFE_INTEGER): RegularFileRead {
  let fd: number;
  try {
    // Non-blocking, so opening a FIFO with no writer returns at once instead of waiting for one.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    return { ok: false, code: (err as NodeJS.ErrnoException).code ?? 'error' };
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { ok: false, code: 'not-regular', directory: stat.isDirectory() };
    if (stat.size > maxBytes) return { ok: false, code: 'too-large' };
    // The size may change while we read: read to the end, but never past the limit.
    let buffer = Buffer.allocUnsafe(Math.min(maxBytes, stat.size) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > maxBytes) return { ok: false, code: 'too-large' };
        const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, buffer.length * 2));
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > maxBytes) return { ok: false, code: 'too-large' };
    return { ok: true, bytes: buffer.subarray(0, length) };
  } catch (err) {
    return { ok: false, code: (err as NodeJS.ErrnoException).code ?? 'error' };
  } finally {
    closeSync(fd);
  }
}
