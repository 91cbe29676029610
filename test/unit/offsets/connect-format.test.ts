/**
 * The connect-offsets codec, pinned on bytes that Kafka's own classes produced (see golden-records.ts;
 * test/integration/offsets/connect-format-oracle.test.ts compares with them live, on generated input too).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeKey,
  decodeValue,
  encodeKey,
  encodePartition,
  encodeValue,
  murmur2,
  partitionForKey,
  toPositive,
  utf8,
} from '../../../src/offsets/connect-format.ts';
import { javaDoubleToString, parseConnectJson, writeConnectJson } from '../../../src/offsets/connect-json.ts';
import { OffsetFormatError } from '../../../src/offsets/errors.ts';
import type { SourceOffset, SourcePartition } from '../../../src/spi/records.ts';
import { GOLDEN_RECORDS } from './golden-records.ts';

describe('connect-offsets records', () => {
  it.for(GOLDEN_RECORDS)('writes $name exactly as Kafka Connect does', (record) => {
    // Act
    const key = encodeKey(record.connector, record.partition);
    const value = encodeValue(record.offset);
    // Assess
    expect(key).toBe(record.key);
    expect(value).toBe(record.value);
    expect(partitionForKey(utf8(key), 25)).toBe(record.partitionOf25);
  });

  it.for(GOLDEN_RECORDS)('reads $name back', (record) => {
    const { connector, partition } = decodeKey(utf8(record.key));
    expect(connector).toBe(record.connector);
    expect(partition).toEqual(record.partition);
    const offset = decodeValue(record.value === null ? null : utf8(record.value));
    expect(offset === null ? null : encodeValue(offset)).toBe(record.value);
  });

  it('puts the FileStreamSource key in the partition Kafka picks', () => {
    const key = utf8('["local-file-source",{"filename":"/data/in.txt"}]');
    expect(murmur2(key)).toBe(-375938437);
    expect(partitionForKey(key, 25)).toBe(11);
  });

  it("matches Kafka's murmur2 on its own test vectors", () => {
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
      ['', 275646681],
    ];
    for (const [input, hash] of vectors) expect(murmur2(utf8(input)), input).toBe(hash);
  });

  it('keeps toPositive and partitions in range for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 1000 }), (bytes, n) => {
        const p = partitionForKey(bytes, n);
        return p >= 0 && p < n && toPositive(murmur2(bytes)) >= 0;
      }),
    );
    expect(toPositive(-2147483648)).toBe(0);
  });

  it('keeps the partition fields in insertion order', () => {
    expect(encodePartition({ b: 1, a: 2 })).toBe('{"b":1,"a":2}');
    expect(encodePartition({ a: 2, b: 1 })).toBe('{"a":2,"b":1}');
  });

  it('rejects offsets Connect cannot hold', () => {
    expect(() => encodeValue({ position: Number.NaN })).toThrow(OffsetFormatError);
    expect(() => encodeValue({ position: Number.POSITIVE_INFINITY })).toThrow(OffsetFormatError);
    const nested = { inner: { a: 1 } } as unknown as SourceOffset;
    expect(() => encodeValue(nested)).toThrow(/primitives or null/);
    expect(() => encodePartition([1] as unknown as SourcePartition)).toThrow(OffsetFormatError);
  });

  it('rejects stored integers a JavaScript number would round, instead of corrupting them', () => {
    expect(() => decodeValue('{"lsn":9007199254740993}')).toThrow(OffsetFormatError);
    expect(() => decodeValue('{"lsn":9223372036854775808}')).toThrow(OffsetFormatError);
    expect(decodeValue('{"lsn":1152921504606846976}')).toEqual({ lsn: 2 ** 60 });
    expect(decodeValue('{"s":"9007199254740993","f":9007199254740993.0}')).toEqual({
      s: '9007199254740993',
      f: 9007199254740992,
    });
  });

  it('reads what Java wrote for doubles and tombstones', () => {
    expect(decodeValue('{"big":1.0E20,"two":2.0,"tiny":4.9E-324}')).toEqual({
      big: 1e20,
      two: 2,
      tiny: 5e-324,
    });
    expect(decodeValue('null')).toBeNull();
    expect(decodeValue(null)).toBeNull();
  });

  it('refuses bytes that are not a connect-offsets key or value', () => {
    expect(() => decodeKey('{"a":1}')).toThrow(OffsetFormatError);
    expect(() => decodeKey('["c",{"a":[1]}]')).toThrow(OffsetFormatError);
    expect(() => decodeKey(new Uint8Array([0xff, 0xfe]))).toThrow(/UTF-8/);
    expect(() => decodeValue('[1]')).toThrow(OffsetFormatError);
    expect(() => parseConnectJson('{')).toThrow(OffsetFormatError);
  });
});

describe("Java's Double.toString", () => {
  it.for([
    [1, '1.0'],
    [100, '100.0'],
    [0.5, '0.5'],
    [-0, '-0.0'],
    [0.001, '0.001'],
    [0.000_999_999_999_999_999_8, '9.999999999999998E-4'],
    [9_999_999.999_999_998, '9999999.999999998'],
    [1e7, '1.0E7'],
    [1.5e300, '1.5E300'],
    [-1e-7, '-1.0E-7'],
    [5e-324, '4.9E-324'],
    [Number.MAX_VALUE, '1.7976931348623157E308'],
  ] as const)('prints %d as %s', ([value, text]) => {
    expect(javaDoubleToString(value)).toBe(text);
  });

  it('round-trips every finite double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        return Object.is(Number(javaDoubleToString(d)), d);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes lists, maps and escapes like Jackson', () => {
    expect(writeConnectJson(['a', { b: null, c: false }])).toBe('["a",{"b":null,"c":false}]');
    expect(writeConnectJson('\u0000\u007f\u{1f600}\ud800/')).toBe('"\\u0000\u007f\\uD83D\\uDE00\\uD800/"');
  });
});
