import { describe, expect, it } from 'vitest';
import { RecordTooLargeError } from '../../../src/errors.ts';
import { fromMessage, produceRequests, recordSizeBytes, toMessage } from '../../../src/kafka/records.ts';
import type { KafkaRecord } from '../../../src/runtime/ports.ts';

const bytes = (s: string) => new TextEncoder().encode(s);
const record = (topic: string, value: string): KafkaRecord => ({
  topic,
  key: null,
  value: bytes(value),
  headers: [],
});

describe('records for kafkajs', () => {
  it('splits a send into requests under the byte limit, keeping the order of every topic', () => {
    const records = Array.from({ length: 10 }, (_, i) => record(i % 2 ? 'a' : 'b', `v${i}`.padEnd(100, '.')));
    const limit = recordSizeBytes(records[0]!) * 3;

    const requests = produceRequests(records, limit);

    expect(requests).toHaveLength(4);
    const sent = requests.flatMap((request) =>
      request.flatMap(({ topic, messages }) =>
        messages.map((m) => `${topic}:${String(m.value).slice(0, 2)}`),
      ),
    );
    expect(sent.filter((s) => s.startsWith('a:'))).toEqual(['a:v1', 'a:v3', 'a:v5', 'a:v7', 'a:v9']);
    expect(sent.filter((s) => s.startsWith('b:'))).toEqual(['b:v0', 'b:v2', 'b:v4', 'b:v6', 'b:v8']);
  });

  it('refuses a record larger than the limit before anything is sent, naming its size and place', () => {
    const send = () => produceRequests([record('t', 'y'), record('t', 'x'.repeat(5000))], 1000);

    expect(send).toThrow(RecordTooLargeError);
    expect(send).toThrow('a record for topic t is 5024 bytes, more than max.request.size (1000 bytes)');
    expect(() => send()).toThrow(expect.objectContaining({ index: 1, sizeBytes: 5024, limitBytes: 1000 }));
  });

  it('hands kafkajs Buffers (it would stringify a plain Uint8Array), grouped headers and string timestamps', () => {
    const message = toMessage({
      topic: 't',
      partition: 2,
      key: new Uint8Array([1, 2]),
      value: bytes('v'),
      timestampMs: 1_700_000_000_000,
      headers: [
        { key: 'h', value: bytes('1') },
        { key: 'g', value: bytes('x') },
        { key: 'h', value: bytes('2') },
      ],
    });

    expect(Buffer.isBuffer(message.key)).toBe(true);
    expect(message).toMatchObject({ partition: 2, timestamp: '1700000000000' });
    expect(message.headers).toEqual({ h: [Buffer.from('1'), Buffer.from('2')], g: Buffer.from('x') });
  });

  it('reads decoded messages back with numeric offsets and timestamps and repeated headers', () => {
    const fetched = fromMessage('t', 1, {
      key: null,
      value: Buffer.from('v'),
      offset: '42',
      timestamp: '1700000000001',
      headers: { h: [Buffer.from('1'), Buffer.from('2')], n: null },
    });

    expect(fetched).toEqual({
      topic: 't',
      partition: 1,
      offset: 42,
      timestampMs: 1_700_000_000_001,
      key: null,
      value: Buffer.from('v'),
      headers: [
        { key: 'h', value: Buffer.from('1') },
        { key: 'h', value: Buffer.from('2') },
        { key: 'n', value: null },
      ],
    });
  });
});
