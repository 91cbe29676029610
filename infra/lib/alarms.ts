/**
 * Alarms of one connector's function: Lambda's `Errors` and `Throttles`, and the invocations that ended
 * with `stopReason: "error"` — counted by a metric filter on the function's log group over the summary
 * line every invocation logs (`{"level":"info","message":"invocation finished",...,"stopReason":"error",...}`,
 * or `"level":"error"` when a triggered sink refuses an event as a whole; handlers/*-function.ts).
 * Every alarm fires on the first occurrence in a minute. Pure TypeScript, shared by both IaC paths.
 * @module
 */

/** A CloudWatch Logs metric filter that counts matching lines as a metric. */
export interface MetricFilterPlan {
  readonly logGroupName: string;
  /** JSON filter pattern over the summary line. */
  readonly pattern: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly metricValue: string;
}

export interface AlarmPlan {
  readonly name: string;
  readonly description: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly { readonly name: string; readonly value: string }[];
  readonly statistic: 'Sum';
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly threshold: number;
  readonly comparisonOperator: 'GreaterThanThreshold';
  /** No invocation, no data: not an alarm. */
  readonly treatMissingData: 'notBreaching';
}

/** Namespace of the metrics connect-fn's log filters publish. */
export const METRIC_NAMESPACE = 'connect-fn';
/** Matches the invocation summary of a failed invocation, and nothing else (no other line has `stopReason`). */
export const STOP_REASON_ERROR_PATTERN = '{ $.stopReason = "error" }';

export function stopReasonFilter(functionName: string, logGroupName: string): MetricFilterPlan {
  return {
    logGroupName,
    pattern: STOP_REASON_ERROR_PATTERN,
    namespace: METRIC_NAMESPACE,
    metricName: `${functionName}-stopReason-error`,
    metricValue: '1',
  };
}

export function alarmsOf(functionName: string): AlarmPlan[] {
  const lambda = (metricName: 'Errors' | 'Throttles', what: string): AlarmPlan =>
    alarm(
      `${functionName}-${metricName.toLowerCase()}`,
      `${functionName}: ${what}`,
      'AWS/Lambda',
      metricName,
      [{ name: 'FunctionName', value: functionName }],
    );
  return [
    lambda('Errors', 'an invocation failed (Lambda Errors > 0)'),
    lambda('Throttles', 'an invocation was throttled (Lambda Throttles > 0)'),
    alarm(
      `${functionName}-stopreason-error`,
      `${functionName}: an invocation summary ended with stopReason=error`,
      METRIC_NAMESPACE,
      stopReasonFilter(functionName, '').metricName,
      [],
    ),
  ];
}

function alarm(
  name: string,
  description: string,
  namespace: string,
  metricName: string,
  dimensions: AlarmPlan['dimensions'],
): AlarmPlan {
  return {
    name,
    description,
    namespace,
    metricName,
    dimensions,
    statistic: 'Sum',
    periodSeconds: 60,
    evaluationPeriods: 1,
    threshold: 0,
    comparisonOperator: 'GreaterThanThreshold',
    treatMissingData: 'notBreaching',
  };
}
