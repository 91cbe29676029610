/**
 * kafkajs' own log lines, routed to a sink of ours or dropped (the default). Only the message and a few
 * known-safe fields (broker, topic, partition, retries) are passed on, after redaction: kafkajs log entries
 * can carry request payloads and stack traces that we do not want in a function's logs.
 * @module
 */
import { type logCreator, logLevel } from 'kafkajs';
import type { Redactor } from '../config/redaction.ts';

export type KafkaLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Receives kafkajs' log lines (e.g. `(level, msg, fields) => logger[level](msg, fields)`). */
export type KafkaLogSink = (
  level: KafkaLogLevel,
  message: string,
  fields: Readonly<Record<string, unknown>>,
) => void;

const LEVELS: Readonly<Record<number, KafkaLogLevel>> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};
const SAFE_FIELDS = [
  'broker',
  'topic',
  'partition',
  'groupId',
  'retryCount',
  'retryTime',
  'clientId',
] as const;

/**
 * kafkajs lines that are not worth a warning: a broker's error response on a connection is retried by the
 * layer above and surfaces there if it persists (CONCURRENT_TRANSACTIONS while a transaction commits,
 * COORDINATOR_NOT_AVAILABLE on a fresh broker); and we limit the idempotent producer's retries on purpose,
 * so that a send fails within the invocation's deadline instead of retrying forever.
 */
function levelOf(namespace: string, level: KafkaLogLevel, message: string): KafkaLogLevel {
  if (namespace === 'Connection' && message.startsWith('Response ')) return 'debug';
  if (message.startsWith('Limiting retries for the idempotent producer')) return 'debug';
  // CONCURRENT_TRANSACTIONS on the first send after a commit: the coordinator is still completing the
  // previous transaction; kafkajs retries the send, and a send that still fails reaches us as an error.
  if (message.includes('another concurrent operation on the same transaction')) return 'debug';
  return level;
}

/** kafkajs `logLevel` and `logCreator` options: nothing at all without a sink, warnings and errors with one. */
export function kafkaLogOptions(
  sink: KafkaLogSink | undefined,
  redactor: Redactor,
): { logLevel: logLevel; logCreator?: logCreator } {
  if (sink === undefined) return { logLevel: logLevel.NOTHING };
  const creator: logCreator = () =>
    function kafkajsLogEntry({ namespace, level, log }) {
      const name = LEVELS[level];
      if (name === undefined) return;
      const fields: Record<string, unknown> = { kafkajs: namespace };
      for (const key of SAFE_FIELDS) {
        const value: unknown = log[key];
        if (typeof value === 'string') fields[key] = redactor.text(value);
        else if (typeof value === 'number') fields[key] = value;
      }
      const message = String(log.message);
      try {
        sink(levelOf(namespace, name, message), redactor.text(message), fields);
      } catch {
        // A failing log sink must not break the client.
      }
    };
  return { logLevel: logLevel.WARN, logCreator: creator };
}
