/**
 * The parts of the Lambda context and of the EventBridge schedule event a function uses, and a context
 * for local runs with a real deadline (`connect-fn run --timeout-ms`).
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { EventDecodeError } from '../errors.ts';

/** What connect-fn reads of Lambda's `Context`: the request id and the time left. */
export type InvocationContext = Context;

/** How much of a refused event a message shows. */
const MAX_EVENT_CHARS = 120;

/** A bounded rendering of what was received, for a message: JSON cut to {@link MAX_EVENT_CHARS}. */
function describeEvent(event: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(event);
  } catch {
    json = undefined; // a cycle or a BigInt: only an in-process caller can send one
  }
  const shown = json ?? (event === undefined ? 'no event' : `a ${typeof event} (not JSON)`);
  if (Array.isArray(event)) return `an array ${bounded(shown)}`;
  return bounded(shown);
}

function bounded(text: string): string {
  return text.length <= MAX_EVENT_CHARS
    ? text
    : `${text.slice(0, MAX_EVENT_CHARS)}…[${text.length - MAX_EVENT_CHARS} chars cut]`;
}

/** EventBridge's own scheduled event, sent by a *rule* (`rate(...)`/`cron(...)`) that has no input set. */
function isRuleScheduledEvent(event: object): boolean {
  const e = event as Record<string, unknown>;
  return e['detail-type'] === 'Scheduled Event' && e.source === 'aws.events';
}

/**
 * The task a scheduled invocation runs, from its event:
 * - `{"task": N}`, an integer with `0 <= N < tasks`: the input of the EventBridge Scheduler schedule of
 *   task N (one schedule per task; other fields are ignored);
 * - for a connector with a single task only, an event that names no task — `{}`, or the scheduled event an
 *   EventBridge *rule* without input sends (`{"detail-type":"Scheduled Event","source":"aws.events",...}`)
 *   — runs task 0: there is no other. With more tasks such an event is refused, since running task 0 would
 *   leave the other tasks' work undone without a word.
 *
 * Anything else — not an object (`"hello"`, `null`, `42`, an array), `task` not an integer in range
 * (`"1"`, `-1`, `1.5`, `tasks` or more), an object without `task` that is no schedule's (a Kafka event sent
 * to the scheduled function) — is refused with an {@link EventDecodeError} naming the connector, what was
 * received (bounded) and what is expected. Not retriable: the same input fails the same way; the
 * schedule's input is what needs fixing.
 *
 * @example
 * ```ts
 * taskOf({ task: 1 }, 2, 'orders'); // 1
 * taskOf('hello', 2, 'orders'); // throws EventDecodeError (CONNECT_FN_EVENT)
 * ```
 */
export function taskOf(event: unknown, tasks: number, connector: string): number {
  const isObject = typeof event === 'object' && event !== null && !Array.isArray(event);
  if (isObject && Object.hasOwn(event, 'task')) {
    const task = (event as { task: unknown }).task;
    if (typeof task === 'number' && Number.isInteger(task) && task >= 0 && task < tasks) return task;
  } else if (isObject && tasks === 1 && (Object.keys(event).length === 0 || isRuleScheduledEvent(event))) {
    return 0;
  }
  throw new EventDecodeError(
    `${connector}: a scheduled invocation's event must be an EventBridge Scheduler input {"task": N} with N an ` +
      `integer from 0 to ${tasks - 1} (${connector} runs ${tasks} task${tasks === 1 ? '' : 's'}, one schedule ` +
      `each)${tasks === 1 ? ", or EventBridge's scheduled event" : ''}; got ${describeEvent(event)}`,
  );
}

/**
 * A context whose deadline is `timeoutMs` from now, as Lambda's is from the start of the invocation, for
 * running a handler in-process (`connect-fn run`).
 */
export function localContext(
  functionName: string,
  timeoutMs: number,
  nowMs: () => number = Date.now,
): Context {
  const deadlineMs = nowMs() + timeoutMs;
  const unsupported = () => {
    throw new Error('the callback API is not used by connect-fn handlers');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadlineMs - nowMs()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
