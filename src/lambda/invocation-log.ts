/**
 * middy middleware: the logger's per-invocation context (connector, task, invocation id, cold start),
 * set before the handler and cleared after it, also when it fails — nothing leaks into the next invocation.
 * @module
 */
import type { MiddlewareObj } from '@middy/core';
import type { Logger } from '../observability/logger.ts';
import { type InvocationContext, taskOf } from './lambda-context.ts';

export function invocationLog(
  logger: Logger,
  connector: string,
  tasks: number,
): MiddlewareObj<unknown, unknown, Error, InvocationContext> {
  return {
    before: function invocationLogBefore(request) {
      let task = 0;
      try {
        task = taskOf(request.event, tasks, connector);
      } catch {
        // The handler reports a bad event; the log context just says task 0.
      }
      logger.startInvocation({ connector, task, invocationId: request.context.awsRequestId });
    },
    after: function invocationLogAfter() {
      logger.endInvocation();
    },
    onError: function invocationLogOnError() {
      logger.endInvocation();
    },
  };
}
