/**
 * What every converter shares: the stage it reports failures under, how a value's type is named in an
 * error (never the value: it may hold personal data), and zero-copy views between `Uint8Array` and
 * Node's `Buffer`.
 * @module
 */
import { ConversionError, Stage } from '../../errors.ts';

/** The stages a converter runs at, as Connect names them. */
export type ConverterStage =
  | typeof Stage.KEY_CONVERTER
  | typeof Stage.VALUE_CONVERTER
  | typeof Stage.HEADER_CONVERTER;

/** The stage of a key or value converter. */
export function converterStage(isKey: boolean): ConverterStage {
  return isKey ? Stage.KEY_CONVERTER : Stage.VALUE_CONVERTER;
}

/**
 * The type of `value` as an error message names it: `string`, `number`, `bigint`, `boolean`, `undefined`,
 * `null`, `array`, `object` (a plain object), or the class name (`Uint8Array`, `Map`, `Date`, ...).
 *
 * @example
 * ```ts
 * describeType(new Map()); // 'Map'
 * describeType({ a: 1 }); // 'object'
 * ```
 */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value !== 'object') return typeof value;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === null || proto === Object.prototype) return 'object';
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? name : 'object';
}

/** The error a converter throws: `<converter> failed for topic <topic>: <why>`. */
export function conversionError(
  stage: ConverterStage,
  converter: string,
  topic: string,
  why: string,
  cause?: unknown,
): ConversionError {
  return new ConversionError(`${converter} failed for topic ${topic}: ${why}`, {
    stage,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** A `Buffer` over the same memory as `bytes` (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes UTF-8 as Java's `new String(bytes, UTF_8)` does: malformed input becomes U+FFFD, a BOM stays. */
export function decodeUtf8(bytes: Uint8Array): string {
  return asBuffer(bytes).toString('utf8');
}

/** Strings up to this many UTF-16 units are encoded into a shared slab; longer ones get their own buffer. */
const SLAB_MAX_UNITS = 16 * 1024;
/** Slab size: room for several batches' worth of small records per allocation. */
const SLAB_BYTES = 512 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabOffset = 0;

/**
 * Encodes a string as UTF-8; a lone surrogate becomes U+FFFD (Java's encoder writes `?`).
 *
 * Converters encode one string per record: a small one is written straight into a shared slab (one pass,
 * where `Buffer.from` measures the string first and then writes it; and one allocation per slab, not one
 * per few records) and returned as a view of it. The views never overlap: a slab is only ever written
 * past the last view handed out, and replaced when full; it is freed once no view of it is left.
 */
export function encodeUtf8(text: string): Uint8Array {
  if (text.length > SLAB_MAX_UNITS) return Buffer.from(text, 'utf8');
  // At most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units), so the write never truncates.
  if (slabOffset + 3 * text.length > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabOffset = 0;
  }
  const start = slabOffset;
  slabOffset += slab.write(text, start, 'utf8');
  return slab.subarray(start, slabOffset);
}
