/**
 * The datagen → Kafka bundle the source benchmarks run (a worker file and one connector file, as a user
 * writes them), and the records its first invocation produces, generated the same way outside the
 * handler so a bare producer can send the very same bytes.
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBundle } from '../../src/config/bundle.ts';
import { builtinRegistry, sourceConnectors } from '../../src/connectors/builtins.ts';
import { createConverter, createHeaderConverter } from '../../src/data/converters/index.ts';
import type { KafkaRecord } from '../../src/runtime/ports.ts';
import { type RecordConverters, toKafkaRecord } from '../../src/runtime/record-converter.ts';

export interface DatagenBundle {
  /** Where to write the bundle; created (its parent must exist). */
  readonly dir: string;
  readonly brokers: string;
  /** Connector name: also the offsets' key, so a fresh name starts from sequence 0. */
  readonly connector: string;
  readonly topic: string;
  /** `exactly.once.source.support=enabled` (offsets in Kafka, one transaction per batch). */
  readonly exactlyOnce: boolean;
  readonly offsetsTopic: string;
  /** Offsets in DynamoDB (table `connect-fn-bench-offsets`, DynamoDB Local at this URL) instead of Kafka. */
  readonly dynamodbEndpoint?: string;
  /** `invocation.max.records`. */
  readonly maxRecords: number;
  /** `record.bytes`. */
  readonly recordBytes: number;
  /** datagen's `batch.size`; its default (1000) when absent. */
  readonly batchSize?: number;
}

export const DATAGEN_SEED = 42;

export const BENCH_OFFSETS_TABLE = 'connect-fn-bench-offsets';

/** Writes the bundle; returns its dir. */
export function writeDatagenBundle(b: DatagenBundle): string {
  mkdirSync(join(b.dir, 'connectors'), { recursive: true });
  const offsets =
    b.dynamodbEndpoint === undefined
      ? [
          'offset.storage=kafka',
          `offset.storage.topic=${b.offsetsTopic}`,
          'offset.storage.replication.factor=1',
        ]
      : [
          'offset.storage=dynamodb',
          `offset.storage.table=${BENCH_OFFSETS_TABLE}`,
          `dynamodb.endpoint=${b.dynamodbEndpoint}`,
          'aws.region=us-east-1',
        ];
  const worker = [
    `bootstrap.servers=${b.brokers}`,
    'group.id=connect-fn-bench',
    'key.converter=org.apache.kafka.connect.storage.StringConverter',
    'value.converter=org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable=false',
    ...offsets,
    `exactly.once.source.support=${b.exactlyOnce ? 'enabled' : 'disabled'}`,
  ];
  const connector = [
    `name=${b.connector}`,
    'connector.class=datagen',
    `kafka.topic=${b.topic}`,
    'quickstart=orders',
    'tasks.max=1',
    `seed=${DATAGEN_SEED}`,
    `record.bytes=${b.recordBytes}`,
    ...(b.batchSize === undefined ? [] : [`batch.size=${b.batchSize}`]),
    `invocation.max.records=${b.maxRecords}`,
    // The record count is the limit, not the bytes (the default 64 MiB would stop 100,000 KB-records).
    'invocation.max.bytes=1073741824',
    'invocation.timeout.ms=900000',
  ];
  writeFileSync(join(b.dir, 'worker.properties'), `${worker.join('\n')}\n`);
  writeFileSync(join(b.dir, 'connectors', `${b.connector}.properties`), `${connector.join('\n')}\n`);
  return b.dir;
}

/**
 * Generates the first `count` records task 0 of `connector` in the bundle at `dir` produces from no
 * committed offset, converted to bytes by the connector's converters — what the handler's first invocation
 * sends — handing them over a batch (`batch.size`) at a time, as the cycle polls them.
 */
export async function generateDatagen(
  dir: string,
  connector: string,
  count: number,
  onBatch: (records: KafkaRecord[]) => void,
): Promise<void> {
  const bundle = loadBundle(dir, { registry: builtinRegistry(), env: {} });
  const config = bundle.connector(connector);
  const plugin = sourceConnectors().get(config.plugin);
  if (plugin === undefined) throw new Error(`${config.plugin} is not a source connector`);
  const converters: RecordConverters = {
    key: createConverter(config.converters.key.name, config.converters.key.config, true),
    value: createConverter(config.converters.value.name, config.converters.value.config, false),
    header: createHeaderConverter(config.converters.header.name, config.converters.header.config),
  };
  const task = plugin.createTask(plugin.taskConfigs(config.config, config.common['tasks.max'])[0]!);
  await task.start({ connector, taskId: 0, offsets: async (partitions) => partitions.map(() => undefined) });
  for (let done = 0; done < count; ) {
    const batch = await task.poll({ maxRecords: count - done, deadlineMs: Number.POSITIVE_INFINITY });
    if (batch.length === 0) throw new Error(`${connector} ran out of records after ${done}`);
    onBatch(batch.map((record) => toKafkaRecord(record, converters)));
    done += batch.length;
  }
  await task.stop();
}

/** {@link generateDatagen}'s records, all of them. */
export async function datagenRecords(dir: string, connector: string, count: number): Promise<KafkaRecord[]> {
  const out: KafkaRecord[] = [];
  await generateDatagen(dir, connector, count, (batch) => out.push(...batch));
  return out;
}
