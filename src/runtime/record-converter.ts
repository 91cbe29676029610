/**
 * Converts a source record into the bytes written to Kafka with the connector's key, value and header
 * converters. A failure is tagged with its stage (KEY_CONVERTER, VALUE_CONVERTER, HEADER_CONVERTER) so
 * error tolerance can decide, as in Connect, and never carries the record's data.
 * @module
 */
import { ConversionError, Stage } from '../errors.ts';
import type { Converter, HeaderConverter } from '../spi/converter.ts';
import type { SourceRecord } from '../spi/records.ts';
import type { KafkaRecord } from './ports.ts';

export interface RecordConverters {
  readonly key: Converter;
  readonly value: Converter;
  readonly header: HeaderConverter;
}

function atStage<T>(stage: Stage, topic: string, convert: () => T): T {
  try {
    return convert();
  } catch (err) {
    if (err instanceof ConversionError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConversionError(`${stage} failed for a record to topic ${topic}: ${reason}`, {
      stage,
      cause: err,
    });
  }
}

/** The Kafka record for `record`; throws {@link ConversionError} tagged with the failing stage. */
export function toKafkaRecord(record: SourceRecord, converters: RecordConverters): KafkaRecord {
  const { topic } = record;
  const key = atStage(Stage.KEY_CONVERTER, topic, () =>
    converters.key.fromConnectData(topic, record.key ?? null),
  );
  const value = atStage(Stage.VALUE_CONVERTER, topic, () =>
    converters.value.fromConnectData(topic, record.value),
  );
  const headers = atStage(Stage.HEADER_CONVERTER, topic, () =>
    (record.headers ?? []).map((h) => ({
      key: h.key,
      value: converters.header.fromConnectHeader(topic, h.key, h.value),
    })),
  );
  return {
    topic,
    key,
    value,
    headers,
    ...(record.partition === undefined ? {} : { partition: record.partition }),
    ...(record.timestamp === undefined ? {} : { timestampMs: record.timestamp }),
  };
}

/** Bytes a record occupies in the budget: key, value, header keys and values. */
export function recordBytes(record: KafkaRecord): number {
  let n = (record.key?.byteLength ?? 0) + (record.value?.byteLength ?? 0);
  for (const h of record.headers) n += h.key.length + (h.value?.byteLength ?? 0);
  return n;
}
