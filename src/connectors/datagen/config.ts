/**
 * Configuration of the `datagen` source connector, with the keys of Confluent's datagen connector where
 * they apply (`kafka.topic`, `quickstart`, `iterations`, `max.interval`, `random.seed`) plus our own
 * `seed`, `record.bytes` and `batch.size`. Differences from Confluent, on purpose:
 *
 * - `iterations` counts records for the whole connector (split evenly across its tasks), across every
 *   invocation; Confluent counts per task. With `tasks.max=1` they agree. Below 1 means unlimited (as
 *   Confluent), which is also the default (Confluent's current default).
 * - `max.interval` does not sleep: a function should not pay for idle time. It is the largest step of the
 *   simulated clock that fills the time fields (`ordertime`, `registertime`, `viewtime`), which advance
 *   by a random step in [0, max.interval] per record, averaging max.interval/2 as Confluent's random
 *   sleep does. The rate is set by `schedule` and the `invocation.*` budget instead.
 * - `quickstart` offers orders, users and pageviews; `schema.filename` / `schema.string` are not supported.
 * @module
 */
import { k } from '../../config/keys.ts';
import type { ConnectorDef } from '../../config/registry.ts';
import { topicKey } from '../topic-key.ts';

export const QUICKSTARTS = ['orders', 'users', 'pageviews'] as const;
export type Quickstart = (typeof QUICKSTARTS)[number];

export const datagenKeys = {
  'kafka.topic': topicKey('The topic to write the generated records to.'),
  quickstart: k.enum(
    QUICKSTARTS,
    'Which records to generate, like Confluent datagen quickstarts of the same name.',
    {
      default: 'orders',
      caseInsensitive: true,
    },
  ),
  iterations: k.long(
    'Records to generate in total, across all tasks and invocations (Confluent: per task); below 1 is unlimited.',
    { default: -1 },
  ),
  'max.interval': k.long(
    'Largest step, in ms, of the simulated clock behind the time fields (no sleeping: a function does not wait).',
    { default: 500, min: 0 },
  ),
  seed: k.optional(
    k.long(
      'Seed of the generator: the same seed, task and sequence number always give the same record (default 0).',
    ),
  ),
  'random.seed': k.optional(k.long("Confluent's name for `seed`; set one of the two.")),
  'record.bytes': k.int(
    'Pad each value with a `padding` field to about this many bytes of schemaless JSON; 0 adds no padding.',
    { default: 0, min: 0, max: 1_000_000 },
  ),
  'batch.size': k.int('Most records one poll returns.', { default: 1000, min: 1, max: 100_000 }),
} as const;

export const datagenDef: ConnectorDef<typeof datagenKeys> = {
  name: 'datagen',
  aliases: ['DatagenConnector', 'io.confluent.kafka.connect.datagen.DatagenConnector'],
  kind: 'source',
  doc: 'Deterministic synthetic records (orders, users, pageviews) for demos and benchmarks, with per-task sequence numbers. Offsets: {task} -> {sequence}.',
  schema: { keys: datagenKeys },
  check(values, report) {
    if (values.seed !== undefined && values['random.seed'] !== undefined) {
      report({ key: 'random.seed', expected: 'unset when seed is set (they are the same setting)' });
    }
  },
};
