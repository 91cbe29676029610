/**
 * Sink offsets in a source offsets store (Connect's REST shape), against the in-memory leased store.
 */
import { describe, expect, it, vi } from 'vitest';
import { FencedError } from '../../../src/errors.ts';
import { encodePartition, encodeValue } from '../../../src/offsets/connect-format.ts';
import { OffsetFormatError } from '../../../src/offsets/errors.ts';
import { sinkOffset, sinkOffsetsIn, sinkPartition } from '../../../src/offsets/sink-offsets.ts';
import type { OffsetStore } from '../../../src/runtime/ports.ts';
import { LeasedOffsets } from '../../support/fake-kafka.ts';

const ORDERS_0 = { topic: 'orders', partition: 0 };
const ORDERS_1 = { topic: 'orders', partition: 1 };
const PAYMENTS_0 = { topic: 'payments', partition: 0 };

describe('sinkOffsetsIn', () => {
  it("encodes a partition and an offset in Connect's REST shape, byte for byte", () => {
    expect(encodePartition(sinkPartition({ topic: 't', partition: 0 }))).toBe(
      '{"kafka_topic":"t","kafka_partition":0}',
    );
    expect(encodeValue(sinkOffset(42))).toBe('{"kafka_offset":42}');
  });

  it('stores one entry per topic partition under the connector, in that shape', async () => {
    // Prepare
    const store = new LeasedOffsets();
    const session = await sinkOffsetsIn(store).open('s3-sink', 0);
    // Act
    await session.commit([
      { ...ORDERS_0, offset: 42 },
      { ...PAYMENTS_0, offset: 0 },
    ]);
    // Assess: the fake keys entries by JSON.stringify([connector, partition]), which keeps field order
    expect(Object.fromEntries(store.offsets)).toEqual({
      '["s3-sink",{"kafka_topic":"orders","kafka_partition":0}]': { kafka_offset: 42 },
      '["s3-sink",{"kafka_topic":"payments","kafka_partition":0}]': { kafka_offset: 0 },
    });
  });

  it("reads the next offsets back in the caller's order, undefined where none was committed", async () => {
    // Prepare
    const store = new LeasedOffsets();
    const first = await sinkOffsetsIn(store).open('s3-sink', 0);
    await first.commit([
      { ...ORDERS_1, offset: 7 },
      { ...ORDERS_0, offset: 3 },
    ]);
    await first.commit([{ ...ORDERS_1, offset: 9 }]);
    await first.close();
    // Act
    const next = await sinkOffsetsIn(store).open('s3-sink', 0);
    const read = await next.read([ORDERS_0, PAYMENTS_0, ORDERS_1]);
    // Assess
    expect(read).toEqual([3, undefined, 9]);
  });

  it("keeps connectors apart: another connector's offsets are not read", async () => {
    const store = new LeasedOffsets();
    await (await sinkOffsetsIn(store).open('other', 0)).commit([{ ...ORDERS_0, offset: 5 }]);

    const read = await (await sinkOffsetsIn(store).open('s3-sink', 0)).read([ORDERS_0]);

    expect(read).toEqual([undefined]);
  });

  it('fences a zombie: its commit throws FencedError and moves no offset', async () => {
    // Prepare: an invocation that committed once, then a newer one of the same task
    const store = new LeasedOffsets();
    const sinkOffsets = sinkOffsetsIn(store);
    const zombie = await sinkOffsets.open('s3-sink', 0);
    await zombie.commit([{ ...ORDERS_0, offset: 10 }]);
    const current = await sinkOffsets.open('s3-sink', 0);
    // Act
    const zombieCommit = await zombie.commit([{ ...ORDERS_0, offset: 99 }]).catch((e: unknown) => e);
    await current.commit([{ ...ORDERS_0, offset: 20 }]);
    // Assess
    expect(zombieCommit).toBeInstanceOf(FencedError);
    expect(await current.read([ORDERS_0])).toEqual([20]);
  });

  it('checks every offset before writing any', async () => {
    const store = new LeasedOffsets();
    const session = await sinkOffsetsIn(store).open('s3-sink', 0);

    const commit = session.commit([
      { ...ORDERS_0, offset: 5 },
      { ...ORDERS_1, offset: -1 },
    ]);

    await expect(commit).rejects.toThrow(RangeError);
    await expect(session.commit([{ ...ORDERS_0, offset: 1.5 }])).rejects.toThrow(RangeError);
    expect(store.offsets.size).toBe(0);
  });

  it('refuses a stored offset of another shape with OffsetFormatError', async () => {
    // Prepare: something else wrote the partition's entry
    const store = new LeasedOffsets();
    const raw = await store.open('s3-sink', 0);
    await raw.commit([{ partition: sinkPartition(ORDERS_0), offset: { kafka_offset: '12' } }]);
    await raw.commit([{ partition: sinkPartition(ORDERS_1), offset: { position: 12 } }]);
    const session = await sinkOffsetsIn(store).open('s3-sink', 0);
    // Act + Assess
    await expect(session.read([ORDERS_0])).rejects.toBeInstanceOf(OffsetFormatError);
    await expect(session.read([ORDERS_1])).rejects.toBeInstanceOf(OffsetFormatError);
  });

  it("opens the store's session of the task and closes it", async () => {
    // Prepare
    const close = vi.fn(async () => undefined);
    const open = vi.fn(async () => ({ read: async () => [], commit: async () => undefined, close }));
    const store: OffsetStore = { open };
    // Act
    const session = await sinkOffsetsIn(store).open('s3-sink', 3);
    await session.close();
    // Assess
    expect(open).toHaveBeenCalledWith('s3-sink', 3);
    expect(close).toHaveBeenCalledTimes(1);
  });
});
