/**
 * The bytes of a file between the last emitted line and what has been read, split into lines the way
 * Kafka Connect's FileStreamSourceTask splits them: a line ends at `\n`, `\r\n` or a lone `\r`; a `\r`
 * that is the last byte read is not a line end yet (the next byte may be its `\n`); a last line without
 * a terminator is not a line yet. Positions are byte offsets in the file.
 *
 * A line is at most `maxLineBytes` long (without its terminator): a longer one fails with
 * {@link LineTooLongError} as soon as more than that many bytes without a line end are held, so the
 * buffer never holds much more than `maxLineBytes` plus one read. (Connect's task doubles its buffer
 * without a limit until the JVM runs out of memory.)
 *
 * @example
 * ```ts
 * const lines = new LineBuffer(0, { file: 'in.txt', maxLineBytes: 1_048_576 });
 * lines.append(Buffer.from('a\r\nb\rc'));
 * lines.next(); // {text: 'a', position: 3}
 * lines.next(); // {text: 'b', position: 5}
 * lines.next(); // undefined: 'c' may continue
 * ```
 * @module
 */

import { ConnectFnError, Stage } from '../../errors.ts';

const LF = 0x0a;
const CR = 0x0d;
const INITIAL_CAPACITY = 64 * 1024;

export interface Line {
  /** The line without its terminator, decoded as UTF-8 (malformed bytes become U+FFFD, as in Connect). */
  readonly text: string;
  /** Byte offset in the file just after the line's terminator: where the next line starts. */
  readonly position: number;
}

export interface LineLimits {
  /** The file, as configured: named by {@link LineTooLongError}. */
  readonly file: string;
  /** The longest line accepted, in bytes without its terminator. */
  readonly maxLineBytes: number;
}

/**
 * A line of the file is longer than `line.max.bytes`. Not retriable: the same line fails again. Lines
 * before it are delivered; the committed position stays at the start of this line.
 */
export class LineTooLongError extends ConnectFnError {
  readonly code = 'CONNECT_FN_FILE_LINE_TOO_LONG';
  /** Byte offset in the file where the over-long line starts. */
  readonly position: number;

  constructor(limits: LineLimits, position: number) {
    super(
      `file source: the line of ${limits.file} that starts at byte ${position} is longer than ` +
        `line.max.bytes (${limits.maxLineBytes} bytes, without its line ending). Raise line.max.bytes ` +
        "(and what Kafka accepts: producer.max.request.size, the topic's max.message.bytes), or commit an " +
        'offset past the line (docs/connectors.md, file-source)',
      { stage: Stage.TASK_POLL, retriable: false },
    );
    this.position = position;
  }
}

export class LineBuffer {
  readonly #limits: LineLimits;
  #bytes = Buffer.allocUnsafe(INITIAL_CAPACITY);
  /** Unconsumed data is `#bytes[#start, #end)`; `#start` is at file offset `#position`. */
  #start = 0;
  #end = 0;
  #position: number;
  /** Bytes in `[#start, #scanned)` hold no line terminator. */
  #scanned = 0;

  constructor(position: number, limits: LineLimits) {
    this.#position = position;
    this.#limits = limits;
  }

  /** File offset of the first byte not yet returned as part of a line. */
  get position(): number {
    return this.#position;
  }

  /** File offset of the next byte to read: the position plus the bytes held. */
  get readPosition(): number {
    return this.#position + (this.#end - this.#start);
  }

  /**
   * A region to read into (at {@link readPosition}), at least `minBytes` long; pass what was read to
   * {@link commitRead}.
   */
  writable(minBytes = INITIAL_CAPACITY): Buffer {
    if (this.#start > 0) {
      this.#bytes.copyWithin(0, this.#start, this.#end);
      this.#scanned -= this.#start;
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#bytes.length - this.#end < minBytes) {
      const grown = Buffer.allocUnsafe(Math.max(this.#bytes.length * 2, this.#end + minBytes));
      this.#bytes.copy(grown, 0, 0, this.#end);
      this.#bytes = grown;
    }
    return this.#bytes.subarray(this.#end);
  }

  /** Records that `bytesRead` bytes were written at the start of the last {@link writable} region. */
  commitRead(bytesRead: number): void {
    this.#end += bytesRead;
  }

  /** Copies `data` in, as if read from the file. */
  append(data: Uint8Array): void {
    this.writable(data.byteLength).set(data);
    this.commitRead(data.byteLength);
  }

  /**
   * The next complete line, or undefined until more bytes arrive; throws {@link LineTooLongError} once
   * the next line is known to be longer than the limit (ended or not). `final`: every byte of the file is
   * held and no more will come (a rotated file), so a last `\r` ends its line.
   */
  next(final = false): Line | undefined {
    const bytes = this.#bytes;
    const end = this.#end;
    // Scanning stops at the limit: a line end further on cannot make the line short enough.
    const scanEnd = Math.min(end, this.#start + this.#limits.maxLineBytes + 1);
    for (let i = Math.max(this.#scanned, this.#start); i < scanEnd; i++) {
      const b = bytes[i];
      if (b !== LF && b !== CR) continue;
      let after = i + 1;
      if (b === CR) {
        if (after === end && !final) {
          this.#scanned = i;
          return undefined;
        }
        if (after < end && bytes[after] === LF) after++;
      }
      const text = bytes.toString('utf8', this.#start, i);
      this.#position += after - this.#start;
      this.#start = after;
      this.#scanned = after;
      return { text, position: this.#position };
    }
    this.#scanned = scanEnd;
    if (scanEnd - this.#start > this.#limits.maxLineBytes)
      throw new LineTooLongError(this.#limits, this.#position);
    return undefined;
  }
}
