/**
 * A connector's alarms: Lambda's own Errors (an invocation that threw or timed out, a bundle refused at
 * cold start) and Throttles, and the invocations that ended with `stopReason=error` — which return a
 * summary instead of throwing, so Errors never counts them. A metric filter on the summary log line
 * (`{"stopReason":"error",...}`; no other line has `stopReason`) makes them the metric
 * `connect-fn/<function>-stopReason-error`. Each alarm fires on the first occurrence in a minute; the CDK
 * app makes the same alarms.
 * @module
 */
import { type Cfn, type CfnResource, type CfnResources, connectorIds, ref } from './cfn.ts';

/** Namespace of the metrics connect-fn's log filters publish. */
export const METRIC_NAMESPACE = 'connect-fn';
const PERIOD_SECONDS = 60;

interface Metric {
  readonly Namespace: string;
  readonly MetricName: string;
  readonly Dimensions: Cfn;
}

function alarm(name: string, description: string, metric: Metric): CfnResource {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: name,
      AlarmDescription: description,
      ...metric,
      Statistic: 'Sum',
      Period: PERIOD_SECONDS,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      // No invocation, no data: not an alarm.
      TreatMissingData: 'notBreaching',
    },
  };
}

/** The alarms of `connector`'s function `functionName` and the metric filter behind the stopReason=error one. */
export function alarmResources(connector: string, functionName: string): CfnResources {
  const ids = connectorIds(connector);
  const fn = functionName;
  const lambdaMetric = (MetricName: string): Metric => ({
    Namespace: 'AWS/Lambda',
    MetricName,
    Dimensions: [{ Name: 'FunctionName', Value: ref(ids.function) }],
  });
  const stopReasonMetric = `${fn}-stopReason-error`;
  return {
    [ids.errorsAlarm]: alarm(
      `${fn}-errors`,
      `${fn}: an invocation failed (Lambda Errors > 0)`,
      lambdaMetric('Errors'),
    ),
    [ids.throttlesAlarm]: alarm(
      `${fn}-throttles`,
      `${fn}: an invocation was throttled (Lambda Throttles > 0)`,
      lambdaMetric('Throttles'),
    ),
    [ids.stopReasonErrorFilter]: {
      Type: 'AWS::Logs::MetricFilter',
      Properties: {
        LogGroupName: ref(ids.logGroup),
        FilterPattern: '{ $.stopReason = "error" }',
        MetricTransformations: [
          { MetricNamespace: METRIC_NAMESPACE, MetricName: stopReasonMetric, MetricValue: '1' },
        ],
      },
    },
    [ids.stopReasonErrorAlarm]: alarm(
      `${fn}-stopreason-error`,
      `${fn}: an invocation summary ended with stopReason=error`,
      { Namespace: METRIC_NAMESPACE, MetricName: stopReasonMetric, Dimensions: [] },
    ),
  };
}
