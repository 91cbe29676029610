/**
 * The few CloudFormation shapes the Serverless derivation writes: JSON values, intrinsic functions and the
 * logical ids of a connector's resources. osls names a function's own resources from its key
 * (`OrdersDashsinkLambdaFunction`, `OrdersDashsinkLogGroup`); ours follow the same normalisation so that a
 * template reads as one family.
 * @module
 */

/** A JSON value of a CloudFormation template. */
export type Cfn = string | number | boolean | readonly Cfn[] | { readonly [key: string]: Cfn };

/** One resource of `Resources`. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties: { readonly [key: string]: Cfn };
  readonly DeletionPolicy?: 'Retain' | 'Delete';
  readonly UpdateReplacePolicy?: 'Retain' | 'Delete';
}

export type CfnResources = Record<string, CfnResource>;

export function ref(logicalId: string): Cfn {
  return { Ref: logicalId };
}

export function getAtt(logicalId: string, attribute: string): Cfn {
  return { 'Fn::GetAtt': [logicalId, attribute] };
}

/**
 * A name as osls normalises function keys into logical ids (`orders-sink` → `OrdersDashsink`), extended to
 * `.`, which table names may hold: distinct names stay distinct.
 */
export function normalizedName(name: string): string {
  const id = name.replace(/-/g, 'Dash').replace(/_/g, 'Underscore').replace(/\./g, 'Dot');
  return id.charAt(0).toUpperCase() + id.slice(1);
}

/** Logical ids of a connector's function and what hangs off it (osls' own for the first two). */
export function connectorIds(connector: string) {
  const n = normalizedName(connector);
  return {
    function: `${n}LambdaFunction`,
    logGroup: `${n}LogGroup`,
    role: `${n}ExecutionRole`,
    schedulerRole: `${n}SchedulerRole`,
    schedule: (task: number) => `${n}Schedule${task}`,
    eventSourceMapping: `${n}EventSourceMapping`,
    errorsAlarm: `${n}ErrorsAlarm`,
    throttlesAlarm: `${n}ThrottlesAlarm`,
    stopReasonErrorFilter: `${n}StopReasonErrorFilter`,
    stopReasonErrorAlarm: `${n}StopReasonErrorAlarm`,
  } as const;
}

export function offsetsTableId(table: string): string {
  return `OffsetsTable${normalizedName(table)}`;
}
