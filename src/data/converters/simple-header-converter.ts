/**
 * Kafka Connect's `SimpleHeaderConverter`, for the values headers usually hold: each header value as
 * UTF-8 text, parsed back into a primitive where the text looks like one.
 *
 * Writing: `null` → no bytes; a string as it is; a number, bigint or boolean as its text (`42`, `1.5`,
 * `true`); bytes as base64 (as Connect's `Values` writes `byte[]`). Arrays and objects are refused with a
 * `ConversionError` for now (Connect writes them in its own `Values` syntax; that arrives with the data
 * plane).
 *
 * Reading, like Connect's `Values.parseString` for the primitives: no bytes → `null`; `null` → `null`;
 * `true` / `false` → booleans; an integer → a number (a bigint beyond 2^53); a decimal → a number;
 * anything else, arrays, maps and dates included, stays the string.
 *
 * @example
 * ```ts
 * const headers = new SimpleHeaderConverter();
 * headers.fromConnectHeader('t', 'attempt', 3); // the bytes of '3'
 * headers.toConnectHeader('t', 'attempt', Buffer.from('3')); // 3
 * ```
 * @module
 */
import { Stage } from '../../errors.ts';
import type { HeaderConverter } from '../../spi/converter.ts';
import { asBuffer, conversionError, decodeUtf8, describeType, encodeUtf8 } from './conversion.ts';
import { stringForm } from './string-converter.ts';

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/** A header's text parsed as Connect parses the primitives; other text is returned as it is. */
export function parseHeaderText(text: string): unknown {
  if (text === 'null') return null;
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (INTEGER.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  }
  if (DECIMAL.test(text)) {
    const n = Number(text);
    if (Number.isFinite(n)) return n;
  }
  return text;
}

export class SimpleHeaderConverter implements HeaderConverter {
  fromConnectHeader(topic: string, headerKey: string, value: unknown): Uint8Array | null {
    if (value === null || value === undefined) return null;
    if (value instanceof Uint8Array) return encodeUtf8(asBuffer(value).toString('base64'));
    const text = stringForm(value);
    if (text === undefined) {
      throw conversionError(
        Stage.HEADER_CONVERTER,
        'SimpleHeaderConverter',
        topic,
        `cannot write header ${headerKey} of type ${describeType(value)} (strings, numbers, booleans and bytes only)`,
      );
    }
    return encodeUtf8(text);
  }

  toConnectHeader(_topic: string, _headerKey: string, bytes: Uint8Array | null): unknown {
    if (bytes === null) return null;
    if (bytes.byteLength === 0) return '';
    return parseHeaderText(decodeUtf8(bytes));
  }
}
