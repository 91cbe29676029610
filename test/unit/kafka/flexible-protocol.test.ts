/** The compact codec of Kafka's flexible versions (KIP-482) that src/kafka/flexible-protocol.ts uses. */
import { describe, expect, it } from 'vitest';
import { CompactReader, CompactWriter } from '../../../src/kafka/flexible-protocol.ts';

describe('CompactWriter / CompactReader', () => {
  it('writes unsigned varints, compact strings and arrays as Kafka does', () => {
    // Prepare: bytes as Kafka's ByteUtils.writeUnsignedVarint and COMPACT_STRING write them
    const bytes = new CompactWriter()
      .uvarint(300)
      .compactString('ab')
      .compactArray(['x'], (w, s) => w.compactString(s))
      .bool(true)
      .noTaggedFields()
      .bytes();
    // Assess
    expect([...bytes]).toEqual([0xac, 0x02, 3, 0x61, 0x62, 2, 2, 0x78, 1, 0]);
  });

  it('reads back what it wrote, skips tagged fields, and refuses truncated input', () => {
    const tagged = Buffer.from([2, 5, 1, 0xff, 7, 0]); // two tagged fields: (5, 1 byte), (7, 0 bytes)
    const body = new CompactWriter().compactString('group').int64(42n).bytes();
    const reader = new CompactReader(Buffer.concat([tagged, body, Buffer.from([0])]));
    reader.skipTaggedFields();
    expect(reader.compactString()).toBe('group');
    expect(reader.int64()).toBe(42n);
    expect(reader.compactNullableString()).toBeNull();
    expect(() => new CompactReader(Buffer.from([5, 0x61])).compactString()).toThrow(/ended too early/);
  });
});
