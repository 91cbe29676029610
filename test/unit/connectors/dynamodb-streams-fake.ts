/**
 * An in-memory DynamoDB stream behind the connector's `StreamsApi` port: shards with parents, changes
 * with increasing sequence numbers, closing, trimming, paginated DescribeStream, expiring iterators, and
 * a log of every call.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import {
  type ChangePage,
  type IteratorPosition,
  type ShardInfo,
  type StreamChange,
  StreamDataTrimmedError,
  StreamIteratorExpiredError,
  type StreamPage,
  StreamShardGoneError,
  type StreamsApi,
} from '../../../src/connectors/dynamodb-streams/stream-api.ts';

interface FakeShard {
  readonly shardId: string;
  readonly parentShardId: string | undefined;
  readonly changes: StreamChange[];
  closed: boolean;
  /** Changes before this index were trimmed. */
  trimmed: number;
}

export type EventName = 'INSERT' | 'MODIFY' | 'REMOVE';

export class FakeStream {
  readonly table: string;
  readonly arn: string;
  readonly keyAttributes = ['pk', 'sk'];
  readonly calls: string[] = [];
  /** Shards per DescribeStream page. */
  pageSize = 100;
  /** The next this-many GetRecords calls fail with an expired iterator. */
  expireReads = 0;
  readonly #shards = new Map<string, FakeShard>();
  #sequence = 100_000_000_000_000_000_000n;
  #timeS = 1_700_000_000;

  constructor(table = 'orders') {
    this.table = table;
    this.arn = `arn:aws:dynamodb:us-east-1:123456789012:table/${table}/stream/2024-01-01T00:00:00.000`;
  }

  addShard(shardId: string, parentShardId?: string): this {
    this.#shards.set(shardId, { shardId, parentShardId, changes: [], closed: false, trimmed: 0 });
    return this;
  }

  /** The shard ages out of the stream. */
  remove(shardId: string): this {
    this.#shards.delete(shardId);
    return this;
  }

  close(shardId: string): this {
    this.#shard(shardId).closed = true;
    return this;
  }

  /** Trims the first `count` changes of the shard. */
  trim(shardId: string, count: number): this {
    this.#shard(shardId).trimmed = count;
    return this;
  }

  /** Appends a change for item (pk, sk); returns its sequence number. */
  put(
    shardId: string,
    eventName: EventName,
    key: { pk: string; sk: number },
    images: { newImage?: Record<string, unknown>; oldImage?: Record<string, unknown> } = {},
  ): string {
    const shard = this.#shard(shardId);
    if (shard.closed) throw new Error(`fake: shard ${shardId} is closed`);
    this.#sequence += 1n;
    this.#timeS += 1;
    const sequence = String(this.#sequence);
    shard.changes.push({
      eventName,
      dynamodb: {
        // Reversed on purpose: the connector puts the hash key first.
        Keys: marshall({ sk: key.sk, pk: key.pk }),
        ...(images.newImage === undefined ? {} : { NewImage: marshall(images.newImage) }),
        ...(images.oldImage === undefined ? {} : { OldImage: marshall(images.oldImage) }),
        SequenceNumber: sequence,
        ApproximateCreationDateTime: new Date(this.#timeS * 1000),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    } as StreamChange);
    return sequence;
  }

  /** Appends a raw change (for record-shape tests). */
  putRaw(shardId: string, change: StreamChange): void {
    this.#shard(shardId).changes.push(change);
  }

  count(call: string): number {
    return this.calls.filter((c) => c === call || c.startsWith(`${call} `)).length;
  }

  #shard(shardId: string): FakeShard {
    const shard = this.#shards.get(shardId);
    if (shard === undefined) throw new Error(`fake: no shard ${shardId}`);
    return shard;
  }

  #info(shard: FakeShard): ShardInfo {
    const first = shard.changes[0]?.dynamodb?.SequenceNumber ?? String(this.#sequence);
    const last = shard.changes.at(-1)?.dynamodb?.SequenceNumber ?? first;
    return {
      shardId: shard.shardId,
      ...(shard.parentShardId === undefined ? {} : { parentShardId: shard.parentShardId }),
      startingSequenceNumber: first,
      ...(shard.closed ? { endingSequenceNumber: last } : {}),
    };
  }

  api(): StreamsApi {
    return {
      latestStreamArn: async (table) => {
        this.calls.push(`DescribeTable ${table}`);
        return table === this.table ? this.arn : undefined;
      },
      describeStream: async (arn, exclusiveStartShardId): Promise<StreamPage> => {
        this.calls.push(`DescribeStream ${exclusiveStartShardId ?? ''}`.trim());
        if (arn !== this.arn) throw new StreamShardGoneError(`no stream ${arn}`);
        const all = [...this.#shards.values()];
        const from =
          exclusiveStartShardId === undefined
            ? 0
            : all.findIndex((s) => s.shardId === exclusiveStartShardId) + 1;
        const page = all.slice(from, from + this.pageSize);
        const more = from + this.pageSize < all.length;
        return {
          tableName: this.table,
          keyAttributes: this.keyAttributes,
          shards: page.map((s) => this.#info(s)),
          ...(more ? { lastEvaluatedShardId: page.at(-1)!.shardId } : {}),
        };
      },
      shardIterator: async (_arn, shardId, position: IteratorPosition) => {
        this.calls.push(`GetShardIterator ${shardId} ${position.type}`);
        const shard = this.#shards.get(shardId);
        if (shard === undefined) throw new StreamShardGoneError(`Shard does not exist: ${shardId}`);
        if (position.type !== 'AFTER_SEQUENCE_NUMBER') {
          return `${shardId}|${position.type === 'LATEST' ? shard.changes.length : shard.trimmed}`;
        }
        const index = shard.changes.findIndex((c) => c.dynamodb?.SequenceNumber === position.sequence);
        if (index < shard.trimmed) throw new StreamDataTrimmedError(`trimmed: ${position.sequence}`);
        return `${shardId}|${index + 1}`;
      },
      changes: async (iterator, limit): Promise<ChangePage> => {
        const [shardId = '', at = '0'] = iterator.split('|');
        this.calls.push(`GetRecords ${shardId}`);
        if (this.expireReads > 0) {
          this.expireReads--;
          throw new StreamIteratorExpiredError('Iterator expired');
        }
        const shard = this.#shard(shardId);
        const index = Number(at);
        if (index < shard.trimmed) throw new StreamDataTrimmedError('trimmed');
        const changes = shard.changes.slice(index, index + limit);
        const next = index + changes.length;
        const ended = shard.closed && next >= shard.changes.length;
        return { changes, ...(ended ? {} : { nextIterator: `${shardId}|${next}` }) };
      },
    };
  }
}
