/**
 * In-memory fakes behind the runtime's ports: a Kafka log with idempotent and transactional producers
 * (a newer producer with the same transactional id fences the older one, as InitProducerId does), and an
 * offsets store that keeps offsets either in that log (Connect's format, for exactly-once) or in a map
 * guarded by a lease (like the DynamoDB store).
 */
import { FencedError } from '../../src/errors.ts';
import type {
  Clock,
  KafkaRecord,
  OffsetRecordEncoder,
  OffsetSession,
  OffsetStore,
  RecordWriter,
  TransactionalWriter,
} from '../../src/runtime/ports.ts';
import type { OffsetEntry, SourceOffset, SourcePartition } from '../../src/spi/records.ts';

const OFFSETS_TOPIC = 'connect-offsets';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class FakeKafka {
  readonly log: KafkaRecord[] = [];
  readonly #epochs = new Map<string, number>();
  /** Called before each send, to inject failures. */
  beforeSend: (records: readonly KafkaRecord[]) => void = () => {};

  committed(topic: string): KafkaRecord[] {
    return this.log.filter((r) => r.topic === topic);
  }

  writer(): RecordWriter {
    return {
      send: async (records) => {
        this.beforeSend(records);
        this.log.push(...records);
      },
      close: async () => {},
    };
  }

  transactionalWriter(transactionalId: string): TransactionalWriter {
    let epoch: number | undefined;
    const assertCurrent = () => {
      if (epoch !== this.#epochs.get(transactionalId))
        throw new FencedError(`producer ${transactionalId} fenced`);
    };
    return {
      begin: async () => {
        if (epoch === undefined) {
          epoch = (this.#epochs.get(transactionalId) ?? 0) + 1;
          this.#epochs.set(transactionalId, epoch);
        }
        assertCurrent();
        const pending: KafkaRecord[] = [];
        return {
          send: async (records) => {
            assertCurrent();
            this.beforeSend(records);
            pending.push(...records);
          },
          commit: async () => {
            assertCurrent();
            this.log.push(...pending);
          },
          abort: async () => {
            pending.length = 0;
          },
        };
      },
      close: async () => {},
    };
  }
}

/** Offsets as Connect's connect-offsets records in the fake log, last value per key wins. */
export function kafkaOffsets(kafka: FakeKafka): OffsetStore & OffsetRecordEncoder {
  const records = (connector: string, entries: readonly OffsetEntry[]): KafkaRecord[] =>
    entries.map((e) => ({
      topic: OFFSETS_TOPIC,
      key: encoder.encode(JSON.stringify([connector, e.partition])),
      value: e.offset === null ? null : encoder.encode(JSON.stringify(e.offset)),
      headers: [],
    }));
  return {
    records,
    async open(connector): Promise<OffsetSession> {
      return {
        async read(partitions) {
          const latest = new Map<string, SourceOffset | undefined>();
          for (const r of kafka.committed(OFFSETS_TOPIC)) {
            const key = decoder.decode(r.key ?? new Uint8Array());
            latest.set(key, r.value === null ? undefined : JSON.parse(decoder.decode(r.value)));
          }
          return partitions.map((p) => latest.get(JSON.stringify([connector, p])));
        },
        async commit(entries) {
          await kafka.writer().send(records(connector, entries));
        },
        async close() {},
      };
    },
  };
}

/** Offsets in a map, each task's commits guarded by a lease the newest session takes over. */
export class LeasedOffsets implements OffsetStore {
  readonly offsets = new Map<string, SourceOffset>();
  readonly #leases = new Map<string, number>();

  async open(connector: string, taskId: number): Promise<OffsetSession> {
    const leaseKey = `${connector}#${taskId}`;
    const epoch = (this.#leases.get(leaseKey) ?? 0) + 1;
    this.#leases.set(leaseKey, epoch);
    const key = (p: SourcePartition) => JSON.stringify([connector, p]);
    return {
      read: async (partitions) => partitions.map((p) => this.offsets.get(key(p))),
      commit: async (entries) => {
        if (this.#leases.get(leaseKey) !== epoch)
          throw new FencedError(`lease of ${leaseKey} was taken over`);
        for (const e of entries) {
          if (e.offset === null) this.offsets.delete(key(e.partition));
          else this.offsets.set(key(e.partition), e.offset);
        }
      },
      close: async () => {},
    };
  }
}

/** A clock that only moves when told to, or when something sleeps. */
export class FakeClock implements Clock {
  constructor(public now = 1_700_000_000_000) {}
  nowMs(): number {
    return this.now;
  }
  async sleep(ms: number): Promise<void> {
    this.now += ms;
  }
}
