/**
 * Kafka Connect's `JsonConverter` for schemaless values (schema-carrying values arrive with the data
 * plane).
 *
 * - `schemas.enable=false`: the message is the bare JSON payload, e.g. `{"a":1}` (see `json-writer.ts`
 *   for how each JavaScript type is written; bytes become a base64 string, as Connect writes a
 *   schemaless `byte[]`).
 * - `schemas.enable=true` (Connect's default): the envelope Connect writes for a value without a schema,
 *   `{"schema":null,"payload":{"a":1}}`. Reading requires an object with exactly `schema` and `payload`,
 *   as Connect does; an envelope whose `schema` is not null is refused until schemas are supported.
 * - `null` is written as `null` (a tombstone, no bytes) in both modes, and read back as `null`.
 *
 * Reading parses with `JSON.parse`: integers beyond 2^53 lose precision (Connect reads them as int64),
 * objects become plain objects (Connect: a `Map`). `decimal.format`, `replace.null.with.default` and
 * `schemas.cache.size` only matter for values with schemas and are accepted and unused.
 *
 * @example
 * ```ts
 * const converter = new JsonConverter({ schemasEnable: false, stage: Stage.VALUE_CONVERTER });
 * converter.fromConnectData('orders', { a: 1 }); // the bytes of '{"a":1}'
 * converter.toConnectData('orders', Buffer.from('[1,"x"]')); // [1, 'x']
 * ```
 * @module
 */
import type { Converter, HeaderConverter } from '../../spi/converter.ts';
import { type ConverterStage, conversionError, decodeUtf8, describeType, encodeUtf8 } from './conversion.ts';
import { plainJson, writeJson } from './json-writer.ts';

export interface JsonConverterOptions {
  /** Connect's `schemas.enable`: write (and expect) the `{"schema":...,"payload":...}` envelope. */
  readonly schemasEnable: boolean;
  /** What failures report: KEY_CONVERTER, VALUE_CONVERTER or HEADER_CONVERTER. */
  readonly stage: ConverterStage;
}

const ENVELOPE_HINT =
  'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields; to read plain JSON set schemas.enable=false';

export class JsonConverter implements Converter, HeaderConverter {
  readonly #schemasEnable: boolean;
  readonly #stage: ConverterStage;

  constructor(options: JsonConverterOptions) {
    this.#schemasEnable = options.schemasEnable;
    this.#stage = options.stage;
  }

  fromConnectData(topic: string, value: unknown): Uint8Array | null {
    if (value === null || value === undefined) return null;
    // The common case without a closure per record; the failure callback only on the rare slow path.
    const payload = plainJson(value) ?? writeJson(value, (why) => this.#fail(why, topic));
    return encodeUtf8(this.#schemasEnable ? `{"schema":null,"payload":${payload}}` : payload);
  }

  toConnectData(topic: string, bytes: Uint8Array | null): unknown {
    if (bytes === null) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(decodeUtf8(bytes));
    } catch (err) {
      throw conversionError(
        this.#stage,
        'JsonConverter',
        topic,
        `invalid JSON (${bytes.byteLength} bytes)`,
        err,
      );
    }
    return this.#schemasEnable ? this.#unwrap(topic, parsed) : parsed;
  }

  fromConnectHeader(topic: string, _headerKey: string, value: unknown): Uint8Array | null {
    return this.fromConnectData(topic, value);
  }

  toConnectHeader(topic: string, _headerKey: string, bytes: Uint8Array | null): unknown {
    return this.toConnectData(topic, bytes);
  }

  #fail(why: string, topic: string): never {
    throw conversionError(this.#stage, 'JsonConverter', topic, why);
  }

  #unwrap(topic: string, parsed: unknown): unknown {
    const isEnvelope =
      describeType(parsed) === 'object' &&
      Object.keys(parsed as object).length === 2 &&
      Object.hasOwn(parsed as object, 'schema') &&
      Object.hasOwn(parsed as object, 'payload');
    if (!isEnvelope) throw conversionError(this.#stage, 'JsonConverter', topic, ENVELOPE_HINT);
    const { schema, payload } = parsed as { schema: unknown; payload: unknown };
    if (schema !== null) {
      throw conversionError(
        this.#stage,
        'JsonConverter',
        topic,
        'the message carries a schema; values with schemas are not supported yet (they arrive with the data plane) — read it with schemas.enable=false to get the envelope as plain JSON',
      );
    }
    return payload;
  }
}
