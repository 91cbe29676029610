/**
 * An invocation's timeout. Lambda ends an invocation at its timeout whatever the handler is still doing
 * ("Task timed out after 8.00 seconds"): no return value, no summary. The handlers' middy ends it 5 ms
 * before that with {@link InvocationTimedOutError} (`lambdaTimeout`), and a local run (`connect-fn run`)
 * does what Lambda does (`withinLambdaTimeout`), so a handler that overruns its deadline fails locally as
 * it would in the cloud instead of returning late and looking fine. The handler is abandoned, not awaited.
 * A cycle never gets here on its own: its hard deadline returns the summary half the safety margin earlier.
 * @module
 */
import { ConnectFnError } from '../errors.ts';
import type { Clock } from '../runtime/ports.ts';

/** The invocation was still running at its timeout: Lambda would have ended it there. */
export class InvocationTimedOutError extends ConnectFnError {
  readonly code = 'CONNECT_FN_INVOCATION_TIMED_OUT';
}

const TIMED_OUT =
  "the invocation timed out before the handler returned (Lambda ends it here, without a summary): some I/O ignored the invocation's deadline";

/**
 * middy's option for the handlers: at the timeout (less middy's 5 ms), the invocation fails with
 * {@link InvocationTimedOutError} instead of middy's uncoded `TimeoutError`.
 */
export const lambdaTimeout = Object.freeze({
  timeoutEarlyResponse: (): never => {
    throw new InvocationTimedOutError(TIMED_OUT, { retriable: true });
  },
});

/**
 * `invocation`, or an {@link InvocationTimedOutError} once `timeoutMs` (the context's remaining time when the
 * invocation began) has passed on `clock` without it settling. The timer is cancelled when it settles.
 *
 * @example
 * ```ts
 * const context = localContext('orders', 8_000);
 * const summary = await withinLambdaTimeout(handler(event, context), context.getRemainingTimeInMillis(), systemClock, 'orders/0');
 * ```
 */
export async function withinLambdaTimeout<T>(
  invocation: Promise<T>,
  timeoutMs: number,
  clock: Clock,
  what: string,
): Promise<T> {
  const settled = new AbortController();
  const timedOut = clock.sleep(timeoutMs, settled.signal).then(() => {
    throw new InvocationTimedOutError(`${what}: after ${timeoutMs} ms ${TIMED_OUT}`, { retriable: true });
  });
  timedOut.catch(() => undefined);
  try {
    return await Promise.race([invocation, timedOut]);
  } finally {
    settled.abort();
  }
}
