/**
 * connect-offsets records with the exact bytes Kafka Connect 3.9 writes for them (JsonConverter with
 * schemas.enable=false, Jackson 2.16) and the partition its producer picks among 25. The bytes were
 * produced by Kafka's own classes (test/java/ConnectOffsetsOracle.java); the integration tier re-checks
 * them against that oracle, the unit tier pins them.
 */
import type { SourceOffset, SourcePartition } from '../../../src/spi/records.ts';

export interface GoldenRecord {
  readonly name: string;
  readonly connector: string;
  readonly partition: SourcePartition;
  readonly offset: SourceOffset | null;
  /** The key as UTF-8 text. */
  readonly key: string;
  /** The value as UTF-8 text; null for a tombstone. */
  readonly value: string | null;
  /** `toPositive(murmur2(key)) % 25`. */
  readonly partitionOf25: number;
}

export const GOLDEN_RECORDS: readonly GoldenRecord[] = [
  {
    name: 'FileStreamSource',
    connector: 'local-file-source',
    partition: { filename: '/data/in.txt' },
    offset: { position: 1234 },
    key: '["local-file-source",{"filename":"/data/in.txt"}]',
    value: '{"position":1234}',
    partitionOf25: 11,
  },
  {
    name: 'sink partition (KIP-875 shape)',
    connector: 'orders-sink',
    partition: { kafka_topic: 'orders', kafka_partition: 0 },
    offset: { kafka_offset: 42 },
    key: '["orders-sink",{"kafka_topic":"orders","kafka_partition":0}]',
    value: '{"kafka_offset":42}',
    partitionOf25: 13,
  },
  {
    name: 'tombstone',
    connector: 'local-file-source',
    partition: { filename: '/data/gone.txt' },
    offset: null,
    key: '["local-file-source",{"filename":"/data/gone.txt"}]',
    value: null,
    partitionOf25: 11,
  },
  {
    // Jackson: upper-case hex, every surrogate escaped (no 4-byte UTF-8), '/' and U+2028 raw.
    name: 'escapes and non-ASCII',
    connector: 'ünï-cödé',
    partition: { path: 'C:\\tmp\\"q"/é/😀\u0001\u001f\t', '': '' },
    offset: { pos: 1.5, ok: true, none: null, text: 'line\nbreak\u2028' },
    key: '["ünï-cödé",{"path":"C:\\\\tmp\\\\\\"q\\"/é/\\uD83D\\uDE00\\u0001\\u001F\\t","":""}]',
    value: '{"pos":1.5,"ok":true,"none":null,"text":"line\\nbreak\u2028"}',
    partitionOf25: 6,
  },
  {
    // Integral numbers are Connect Longs; others are Doubles printed as Java's Double.toString.
    name: 'numbers',
    connector: 'numbers',
    partition: { table: 'orders', shard: -7 },
    offset: {
      neg0: -0,
      max: 9007199254740991,
      long: 2 ** 60,
      big: 1e20,
      ts: 1e7,
      small: 0.001,
      tiny: 1e-4,
      third: 1 / 3,
      min: 5e-324,
      lsn: -(2 ** 63),
    },
    key: '["numbers",{"table":"orders","shard":-7}]',
    value:
      '{"neg0":0,"max":9007199254740991,"long":1152921504606846976,"big":1.0E20,"ts":10000000,' +
      '"small":0.001,"tiny":1.0E-4,"third":0.3333333333333333,"min":4.9E-324,"lsn":-9223372036854775808}',
    partitionOf25: 15,
  },
];
