/**
 * Converters (Kafka Connect's `Converter` and `HeaderConverter`): between a connector's values and the
 * bytes in Kafka. `null` stays `null` both ways (a tombstone value, an absent key).
 *
 * Values are plain JavaScript values for now (strings, numbers, booleans, null, arrays, plain objects,
 * `Uint8Array` for bytes); schema-carrying values arrive with the data plane.
 * @module
 */

export interface Converter {
  /** Serialises `value` for `topic` (Connect's `fromConnectData`). Throws on a value it cannot write. */
  fromConnectData(topic: string, value: unknown): Uint8Array | null;
  /** Deserialises bytes read from `topic` (Connect's `toConnectData`). Throws on bytes it cannot read. */
  toConnectData(topic: string, bytes: Uint8Array | null): unknown;
}

export interface HeaderConverter {
  fromConnectHeader(topic: string, headerKey: string, value: unknown): Uint8Array | null;
  toConnectHeader(topic: string, headerKey: string, bytes: Uint8Array | null): unknown;
}
