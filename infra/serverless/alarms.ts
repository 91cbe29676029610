/**
 * A connector's alarms: Lambda's own Errors (an invocation that threw or timed out, a bundle refused at
 * cold start) and Throttles, and the invocations that ended with `stopReason=error` — which return a
 * summary instead of throwing, so Errors never counts them. A metric filter on the summary log line
 * (`{"stopReason":"error","connector":...}`, handlers log it as-is) makes them a metric.
 * @module
 */
import { type Cfn, type CfnResource, type CfnResources, connectorIds, ref } from './cfn.ts';

/** Where the stopReason=error metric is published; its dimension `Connector` is the summary's connector. */
export const STOP_REASON_METRIC = { namespace: 'connect-fn', name: 'StopReasonError' } as const;

const PERIOD_SECONDS = 300;

interface Metric {
  readonly Namespace: string;
  readonly MetricName: string;
  readonly Dimensions: Cfn;
}

function alarm(description: string, metric: Metric): CfnResource {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmDescription: description,
      ...metric,
      Statistic: 'Sum',
      Period: PERIOD_SECONDS,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    },
  };
}

export function alarmResources(connector: string): CfnResources {
  const ids = connectorIds(connector);
  const functionDimension = [{ Name: 'FunctionName', Value: ref(ids.function) }];
  return {
    [ids.errorsAlarm]: alarm(
      `connect-fn ${connector}: invocations failed (threw, timed out or refused the bundle)`,
      {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: functionDimension,
      },
    ),
    [ids.throttlesAlarm]: alarm(`connect-fn ${connector}: invocations throttled`, {
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Dimensions: functionDimension,
    }),
    [ids.stopReasonErrorFilter]: {
      Type: 'AWS::Logs::MetricFilter',
      Properties: {
        LogGroupName: ref(ids.logGroup),
        FilterPattern: '{ $.stopReason = "error" }',
        MetricTransformations: [
          {
            MetricNamespace: STOP_REASON_METRIC.namespace,
            MetricName: STOP_REASON_METRIC.name,
            MetricValue: '1',
            Unit: 'Count',
            Dimensions: [{ Key: 'Connector', Value: '$.connector' }],
          },
        ],
      },
    },
    [ids.stopReasonErrorAlarm]: alarm(`connect-fn ${connector}: invocations ended with stopReason=error`, {
      Namespace: STOP_REASON_METRIC.namespace,
      MetricName: STOP_REASON_METRIC.name,
      Dimensions: [{ Name: 'Connector', Value: connector }],
    }),
  };
}
