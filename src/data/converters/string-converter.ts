/**
 * Kafka Connect's `StringConverter`: strings as UTF-8 bytes, and bytes back as strings.
 *
 * Connect writes any value with `toString()`. Here strings are written as they are, numbers, bigints and
 * booleans as their JavaScript text (`42`, `1.5`, `true`; Java writes a double 1.0 as `1.0`, JavaScript as
 * `1`), and `null` stays `null`. Objects, arrays and bytes are refused with a `ConversionError`:
 * Java's `toString()` of a map or a byte array is nothing a consumer can use; choose the `json` or
 * `bytearray` converter for those. Only UTF-8 is supported (`converter.encoding`).
 *
 * @example
 * ```ts
 * const converter = new StringConverter(Stage.VALUE_CONVERTER);
 * converter.fromConnectData('lines', 'héllo'); // bytes 68 c3 a9 6c 6c 6f
 * converter.toConnectData('lines', Buffer.from('hi')); // 'hi'
 * ```
 * @module
 */
import type { Converter, HeaderConverter } from '../../spi/converter.ts';
import { type ConverterStage, conversionError, decodeUtf8, describeType, encodeUtf8 } from './conversion.ts';

/** The text StringConverter writes for `value`, or undefined when it refuses the type. */
export function stringForm(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value);
    default:
      return undefined;
  }
}

export class StringConverter implements Converter, HeaderConverter {
  readonly #stage: ConverterStage;

  /** `stage` is what failures report: KEY_CONVERTER, VALUE_CONVERTER or HEADER_CONVERTER. */
  constructor(stage: ConverterStage) {
    this.#stage = stage;
  }

  fromConnectData(topic: string, value: unknown): Uint8Array | null {
    if (value === null || value === undefined) return null;
    const text = stringForm(value);
    if (text === undefined) {
      throw conversionError(
        this.#stage,
        'StringConverter',
        topic,
        `cannot write a value of type ${describeType(value)} (strings, numbers and booleans only; use the json or bytearray converter)`,
      );
    }
    return encodeUtf8(text);
  }

  toConnectData(_topic: string, bytes: Uint8Array | null): string | null {
    return bytes === null ? null : decodeUtf8(bytes);
  }

  fromConnectHeader(topic: string, _headerKey: string, value: unknown): Uint8Array | null {
    return this.fromConnectData(topic, value);
  }

  toConnectHeader(topic: string, _headerKey: string, bytes: Uint8Array | null): string | null {
    return this.toConnectData(topic, bytes);
  }
}
