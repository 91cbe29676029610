/**
 * The parts of the Lambda context and of the EventBridge schedule event a function uses, and a context
 * for local runs with a real deadline (`connect-fn run --timeout-ms`).
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** What connect-fn reads of Lambda's `Context`: the request id and the time left. */
export type InvocationContext = Context;

/**
 * The task an invocation runs: an EventBridge schedule's input `{"task": N}` (one schedule per task), or
 * the first task. Anything else in the event (the scheduled event's `id`, `time`, ...) is ignored.
 */
export function taskOf(event: unknown, tasks: number): number {
  const task =
    typeof event === 'object' && event !== null && 'task' in event ? (event as { task: unknown }).task : 0;
  if (typeof task !== 'number' || !Number.isInteger(task) || task < 0 || task >= tasks) {
    throw new RangeError(
      `event.task must be an integer from 0 to ${tasks - 1} (got ${JSON.stringify(task)})`,
    );
  }
  return task;
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
