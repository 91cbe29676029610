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

/** Encodes a string as UTF-8; a lone surrogate becomes U+FFFD (Java's encoder writes `?`). */
export function encodeUtf8(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}
