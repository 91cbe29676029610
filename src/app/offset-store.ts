/**
 * Chooses and builds the offsets store a bundle asks for (`offset.storage`), once per cold start, among the
 * stores the function was composed with (./offset-stores/: each imports only its own storage's clients).
 * @module
 */
import type { Bundle } from '../config/bundle.ts';
import type { ConnectorConfig } from '../config/connector-config.ts';
import { ConfigInvalidError } from '../errors.ts';
import type { KafkaClients } from '../kafka/index.ts';
import { sinkOffsetsIn } from '../offsets/sink-offsets.ts';
import type { OffsetRecordEncoder, OffsetStore, SinkOffsetStore } from '../runtime/ports.ts';

export interface OffsetStoreChoice {
  readonly store: OffsetStore;
  /** Present for the Kafka store: its offset records can join a data transaction (exactly-once). */
  readonly encoder?: OffsetRecordEncoder;
  /** Closes the clients the store uses (for local runs; a Lambda keeps them for the next invocation). */
  close(): Promise<void>;
}

export interface OffsetStoreOptions {
  /** Local runs: create the DynamoDB offsets table when missing (in the cloud the infrastructure does). */
  readonly createTable?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The connector (a source) that keeps offsets in the store: with `kafka`, a missing offsets topic is not
   * created when it has run before (src/offsets/prior-runs.ts). Without it the topic is always created.
   */
  readonly connector?: string;
}

/** How a store of one `offset.storage` is opened (./offset-stores/). */
export type OpenOffsetStore = (
  bundle: Bundle,
  kafka: KafkaClients,
  options: OffsetStoreOptions,
) => Promise<OffsetStoreChoice>;

/** The stores a function can open, by `offset.storage` (a packaged function: the one its bundle uses). */
export type OffsetStores = Readonly<Partial<Record<'kafka' | 'dynamodb' | 'file', OpenOffsetStore>>>;

/**
 * The store of `bundle.worker`'s `offset.storage`, opened by its entry in `stores`. The Kafka store creates
 * its compacted topic if missing.
 */
export async function openOffsetStore(
  bundle: Bundle,
  kafka: KafkaClients,
  stores: OffsetStores,
  options: OffsetStoreOptions = {},
): Promise<OffsetStoreChoice> {
  const storage = bundle.worker.values['offset.storage'];
  const open = stores[storage];
  if (open === undefined) {
    throw new ConfigInvalidError([
      {
        file: bundle.worker.file,
        key: 'offset.storage',
        expected: `a storage this function was built with (${Object.keys(stores).join(', ')}): package the bundle again`,
        got: storage,
      },
    ]);
  }
  return open(bundle, kafka, options);
}

export interface SinkOffsetStoreChoice {
  readonly store: SinkOffsetStore;
  /** Closes the clients the store uses (for local runs; a Lambda keeps them for the next invocation). */
  close(): Promise<void>;
}

/**
 * Where a sink's offsets live, by `offset.storage`: `kafka` is Kafka Connect's own consumer group for the
 * sink, `connect-<name>` (so a sink moved from Connect keeps its position), committed in transactions
 * that fence older invocations; `dynamodb` and `file` hold them in Connect's REST shape, under the task's
 * lease (DynamoDB).
 */
export async function openSinkOffsetStore(
  bundle: Bundle,
  config: ConnectorConfig,
  kafka: KafkaClients,
  stores: OffsetStores,
  options: OffsetStoreOptions = {},
): Promise<SinkOffsetStoreChoice> {
  const w = bundle.worker.values;
  if (w['offset.storage'] === 'kafka') {
    const store = kafka.sinkOffsetStore({
      groupId: w['group.id'],
      // As for exactly-once sources: a killed invocation's transaction outlives the function no longer.
      transactionTimeoutMs: config.common['invocation.timeout.ms'],
    });
    return { store, close: async () => {} };
  }
  const records = await openOffsetStore(bundle, kafka, stores, options);
  return { store: sinkOffsetsIn(records.store), close: () => records.close() };
}
