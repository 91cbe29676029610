/**
 * Kafka Connect's `ByteArrayConverter`: bytes pass through unchanged, both ways (no copy).
 *
 * A value that is not a `Uint8Array` (a `Buffer` is one) is refused with a `ConversionError` naming the
 * topic and the type, as Connect refuses anything but `byte[]` and `ByteBuffer`. `null` stays `null`.
 *
 * @example
 * ```ts
 * const converter = new ByteArrayConverter(Stage.VALUE_CONVERTER);
 * converter.fromConnectData('raw', Uint8Array.of(1, 2)); // the same Uint8Array
 * converter.fromConnectData('raw', 'text'); // throws: ... got a value of type string
 * ```
 * @module
 */
import type { Converter, HeaderConverter } from '../../spi/converter.ts';
import { type ConverterStage, conversionError, describeType } from './conversion.ts';

export class ByteArrayConverter implements Converter, HeaderConverter {
  readonly #stage: ConverterStage;

  /** `stage` is what failures report: KEY_CONVERTER, VALUE_CONVERTER or HEADER_CONVERTER. */
  constructor(stage: ConverterStage) {
    this.#stage = stage;
  }

  fromConnectData(topic: string, value: unknown): Uint8Array | null {
    if (value === null || value === undefined) return null;
    if (value instanceof Uint8Array) return value;
    throw conversionError(
      this.#stage,
      'ByteArrayConverter',
      topic,
      `expected bytes (a Uint8Array or Buffer), got a value of type ${describeType(value)}`,
    );
  }

  toConnectData(_topic: string, bytes: Uint8Array | null): Uint8Array | null {
    return bytes;
  }

  fromConnectHeader(topic: string, _headerKey: string, value: unknown): Uint8Array | null {
    return this.fromConnectData(topic, value);
  }

  toConnectHeader(_topic: string, _headerKey: string, bytes: Uint8Array | null): Uint8Array | null {
    return bytes;
  }
}
