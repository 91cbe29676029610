/**
 * Converts a source record into the bytes written to Kafka with the connector's key, value and header
 * converters. A failure is tagged with its stage (KEY_CONVERTER, VALUE_CONVERTER, HEADER_CONVERTER) so
 * error tolerance can decide, as in Connect, and never carries the record's data.
 * @module
 */
import { ConversionError, Stage } from '../errors.ts';
import type { Converter, HeaderConverter } from '../spi/converter.ts';
import type { SourceRecord } from '../spi/records.ts';
import type { KafkaHeader, KafkaRecord } from './ports.ts';

export interface RecordConverters {
  readonly key: Converter;
  readonly value: Converter;
  readonly header: HeaderConverter;
}

/** The error for a failure at `stage`: a {@link ConversionError} as it is, anything else wrapped into one. */
function stageFailure(stage: Stage, topic: string, err: unknown): ConversionError {
  if (err instanceof ConversionError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new ConversionError(`${stage} failed for a record to topic ${topic}: ${reason}`, {
    stage,
    cause: err,
  });
}

/** The headers of a record without any: shared, never written to. */
const NO_HEADERS: readonly KafkaHeader[] = Object.freeze([]);

/** A Kafka record under construction (the optional fields are set only when the source record has them). */
type MutableKafkaRecord = { -readonly [K in keyof KafkaRecord]: KafkaRecord[K] };

/** The Kafka record for `record`; throws {@link ConversionError} tagged with the failing stage. */
export function toKafkaRecord(record: SourceRecord, converters: RecordConverters): KafkaRecord {
  const { topic } = record;
  // One try per record rather than a closure per stage: this runs for every record of every batch.
  let stage: Stage = Stage.KEY_CONVERTER;
  try {
    const key = converters.key.fromConnectData(topic, record.key ?? null);
    stage = Stage.VALUE_CONVERTER;
    const value = converters.value.fromConnectData(topic, record.value);
    stage = Stage.HEADER_CONVERTER;
    const sourceHeaders = record.headers;
    let headers = NO_HEADERS;
    if (sourceHeaders !== undefined && sourceHeaders.length > 0) {
      headers = sourceHeaders.map((h) => ({
        key: h.key,
        value: converters.header.fromConnectHeader(topic, h.key, h.value),
      }));
    }
    const out: MutableKafkaRecord = { topic, key, value, headers };
    if (record.partition !== undefined) out.partition = record.partition;
    if (record.timestamp !== undefined) out.timestampMs = record.timestamp;
    return out;
  } catch (err) {
    throw stageFailure(stage, topic, err);
  }
}

/** Bytes a record occupies in the budget: key, value, header keys and values. */
export function recordBytes(record: KafkaRecord): number {
  let n = (record.key?.byteLength ?? 0) + (record.value?.byteLength ?? 0);
  for (const h of record.headers) n += h.key.length + (h.value?.byteLength ?? 0);
  return n;
}
