/**
 * A sink connector's functions: the composition root that wires a validated bundle to the Kafka client
 * layer, the sink offsets store, the converters and the sink pipeline. Two entry points share one cold
 * start:
 * - scheduled (`handlers/sink.ts`): every invocation reads the task's partitions itself, group-less, from
 *   the committed offsets, until its budget is spent or it has caught up ({@link SinkFunction.handler});
 * - triggered (`handlers/sink-trigger.ts`): Lambda's Kafka event source mapping polls and hands over a
 *   batch; the function puts it and reports what it could not deliver ({@link SinkFunction.triggerHandler}).
 *
 * `connect-fn run` calls the same handlers in-process.
 * @module
 */
import middy from '@middy/core';
import type { Bundle } from '../config/bundle.ts';
import type { ConnectorConfig } from '../config/connector-config.ts';
import {
  createKafkaClients,
  describeEndpoint,
  type KafkaClients,
  withClientOverrides,
} from '../kafka/index.ts';
import { invocationLog } from '../lambda/invocation-log.ts';
import { lambdaTimeout } from '../lambda/invocation-timeout.ts';
import { decodeKafkaEvent, type KafkaBatchResponse, partialBatchResponse } from '../lambda/kafka-event.ts';
import { type InvocationContext, taskOf } from '../lambda/lambda-context.ts';
import type { Logger } from '../observability/logger.ts';
import { budgetLimits } from '../runtime/budget.ts';
import type { RecordConverters } from '../runtime/record-converter.ts';
import { systemClock } from '../runtime/retry.ts';
import { assignPartitions, type Subscription } from '../runtime/sink-assignment.ts';
import { runSinkCycle, type SinkPartitionReader } from '../runtime/sink-cycle.ts';
import { runTriggeredSink } from '../runtime/sink-trigger.ts';
import type { InvocationSummary } from '../runtime/summary.ts';
import type { SinkConnector } from '../spi/sink.ts';
import type { TaskConfig } from '../spi/source.ts';
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
import { openSinkOffsetStore } from './offset-store.ts';

export type SinkHandler = (event: unknown, context: InvocationContext) => Promise<InvocationSummary>;

export type SinkTriggerHandler = (event: unknown, context: InvocationContext) => Promise<KafkaBatchResponse>;

/** What a triggered invocation did: its summary, and the response the event source mapping gets. */
export interface TriggeredInvocation {
  readonly summary: InvocationSummary;
  /** When `failed`, every partition from its first record: what the mapping retries after the failure. */
  readonly response: KafkaBatchResponse;
  /**
   * The event was refused as a whole (a topic the connector does not subscribe to, a failure of the
   * target): the Lambda handler throws {@link InvocationFailedError} instead of returning `response`.
   */
  readonly failed: boolean;
}

export interface SinkFunction {
  readonly bundle: Bundle;
  readonly connector: ConnectorConfig;
  readonly logger: Logger;
  /** How many tasks the connector runs (its task configurations, at most `tasks.max`): 0 to tasks - 1. */
  readonly tasks: number;
  /** The scheduled handler: event `{"task": N}` (EventBridge schedule input) picks the task. */
  readonly handler: SinkHandler;
  /**
   * The triggered handler: a Kafka event source mapping's event (MSK or self-managed) in, the partial
   * batch response out. Runs task 0's configuration; the mapping's concurrency is its own business.
   * Throws {@link InvocationFailedError} (not retriable) for an event refused as a whole: records of a
   * topic outside `topics` / `topics.regex`, or a failure of the target (docs/connectors.md says why).
   */
  readonly triggerHandler: SinkTriggerHandler;
  /** The same, also returning the invocation summary (for `connect-fn run --event`). */
  triggerInvocation(event: unknown, context: InvocationContext): Promise<TriggeredInvocation>;
  /** Closes what the cold start opened (local runs; Lambda just freezes the process). */
  close(): Promise<void>;
}

interface ColdStart {
  readonly kafka: KafkaClients;
  readonly converters: RecordConverters;
  readonly plugin: SinkConnector;
  readonly taskConfigs: readonly TaskConfig[];
  /** Kept across invocations: its connections to the partition leaders stay warm. */
  reader: SinkPartitionReader & { close(): Promise<void> };
}

function subscriptionOf(config: ConnectorConfig): Subscription {
  const regex = config.common['topics.regex'];
  if (regex !== undefined) return { regex };
  return { topics: config.common.topics ?? [] };
}

/** Builds the functions for `options.connector`: validates the bundle now (cold start), fails fast. */
export function composeSinkFunction(
  options: ComposedOptions,
  loaded: LoadedBundle = loadFunctionBundle(options),
): SinkFunction {
  const { bundle, logger, env } = loaded;
  const { config, plugin } = connectorPlugin(loaded, options.connector, 'sink', options.parts.plugins);
  const kafka = createKafkaClients(withClientOverrides(bundle.worker, config.overrides, config.file), {
    clientId: `connect-fn-${config.name}`,
    env,
    log: (level, message, fields) => logger[level](message, fields),
    ...(options.parts.mskIamSigner === undefined ? {} : { mskIamSigner: options.parts.mskIamSigner }),
  });
  const cold: ColdStart = {
    kafka,
    converters: connectorConverters(config),
    plugin,
    taskConfigs: plugin.taskConfigs(config.config, config.common['tasks.max']),
    reader: kafka.partitionReader(),
  };
  const source = describeEndpoint(kafka.consumerEndpoint);

  const offsetStore = new LazyStore(
    () =>
      openSinkOffsetStore(bundle, config, cold.kafka, options.parts.offsetStores, {
        createTable: options.createOffsetsTable ?? false,
        env,
      }),
    `opening the ${bundle.worker.values['offset.storage']} offsets store of ${config.name}`,
    'sink',
    config.name,
  );

  async function scheduledInvocation(event: unknown, context: InvocationContext): Promise<InvocationSummary> {
    const task = taskOf(event, cold.taskConfigs.length, config.name);
    const startedMs = Date.now();
    const limits = budgetLimits(config.common, context.getRemainingTimeInMillis(), startedMs);
    const offsets = await offsetStore.get(task, limits, startedMs, systemClock);
    const catalog = cold.kafka.topicAdmin();
    try {
      const summary = await runSinkCycle({
        connector: config.name,
        taskId: task,
        task: cold.plugin.createTask(cold.taskConfigs[task] ?? {}),
        converters: cold.converters,
        offsets: offsets.store,
        reader: cold.reader,
        assignment: () => assignPartitions(subscriptionOf(config), catalog, task, cold.taskConfigs.length),
        autoOffsetReset: cold.kafka.consumerSettings.autoOffsetReset,
        maxPollRecords: cold.kafka.consumerSettings.maxPollRecords,
        commitIntervalMs: bundle.worker.values['offset.flush.interval.ms'],
        limits,
        errors: errorPolicy(config),
        clock: systemClock,
        log: logger,
        source,
      });
      logger.info('invocation finished', { ...summary });
      if (summary.stopReason === 'error') throw new InvocationFailedError(summary);
      return summary;
    } finally {
      await releaseWithinDeadline(() => catalog.close(), limits, systemClock);
    }
  }

  /**
   * One event: decoded (a malformed event fails the invocation, so the mapping retries it and its metrics
   * show it), delivered partition by partition, and answered with the records to retry.
   */
  async function triggerInvocation(event: unknown, context: InvocationContext): Promise<TriggeredInvocation> {
    const decoded = decodeKafkaEvent(event);
    const startedMs = Date.now();
    const limits = budgetLimits(config.common, context.getRemainingTimeInMillis(), startedMs);
    const { summary, failures, failInvocation } = await runTriggeredSink({
      connector: config.name,
      taskId: 0,
      task: cold.plugin.createTask(cold.taskConfigs[0] ?? {}),
      converters: cold.converters,
      partitions: decoded.partitions,
      subscription: subscriptionOf(config),
      maxPollRecords: cold.kafka.consumerSettings.maxPollRecords,
      deadlineMs: limits.deadlineMs,
      // The same hard deadline as the scheduled cycles: a task call still running then is abandoned and
      // the event answered (every partition retried from its first record) before Lambda's timeout.
      ...(limits.hardDeadlineMs === undefined ? {} : { hardDeadlineMs: limits.hardDeadlineMs }),
      ...(limits.returnByMs === undefined ? {} : { returnByMs: limits.returnByMs }),
      errors: errorPolicy(config),
      clock: systemClock,
      log: logger,
    });
    if (failInvocation) logger.error('invocation failed: the event is refused as a whole', { ...summary });
    else logger.info('invocation finished', { ...summary, failedPartitions: failures.length });
    return { summary, response: partialBatchResponse(failures), failed: failInvocation };
  }

  const triggerHandler = middy(async (event: unknown, context: InvocationContext) => {
    const { summary, response, failed } = await triggerInvocation(event, context);
    if (failed) throw new InvocationFailedError(summary);
    return response;
  }, lambdaTimeout).use(invocationLog(logger, config.name, 1));
  const handler = middy(scheduledInvocation, lambdaTimeout).use(
    invocationLog(logger, config.name, cold.taskConfigs.length),
  );
  async function close(): Promise<void> {
    await offsetStore.close();
    await cold.reader.close().catch(() => undefined);
  }
  return {
    bundle,
    connector: config,
    logger,
    tasks: cold.taskConfigs.length,
    handler: (event, context) => handler(event, context),
    triggerHandler: (event, context) => triggerHandler(event, context),
    triggerInvocation,
    close,
  };
}
