/**
 * In-memory fakes for sink tests: topics with partitions (a group-less reader and a topic catalog over
 * them), a sink offsets store that fences older sessions of a task like the real ones, and a sink task
 * that records what it is given.
 */
import { FencedError } from '../../src/errors.ts';
import { OffsetOutOfRangeError, TopicMissingError } from '../../src/kafka/errors.ts';
import type {
  FetchedRecord,
  PartitionRead,
  PositionedBatch,
  SinkOffsetSession,
  SinkOffsetStore,
  TopicCatalog,
} from '../../src/runtime/ports.ts';
import type { SinkPartitionReader } from '../../src/runtime/sink-cycle.ts';
import type {
  SinkRecord,
  SinkTask,
  SinkTaskContext,
  TopicPartition,
  TopicPartitionOffset,
} from '../../src/spi/sink.ts';

const encoder = new TextEncoder();

/** Topics of JSON-valued records; offsets below `logStart` are deleted (as by retention). */
export class FakeTopics implements SinkPartitionReader, TopicCatalog {
  /** Per partition, by offset: a record, or null for a transaction marker (a control record). */
  readonly #logs = new Map<string, (FetchedRecord | null)[][]>();
  readonly #logStart = new Map<string, number>();
  /** Records returned by one fetch. */
  fetchSize = 3;
  /** Every read request, in order. */
  readonly reads: PartitionRead[] = [];

  /** Creates `topic` with `partitions` empty partitions. */
  create(topic: string, partitions: number): this {
    this.#logs.set(
      topic,
      Array.from({ length: partitions }, () => []),
    );
    return this;
  }

  /** Appends records with JSON values `values` to `topic`-`partition`; returns their offsets. */
  append(topic: string, partition: number, values: readonly unknown[]): number[] {
    const log = this.#partition(topic, partition);
    return values.map((value) => {
      const offset = log.length;
      log.push({
        topic,
        partition,
        offset,
        timestampMs: 1_700_000_000_000 + offset,
        key: encoder.encode(JSON.stringify(`k${offset}`)),
        value: value === null ? null : encoder.encode(JSON.stringify(value)),
        headers: [],
      });
      return offset;
    });
  }

  /** Appends a transaction marker (a control record: it takes an offset, but no one reads it). */
  marker(topic: string, partition: number): void {
    this.#partition(topic, partition).push(null);
  }

  /** Deletes the records before `offset` of `topic`-`partition`. */
  truncate(topic: string, partition: number, offset: number): void {
    this.#logStart.set(`${topic}-${partition}`, offset);
  }

  async topics(): Promise<readonly string[]> {
    return [...this.#logs.keys()];
  }

  async partitionCount(topic: string): Promise<number> {
    const log = this.#logs.get(topic);
    if (log === undefined) throw new TopicMissingError(topic, `topic ${topic} does not exist`);
    return log.length;
  }

  async endOffsets(topic: string, partitions: readonly number[]): Promise<ReadonlyMap<number, number>> {
    return new Map(partitions.map((p) => [p, this.#partition(topic, p).length]));
  }

  async startOffsets(topic: string, partitions: readonly number[]): Promise<ReadonlyMap<number, number>> {
    return new Map(partitions.map((p) => [p, this.#logStart.get(`${topic}-${p}`) ?? 0]));
  }

  async *read(request: PartitionRead): AsyncIterable<readonly FetchedRecord[]> {
    for await (const batch of this.readPositioned(request)) {
      if (batch.records.length > 0) yield batch.records;
    }
  }

  async *readPositioned(request: PartitionRead): AsyncIterable<PositionedBatch> {
    this.reads.push(request);
    const log = this.#partition(request.topic, request.partition);
    const start = this.#logStart.get(`${request.topic}-${request.partition}`) ?? 0;
    const end = Math.min(request.untilOffset ?? log.length, log.length);
    if (request.fromOffset < start || request.fromOffset > log.length) {
      const at = { topic: request.topic, partition: request.partition, offset: request.fromOffset };
      throw new OffsetOutOfRangeError(at, { startOffset: start, endOffset: log.length });
    }
    for (let offset = request.fromOffset; offset < end; offset += this.fetchSize) {
      const nextOffset = Math.min(end, offset + this.fetchSize);
      const records = log.slice(offset, nextOffset).filter((r): r is FetchedRecord => r !== null);
      yield { records, nextOffset };
    }
  }

  #partition(topic: string, partition: number): (FetchedRecord | null)[] {
    const log = this.#logs.get(topic)?.[partition];
    if (log === undefined) throw new Error(`no partition ${topic}-${partition}`);
    return log;
  }
}

/** Sink offsets of tasks; opening a session fences the task's older sessions, as the real stores do. */
export class FakeSinkOffsets implements SinkOffsetStore {
  readonly offsets = new Map<string, number>();
  readonly #epochs = new Map<string, number>();
  /** Every successful commit, in order. */
  readonly commits: TopicPartitionOffset[][] = [];
  /** Called at the start of each commit (to block it, or fail it). */
  beforeCommit: (offsets: readonly TopicPartitionOffset[]) => Promise<void> | void = () => {};

  set(tp: TopicPartition, offset: number): void {
    this.offsets.set(`${tp.topic}-${tp.partition}`, offset);
  }

  async open(connector: string, taskId: number): Promise<SinkOffsetSession> {
    const id = `${connector}/${taskId}`;
    const epoch = (this.#epochs.get(id) ?? 0) + 1;
    this.#epochs.set(id, epoch);
    const current = () => {
      if (this.#epochs.get(id) !== epoch) throw new FencedError(`${id} was fenced by a newer session`);
    };
    return {
      read: async (partitions) => partitions.map((tp) => this.offsets.get(`${tp.topic}-${tp.partition}`)),
      commit: async (offsets) => {
        await this.beforeCommit(offsets);
        current();
        for (const o of offsets) this.set(o, o.offset);
        this.commits.push([...offsets]);
      },
      close: async () => {},
    };
  }
}

/** A sink task that keeps what it is put; `flushed` holds what was put before each flush. */
export class RecordingSinkTask implements SinkTask {
  readonly put: SinkTask['put'];
  readonly records: SinkRecord[] = [];
  readonly flushes: TopicPartitionOffset[][] = [];
  context: SinkTaskContext | undefined;
  stopped = false;
  /** Called at the start of each put (to fail it). */
  beforePut: (records: readonly SinkRecord[]) => void = () => {};

  constructor() {
    this.put = async (records) => {
      this.beforePut(records);
      this.records.push(...records);
    };
  }

  async start(context: SinkTaskContext): Promise<void> {
    this.context = context;
  }

  async flush(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    this.flushes.push([...offsets]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  /** `topic-partition@offset` of each record put, in order. */
  coordinates(): string[] {
    return this.records.map((r) => `${r.topic}-${r.kafkaPartition}@${r.kafkaOffset}`);
  }
}
