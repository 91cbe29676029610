/**
 * The bytes of a file between the last emitted line and what has been read, split into lines the way
 * Kafka Connect's FileStreamSourceTask splits them: a line ends at `\n`, `\r\n` or a lone `\r`; a `\r`
 * that is the last byte read is not a line end yet (the next byte may be its `\n`); a last line without
 * a terminator is not a line yet. Positions are byte offsets in the file.
 *
 * @example
 * ```ts
 * const lines = new LineBuffer(0);
 * lines.append(Buffer.from('a\r\nb\rc'));
 * lines.next(); // {text: 'a', position: 3}
 * lines.next(); // {text: 'b', position: 5}
 * lines.next(); // undefined: 'c' may continue
 * ```
 * @module
 */

const LF = 0x0a;
const CR = 0x0d;
const INITIAL_CAPACITY = 64 * 1024;

export interface Line {
  /** The line without its terminator, decoded as UTF-8 (malformed bytes become U+FFFD, as in Connect). */
  readonly text: string;
  /** Byte offset in the file just after the line's terminator: where the next line starts. */
  readonly position: number;
}

export class LineBuffer {
  #bytes = Buffer.allocUnsafe(INITIAL_CAPACITY);
  /** Unconsumed data is `#bytes[#start, #end)`; `#start` is at file offset `#position`. */
  #start = 0;
  #end = 0;
  #position: number;
  /** Bytes in `[#start, #scanned)` hold no line terminator. */
  #scanned = 0;

  constructor(position: number) {
    this.#position = position;
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

  /** The next complete line, or undefined until more bytes arrive. */
  next(): Line | undefined {
    const bytes = this.#bytes;
    const end = this.#end;
    for (let i = Math.max(this.#scanned, this.#start); i < end; i++) {
      const b = bytes[i];
      if (b !== LF && b !== CR) continue;
      let after = i + 1;
      if (b === CR) {
        if (after === end) {
          this.#scanned = i;
          return undefined;
        }
        if (bytes[after] === LF) after++;
      }
      const text = bytes.toString('utf8', this.#start, i);
      this.#position += after - this.#start;
      this.#start = after;
      this.#scanned = after;
      return { text, position: this.#position };
    }
    this.#scanned = end;
    return undefined;
  }
}
