/**
 * The connector-level keys every connector shares, with Kafka Connect's names (`name`, `connector.class`,
 * `tasks.max`, `topics`, converters, `transforms*`, `predicates*`, `errors.*`) plus the function's own:
 * `schedule`, `trigger` and the `invocation.*` budget.
 * @module
 */
import { k } from './keys.ts';
import type { ConnectorKind, ReportProblem, ShowValue } from './registry.ts';
import { checkSchedule, SCHEDULE_EXPECTED } from './schedule.ts';
import type { ConfigSchema } from './validate-keys.ts';

/** Lambda's longest timeout. */
export const MAX_INVOCATION_TIMEOUT_MS = 900_000;

export const connectorKeys = {
  name: k.custom(
    'string',
    'Unique name of the connector in the bundle; also names its offsets, consumer group (`connect-<name>`) and function.',
    'a non-empty name of letters, digits, ".", "_" and "-" (at most 64 characters)',
    (raw) => (/^[A-Za-z0-9._-]{1,64}$/.test(raw) ? raw : undefined),
  ),
  'connector.class': k.string('Connector to run: a short name or the Kafka Connect class name.', {
    nonEmpty: true,
  }),
  'tasks.max': k.int('Maximum number of tasks; each task is its own function invocation stream.', {
    default: 1,
    min: 1,
    max: 1000,
  }),
  topics: k.optional(k.list('Sink connectors: topics to read, comma-separated.', { nonEmpty: true })),
  'topics.regex': k.optional(
    k.custom(
      'string',
      'Sink connectors: regular expression of topics to read.',
      'a valid regular expression',
      (raw) => {
        try {
          return new RegExp(`^(?:${raw})$`) && raw;
        } catch {
          return undefined;
        }
      },
    ),
  ),
  'key.converter': k.optional(k.string("Overrides the worker's key.converter for this connector.")),
  'value.converter': k.optional(k.string("Overrides the worker's value.converter for this connector.")),
  'header.converter': k.optional(k.string("Overrides the worker's header.converter for this connector.")),
  transforms: k.list('Aliases of the transformations (SMTs) to apply, in order.', { default: '' }),
  predicates: k.list('Aliases of the predicates transformations may refer to.', { default: '' }),
  'errors.tolerance': k.enum(
    ['none', 'all'],
    'none: any conversion or transformation error fails the task; all: skip (and dead-letter) bad records.',
    {
      default: 'none',
    },
  ),
  'errors.retry.timeout': k.long(
    'How long to retry a retriable failure, in ms; -1 retries until the invocation deadline.',
    {
      default: 0,
      min: -1,
    },
  ),
  'errors.retry.delay.max.ms': k.long('Longest delay between retries, in ms.', { default: 60_000, min: 1 }),
  'errors.log.enable': k.boolean('Log each tolerated error.', { default: false }),
  'errors.log.include.messages': k.boolean('Include record coordinates (never payloads) in error logs.', {
    default: false,
  }),
  'errors.deadletterqueue.topic.name': k.topic(
    'Dead letter queue topic for tolerated failures; empty disables it.',
    { default: '', emptyDisables: true },
  ),
  'errors.deadletterqueue.topic.replication.factor': k.int(
    'Replication factor of the DLQ topic when created.',
    {
      default: 3,
      min: -1,
    },
  ),
  'errors.deadletterqueue.context.headers.enable': k.boolean(
    'Add `__connect.errors.*` context headers to DLQ records.',
    {
      default: false,
    },
  ),
  schedule: k.custom(
    'string',
    'How often the function runs (EventBridge expression).',
    SCHEDULE_EXPECTED,
    checkSchedule,
    {
      default: 'rate(1 minute)',
    },
  ),
  trigger: k.enum(
    ['schedule', 'kafka'],
    'Sinks: `schedule` (reads Kafka itself) or `kafka` (Lambda event source mapping).',
    {
      default: 'schedule',
    },
  ),
  'invocation.max.records': k.int('Stop reading after this many records in one invocation.', {
    default: 100_000,
    min: 1,
  }),
  'invocation.max.bytes': k.long('Stop reading after this many bytes in one invocation.', {
    default: 64 * 1024 * 1024,
    min: 1,
  }),
  'invocation.timeout.ms': k.int('The function timeout (Lambda allows at most 900000).', {
    default: 60_000,
    min: 1_000,
    max: MAX_INVOCATION_TIMEOUT_MS,
  }),
  'invocation.safety.margin.ms': k.int('Stop reading this long before the deadline, to flush and commit.', {
    default: 5_000,
    min: 0,
  }),
  'function.memory.mb': k.int(
    "Memory of the connector's Lambda function, in MB; used by `connect-fn package` and the infrastructure-as-code, ignored by `connect-fn run`.",
    { default: 512, min: 128, max: 10_240 },
  ),
} as const;

export const connectorSchema: ConfigSchema<typeof connectorKeys> = {
  keys: connectorKeys,
  prefixes: [
    { prefix: 'key.converter.', doc: 'Settings of the connector key converter.' },
    { prefix: 'value.converter.', doc: 'Settings of the connector value converter.' },
    { prefix: 'header.converter.', doc: 'Settings of the connector header converter.' },
    { prefix: 'transforms.', doc: "`transforms.<alias>.type` and the transformation's own keys." },
    { prefix: 'predicates.', doc: "`predicates.<alias>.type` and the predicate's own keys." },
    {
      prefix: 'producer.override.',
      doc: 'Producer settings for this connector only (Connect `producer.override.*`).',
    },
    {
      prefix: 'consumer.override.',
      doc: 'Consumer settings for this connector only (Connect `consumer.override.*`).',
    },
    {
      prefix: 'admin.override.',
      doc: 'Admin client settings for this connector only (Connect `admin.override.*`).',
    },
  ],
  ignored: {
    'config.action.reload': 'a function reads its configuration once per cold start',
  },
};

/**
 * Cross-key rules shared by every connector, given its kind. A value of another key than the one
 * reported appears only through `show`, which hides secret ones.
 */
export function checkConnector(
  kind: ConnectorKind,
  values: Readonly<Record<string, unknown>>,
  report: ReportProblem,
  show: ShowValue,
): void {
  const hasTopics = values.topics !== undefined;
  const hasRegex = values['topics.regex'] !== undefined;
  if (kind === 'sink' && hasTopics === hasRegex) {
    report({
      key: hasTopics ? 'topics.regex' : 'topics',
      expected: 'exactly one of topics or topics.regex for a sink connector',
    });
  }
  if (kind === 'source') {
    if (hasTopics)
      report({ key: 'topics', expected: 'no topics for a source connector (its records name their topic)' });
    if (hasRegex) report({ key: 'topics.regex', expected: 'no topics.regex for a source connector' });
    if (values.trigger === 'kafka')
      report({ key: 'trigger', expected: 'schedule for a source connector', got: show('trigger', 'kafka') });
  }
  const dlq = values['errors.deadletterqueue.topic.name'];
  if (
    kind === 'sink' &&
    typeof dlq === 'string' &&
    dlq !== '' &&
    Array.isArray(values.topics) &&
    values.topics.includes(dlq)
  ) {
    report({
      key: 'errors.deadletterqueue.topic.name',
      expected: 'a topic the connector does not read',
      got: show('errors.deadletterqueue.topic.name', dlq),
    });
  }
  const timeoutMs = Number(values['invocation.timeout.ms']);
  const marginMs = Number(values['invocation.safety.margin.ms']);
  if (marginMs >= timeoutMs) {
    report({
      key: 'invocation.safety.margin.ms',
      expected: `less than invocation.timeout.ms (${show('invocation.timeout.ms', String(timeoutMs))})`,
      got: show('invocation.safety.margin.ms', String(marginMs)),
    });
  }
}
