import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConnectFnError, EventDecodeError } from '../../../src/errors.ts';
import { decodeKafkaEvent, partialBatchResponse } from '../../../src/lambda/kafka-event.ts';
import type { FetchedRecord } from '../../../src/runtime/ports.ts';
import { bytesView, kafkaEventFrom, signedBytes } from '../../support/kafka-events.ts';

/** An AWS sample event (fixtures/README.md names the pages), parsed from its JSON text as Lambda hands it. */
function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8'));
}

const hex = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString('hex'));
const text = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString('utf8'));
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A record as the event carries it, with overrides. */
function eventRecord(topic: string, partition: number, offset: number, fields: Record<string, unknown> = {}) {
  return {
    topic,
    partition,
    offset,
    timestamp: 1_700_000_000_000 + offset,
    timestampType: 'CREATE_TIME',
    key: b64(`k${offset}`),
    value: b64(`v${offset}`),
    headers: [],
    ...fields,
  };
}

function selfManaged(records: Record<string, unknown>): Record<string, unknown> {
  return { eventSource: 'SelfManagedKafka', bootstrapServers: 'b:9092', records };
}

/** The EventDecodeError `decode` throws for `event`. */
function decodeError(event: unknown): EventDecodeError {
  try {
    decodeKafkaEvent(event);
  } catch (err) {
    expect(err).toBeInstanceOf(EventDecodeError);
    return err as EventDecodeError;
  }
  throw new Error('the event was decoded');
}

describe('decodeKafkaEvent: AWS sample events', () => {
  it("decodes AWS's documented MSK event", () => {
    const event = decodeKafkaEvent(fixture('msk-event.json'));

    expect(event.eventSource).toBe('aws:kafka');
    expect(event.eventSourceArn).toBe(
      'arn:aws:kafka:us-east-1:123456789012:cluster/vpc-2priv-2pub/751d2973-a626-431c-9d4e-d7975eb44dd7-2',
    );
    expect(event.bootstrapServers).toMatch(/^b-2\.demo-cluster-1\..*:9092,b-1\..*:9092$/);
    expect(event.partitions).toHaveLength(1);
    const [partition] = event.partitions;
    expect(partition).toMatchObject({ topic: 'mytopic', partition: 0 });
    expect(bytesView(partition!.records)).toEqual([
      {
        topic: 'mytopic',
        partition: 0,
        offset: 15,
        timestampMs: 1_545_084_650_987,
        key: '69b70310582188928b9a7a0f411b2db95597cb3d76df',
        value: Buffer.from('Hello, this is a test.').toString('hex'),
        headers: [['headerKey', Buffer.from('headerValue').toString('hex')]],
      },
    ]);
  });

  it("decodes AWS's documented self-managed Kafka event, which names no ARN", () => {
    const event = decodeKafkaEvent(fixture('self-managed-kafka-event.json'));

    expect(event.eventSource).toBe('SelfManagedKafka');
    expect(event).not.toHaveProperty('eventSourceArn');
    expect(event.bootstrapServers).toContain(
      'b-1.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092',
    );
    const [record] = event.partitions[0]!.records;
    expect(record).toMatchObject({ topic: 'mytopic', partition: 0, offset: 15 });
    expect(text(record!.value)).toBe('Hello, this is a test.');
    expect(record!.headers.map((h) => [h.key, text(h.value)])).toEqual([['headerKey', 'headerValue']]);
  });
});

describe('decodeKafkaEvent: records', () => {
  it('splits a records key on its last "-", so topics may contain "-"', () => {
    const event = decodeKafkaEvent(
      selfManaged({ 'orders-eu-west-1-12': [eventRecord('orders-eu-west-1', 12, 0)] }),
    );

    expect(event.partitions.map((p) => [p.topic, p.partition])).toEqual([['orders-eu-west-1', 12]]);
  });

  it('reads an absent or null key as null, an empty one as no bytes, and an absent or null value as a tombstone', () => {
    const { key: _, ...keyless } = eventRecord('t', 0, 0);
    const { value: __, ...valueless } = eventRecord('t', 0, 3);
    const event = decodeKafkaEvent(
      selfManaged({
        't-0': [
          keyless,
          eventRecord('t', 0, 1, { key: null, value: null }),
          eventRecord('t', 0, 2, { key: '', value: '' }),
          valueless,
        ],
      }),
    );

    expect(event.partitions[0]!.records.map((r) => [hex(r.key), hex(r.value)])).toEqual([
      [null, hex(Buffer.from('v0'))],
      [null, null],
      ['', ''],
      [hex(Buffer.from('k3')), null],
    ]);
  });

  it('decodes header values given as signed or unsigned bytes alike, keeping repeated keys in order', () => {
    const binary = new Uint8Array([0, 1, 127, 128, 195, 171, 255]);
    const event = decodeKafkaEvent(
      selfManaged({
        't-0': [
          eventRecord('t', 0, 0, {
            headers: [
              { h: signedBytes(binary) },
              { h: Array.from(binary) },
              { empty: [] },
              { absent: null },
              { ë: [-61, -85] },
            ],
          }),
        ],
      }),
    );

    expect(signedBytes(binary)).toEqual([0, 1, 127, -128, -61, -85, -1]);
    expect(event.partitions[0]!.records[0]!.headers.map((h) => [h.key, hex(h.value)])).toEqual([
      ['h', hex(binary)],
      ['h', hex(binary)],
      ['empty', ''],
      ['absent', null],
      ['ë', hex(Buffer.from('ë'))],
    ]);
  });

  it('orders partitions by topic, then partition number, whatever the order of the keys', () => {
    const event = decodeKafkaEvent(
      selfManaged({
        'b-1': [eventRecord('b', 1, 5)],
        'a-10': [eventRecord('a', 10, 0)],
        'a-b-0': [eventRecord('a-b', 0, 0)],
        'a-2': [eventRecord('a', 2, 7), eventRecord('a', 2, 9)],
      }),
    );

    expect(event.partitions.map((p) => `${p.topic}/${p.partition}`)).toEqual(['a/2', 'a/10', 'a-b/0', 'b/1']);
    expect(event.partitions[0]!.records.map((r) => r.offset)).toEqual([7, 9]);
  });

  it('decodes the event kafkaEventFrom builds back to the very records, for both sources', () => {
    const records: FetchedRecord[] = [
      {
        topic: 'in-put',
        partition: 1,
        offset: 4,
        timestampMs: 1_700_000_000_001,
        key: new Uint8Array([0, 255, 128]),
        value: null,
        headers: [{ key: 'bin', value: new Uint8Array([200, 7]) }],
      },
      {
        topic: 'in-put',
        partition: 0,
        offset: 9,
        timestampMs: 5,
        key: null,
        value: new Uint8Array(0),
        headers: [],
      },
    ];

    for (const source of ['aws:kafka', 'SelfManagedKafka'] as const) {
      const event = kafkaEventFrom(records, source);
      const decoded = decodeKafkaEvent(JSON.parse(JSON.stringify(event)));

      expect(decoded.eventSource).toBe(source);
      expect(Object.keys(event.records)).toEqual(['in-put-1', 'in-put-0']);
      expect(event.records['in-put-1']![0]).not.toHaveProperty('value');
      expect(event.records['in-put-1']![0]!.headers).toEqual([{ bin: [-56, 7] }]);
      expect(bytesView(decoded.partitions.flatMap((p) => p.records))).toEqual(
        bytesView([records[1]!, records[0]!]),
      );
    }
  });
});

describe('decodeKafkaEvent: events it refuses', () => {
  const good = () => eventRecord('orders', 0, 0);

  it.each([
    ['not an object', null, 'event: expected an object (got null)'],
    [
      'another event source',
      { eventSource: 'aws:sqs', records: {} },
      'eventSource: expected "aws:kafka" or "SelfManagedKafka" (got "aws:sqs")',
    ],
    [
      'MSK without its cluster ARN',
      { eventSource: 'aws:kafka', bootstrapServers: 'b:9092', records: {} },
      'eventSourceArn: expected a non-empty string for aws:kafka events (got nothing)',
    ],
    [
      'self-managed Kafka without bootstrap servers',
      { eventSource: 'SelfManagedKafka', bootstrapServers: '', records: {} },
      'bootstrapServers: expected a non-empty string for SelfManagedKafka events (got an empty string)',
    ],
    [
      'records as an array',
      { eventSource: 'SelfManagedKafka', bootstrapServers: 'b:9092', records: [] },
      'records: expected an object keyed "<topic>-<partition>" (got an array)',
    ],
    [
      'a key without "-"',
      selfManaged({ orders: [] }),
      'records["orders"]: expected a key "<topic>-<partition>" (got no "-")',
    ],
    [
      'a key without a topic',
      selfManaged({ '-0': [] }),
      'records["-0"]: expected a key "<topic>-<partition>" (got an empty topic)',
    ],
    [
      'a partition number with a leading zero',
      selfManaged({ 'orders-01': [] }),
      'records["orders-01"]: expected a key "<topic>-<partition>" (got no partition number after the last "-")',
    ],
    [
      'records of a partition as an object',
      selfManaged({ 'orders-0': {} }),
      'records["orders-0"]: expected an array of records (got an object)',
    ],
    [
      'a record that is a string',
      selfManaged({ 'orders-0': ['x'] }),
      'records["orders-0"][0]: expected a record object (got a string)',
    ],
    [
      'a record filed under another topic',
      selfManaged({ 'orders-0': [good(), eventRecord('payments', 0, 1)] }),
      'records["orders-0"][1].topic: expected "orders", the topic of its key (got "payments")',
    ],
    [
      'a record filed under another partition',
      selfManaged({ 'orders-0': [eventRecord('orders', 1, 0)] }),
      'records["orders-0"][0].partition: expected 0, the partition of its key (got 1)',
    ],
    [
      'a partition given as a string',
      selfManaged({ 'orders-0': [eventRecord('orders', 0, 0, { partition: '0' })] }),
      'records["orders-0"][0].partition: expected 0, the partition of its key (got a string)',
    ],
    [
      'offsets going back',
      selfManaged({ 'orders-0': [eventRecord('orders', 0, 5), eventRecord('orders', 0, 3)] }),
      'records["orders-0"][1].offset: expected an offset above 5, the one before it (got 3)',
    ],
    [
      'an offset repeated',
      selfManaged({ 'orders-0': [eventRecord('orders', 0, 5), eventRecord('orders', 0, 5)] }),
      'records["orders-0"][1].offset: expected an offset above 5, the one before it (got 5)',
    ],
    [
      'a negative offset',
      selfManaged({ 'orders-0': [eventRecord('orders', 0, -1)] }),
      'records["orders-0"][0].offset: expected an integer from 0 to 9007199254740991 (2^53 - 1) (got -1)',
    ],
    [
      'an offset of 2^53 + 1, which JSON.parse rounds to 2^53',
      JSON.parse(
        JSON.stringify(selfManaged({ 'orders-0': [eventRecord('orders', 0, 0)] })).replace(
          '"offset":0',
          '"offset":9007199254740993',
        ),
      ),
      'records["orders-0"][0].offset: expected an integer from 0 to 9007199254740991 (2^53 - 1) (got 9007199254740992, beyond the range a JavaScript number holds exactly)',
    ],
    [
      'an offset as a string',
      selfManaged({ 'orders-0': [eventRecord('orders', 0, 0, { offset: '0' })] }),
      'records["orders-0"][0].offset: expected an integer from 0 to 9007199254740991 (2^53 - 1) (got a string)',
    ],
    [
      'a fractional timestamp',
      selfManaged({ 'orders-0': [eventRecord('orders', 0, 0, { timestamp: 1.5 })] }),
      'records["orders-0"][0].timestamp: expected an integer from -1 to 9007199254740991 (2^53 - 1) (got 1.5)',
    ],
    [
      'a key that is a number',
      selfManaged({ 'orders-0': [eventRecord('orders', 0, 0, { key: 7 })] }),
      'records["orders-0"][0].key: expected base64 (got a number)',
    ],
    [
      'headers missing',
      selfManaged({ 'orders-0': [eventRecord('orders', 0, 0, { headers: undefined })] }),
      'records["orders-0"][0].headers: expected an array of headers (got nothing)',
    ],
    [
      'a header object with two keys',
      selfManaged({ 'orders-0': [eventRecord('orders', 0, 0, { headers: [{ a: [], b: [] }] })] }),
      'records["orders-0"][0].headers[0]: expected an object with one key (got 2 keys)',
    ],
    [
      'a header value in base64 (as old samples showed)',
      selfManaged({ 'orders-0': [eventRecord('orders', 0, 0, { headers: [{ h: 'aGk=' }] })] }),
      'records["orders-0"][0].headers[0].value: expected an array of bytes (got a string)',
    ],
    [
      'a header byte out of range',
      selfManaged({ 'orders-0': [eventRecord('orders', 0, 0, { headers: [{ h: [1, 256] }] })] }),
      'records["orders-0"][0].headers[0].value[1]: expected a byte, an integer from -128 to 255 (got a number outside that range)',
    ],
  ])('refuses %s, naming the place', (_, event, message) => {
    const err = decodeError(event);

    expect(err.message).toBe(message);
    expect(err.code).toBe('CONNECT_FN_EVENT');
  });

  it('names the partition, the record and the field of a value that is not base64', () => {
    const records = [0, 1, 2].map((o) => eventRecord('orders', 0, o));
    records.push(eventRecord('orders', 0, 3, { value: 42 }));

    const err = decodeError(selfManaged({ 'orders-0': records }));

    expect(err.message).toBe('records["orders-0"][3].value: expected base64 (got a number)');
  });

  it.each([
    ['a length that is not a multiple of 4', 'c2VjcmV0LXRva2Vu='],
    ['characters outside base64', 'c2Vj*mV0LXRva2Vu'],
    ['URL-safe base64', 'c2VjcmV0_XRva2Vu'],
    ['padding in the middle', 'c2Vj=mV0LXRva2Vu'],
  ])('refuses a value with %s without quoting it', (_, value) => {
    const err = decodeError(selfManaged({ 'orders-0': [eventRecord('orders', 0, 0, { value })] }));

    expect(err.message).toBe(
      'records["orders-0"][0].value: expected base64 (got a string that is not base64)',
    );
    expect(err.message).not.toContain(value.slice(0, 6));
  });

  it('refuses a fractional header byte without quoting the header', () => {
    const err = decodeError(
      selfManaged({
        'orders-0': [eventRecord('orders', 0, 0, { headers: [{ 'secret-token': [115, 1.5] }] })],
      }),
    );

    expect(err.message).toBe(
      'records["orders-0"][0].headers[0].value[1]: expected a byte, an integer from -128 to 255 (got a fraction)',
    );
    expect(err.message).not.toContain('secret');
  });

  it('is a ConnectFnError with a stable code that retrying will not fix', () => {
    const err = decodeError(undefined);

    expect(err).toBeInstanceOf(ConnectFnError);
    expect(err.name).toBe('EventDecodeError');
    expect(err.code).toBe('CONNECT_FN_EVENT');
    expect(err.retriable).toBe(false);
  });
});

describe('partialBatchResponse', () => {
  it('reports each failed partition as {partition: "<topic>-<partition>", offset: <number>}, as AWS documents', () => {
    const response = partialBatchResponse([
      { topic: 'orders-eu', partition: 3, offset: 42 },
      { topic: 'payments', partition: 0, offset: 0 },
    ]);

    expect(JSON.stringify(response)).toBe(
      '{"batchItemFailures":[{"itemIdentifier":{"partition":"orders-eu-3","offset":42}},' +
        '{"itemIdentifier":{"partition":"payments-0","offset":0}}]}',
    );
  });

  it('names partitions with the keys of the event it answers', () => {
    const event = decodeKafkaEvent(fixture('msk-event.json'));
    const [partition] = event.partitions;
    const first = partition!.records[0]!;

    const response = partialBatchResponse([first]);

    expect(Object.keys((fixture('msk-event.json') as { records: object }).records)).toContain(
      response.batchItemFailures[0]!.itemIdentifier.partition,
    );
    expect(response.batchItemFailures[0]!.itemIdentifier.offset).toBe(15);
  });

  it('reports success as an empty list of failures', () => {
    expect(partialBatchResponse([])).toEqual({ batchItemFailures: [] });
  });

  it('refuses a partition listed twice and offsets that are not non-negative integers', () => {
    expect(() =>
      partialBatchResponse([
        { topic: 't', partition: 0, offset: 1 },
        { topic: 't', partition: 0, offset: 2 },
      ]),
    ).toThrow(RangeError);
    expect(() => partialBatchResponse([{ topic: 't', partition: 0, offset: -1 }])).toThrow(RangeError);
    expect(() => partialBatchResponse([{ topic: 't', partition: 0, offset: 1.5 }])).toThrow(RangeError);
  });
});
