import { describe, expect, it } from 'vitest';
import { STOP_REASON_ERROR_PATTERN } from '../../../infra/lib/alarms.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { type InvocationSummary, summaryError } from '../../../src/runtime/summary.ts';

/** `{ $.field = "value" }`, the one JSON filter form the alarm uses, evaluated as CloudWatch Logs does. */
function matches(pattern: string, line: string): boolean {
  const m = /^\{ \$\.(\w+) = "([^"]*)" \}$/.exec(pattern);
  if (m === null) throw new Error(`not a simple JSON filter: ${pattern}`);
  return (JSON.parse(line) as Record<string, unknown>)[m[1]!] === m[2];
}

describe('the stopReason=error metric filter', () => {
  const lines: string[] = [];
  const logger = createLogger({ sink: (line) => lines.push(line), nowMs: () => 0 });
  const summary: InvocationSummary = {
    connector: 'orders',
    task: 0,
    kind: 'source',
    records: 0,
    bytes: 0,
    batches: 0,
    durationMs: 12,
    stopReason: 'error',
    committed: [],
    error: summaryError(new Error('broker unreachable')),
  };

  it('matches the summary line a handler logs for a failed invocation, and not a successful one', () => {
    // What handlers/source-function.ts and sink-function.ts log after every cycle.
    logger.info('invocation finished', { ...summary });
    logger.info('invocation finished', { ...summary, stopReason: 'idle', error: undefined });
    logger.error('cycle failed', new Error('stopReason error in a message is not a field'));
    expect(lines.map((line) => matches(STOP_REASON_ERROR_PATTERN, line))).toEqual([true, false, false]);
  });
});
