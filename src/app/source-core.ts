/**
 * A source connector's function, composed of the parts it is given (./parts.ts): wires a validated bundle
 * to the Kafka client layer, the offsets store, the converters and the source cycle. ./source-function.ts
 * composes it of every built-in (`handlers/source.ts`, `connect-fn run`); a packaged function of its own
 * connector's parts (src/deploy/entry.ts).
 *
 * Per cold start: load and validate the bundle (frozen), build the Kafka client factory, the converters
 * and the offsets store. Per invocation: a fresh task and fresh producers — the transactional producer's
 * first `begin()` fences every older invocation of the task — one bounded cycle, the summary.
 * @module
 */
import middy from '@middy/core';
import type { Bundle } from '../config/bundle.ts';
import type { ConnectorConfig } from '../config/connector-config.ts';
import {
  createKafkaClients,
  describeEndpoint,
  type KafkaClients,
  transactionalIdFor,
  withClientOverrides,
} from '../kafka/index.ts';
import { invocationLog } from '../lambda/invocation-log.ts';
import { lambdaTimeout } from '../lambda/invocation-timeout.ts';
import { type InvocationContext, taskOf } from '../lambda/lambda-context.ts';
import type { Logger } from '../observability/logger.ts';
import { budgetLimits } from '../runtime/budget.ts';
import type { RecordConverters } from '../runtime/record-converter.ts';
import { systemClock } from '../runtime/retry.ts';
import { type Delivery, runSourceCycle } from '../runtime/source-cycle.ts';
import type { InvocationSummary } from '../runtime/summary.ts';
import type { SourceConnector, TaskConfig } from '../spi/source.ts';
import {
  type ComposedOptions,
  connectorConverters,
  connectorPlugin,
  errorPolicy,
  InvocationFailedError,
  LazyStore,
  type LoadedBundle,
  loadFunctionBundle,
  releaseWithinDeadline,
} from './function-common.ts';
import { type OffsetStoreChoice, openOffsetStore } from './offset-store.ts';

export { InvocationFailedError } from './function-common.ts';

export type SourceHandler = (event: unknown, context: InvocationContext) => Promise<InvocationSummary>;

export interface SourceFunction {
  readonly bundle: Bundle;
  readonly connector: ConnectorConfig;
  readonly logger: Logger;
  /** How many tasks the connector runs (its task configurations, at most `tasks.max`): 0 to tasks - 1. */
  readonly tasks: number;
  readonly handler: SourceHandler;
  /** Closes what the cold start opened (local runs; Lambda just freezes the process). */
  close(): Promise<void>;
}

interface ColdStart {
  readonly kafka: KafkaClients;
  readonly converters: RecordConverters;
  readonly plugin: SourceConnector;
  readonly taskConfigs: readonly TaskConfig[];
}

function coldStart(
  bundle: Bundle,
  config: ConnectorConfig,
  plugin: SourceConnector,
  options: ComposedOptions,
  logger: Logger,
): ColdStart {
  const kafka = createKafkaClients(withClientOverrides(bundle.worker, config.overrides, config.file), {
    clientId: `connect-fn-${config.name}`,
    env: options.env ?? process.env,
    log: (level, message, fields) => logger[level](message, fields),
    ...(options.parts.mskIamSigner === undefined ? {} : { mskIamSigner: options.parts.mskIamSigner }),
  });
  const converters = connectorConverters(config);
  const taskConfigs = plugin.taskConfigs(config.config, config.common['tasks.max']);
  return { kafka, converters, plugin, taskConfigs };
}

function delivery(
  bundle: Bundle,
  config: ConnectorConfig,
  task: number,
  cold: ColdStart,
  offsets: OffsetStoreChoice,
): Delivery {
  const w = bundle.worker.values;
  if (w['exactly.once.source.support'] === 'enabled' && offsets.encoder !== undefined) {
    const id = transactionalIdFor(w['group.id'], config.name, task);
    // A transaction lives at most as long as the function may run: a killed invocation's open
    // transaction is aborted by the broker after that, and holds up readers of its partitions no longer.
    const writer = cold.kafka.transactionalWriter(id, {
      transactionTimeoutMs: config.common['invocation.timeout.ms'],
    });
    return { mode: 'exactly-once', writer, encoder: offsets.encoder };
  }
  return { mode: 'at-least-once', writer: cold.kafka.recordWriter() };
}

/** Builds the function for `options.connector`: validates the bundle now (cold start), fails fast. */
export function composeSourceFunction(
  options: ComposedOptions,
  loaded: LoadedBundle = loadFunctionBundle(options),
): SourceFunction {
  const { bundle, logger, env } = loaded;
  const { config, plugin } = connectorPlugin(loaded, options.connector, 'source', options.parts.plugins);
  const cold = coldStart(bundle, config, plugin, options, logger);

  const storage = bundle.worker.values['offset.storage'];
  const where = storage === 'kafka' ? ` (at ${describeEndpoint(cold.kafka.producerEndpoint)})` : '';
  const offsetStore = new LazyStore(
    () =>
      openOffsetStore(bundle, cold.kafka, options.parts.offsetStores, {
        createTable: options.createOffsetsTable ?? false,
        env,
        connector: config.name,
      }),
    `opening the ${storage} offsets store${where}`,
    'source',
    config.name,
  );

  async function sourceInvocation(event: unknown, context: InvocationContext): Promise<InvocationSummary> {
    const task = taskOf(event, cold.taskConfigs.length, config.name);
    const startedMs = Date.now();
    const limits = budgetLimits(config.common, context.getRemainingTimeInMillis(), startedMs);
    const offsets = await offsetStore.get(task, limits, startedMs, systemClock);
    const chosen = delivery(bundle, config, task, cold, offsets);
    try {
      const summary = await runSourceCycle({
        connector: config.name,
        taskId: task,
        task: cold.plugin.createTask(cold.taskConfigs[task] ?? {}),
        converters: cold.converters,
        offsets: offsets.store,
        delivery: chosen,
        limits,
        errors: errorPolicy(config),
        clock: systemClock,
        log: logger,
        target: describeEndpoint(cold.kafka.producerEndpoint),
      });
      logger.info('invocation finished', { ...summary });
      if (summary.stopReason === 'error') throw new InvocationFailedError(summary);
      return summary;
    } finally {
      await releaseWithinDeadline(() => chosen.writer.close(), limits, systemClock);
    }
  }

  const handler = middy(sourceInvocation, lambdaTimeout).use(
    invocationLog(logger, config.name, cold.taskConfigs.length),
  );
  const close = () => offsetStore.close();
  return {
    bundle,
    connector: config,
    logger,
    tasks: cold.taskConfigs.length,
    handler: (event, context) => handler(event, context),
    close,
  };
}
