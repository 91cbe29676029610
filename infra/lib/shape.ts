/**
 * `deploymentShape(template)`: what a CloudFormation template deploys for connect-fn, independent of how it
 * was written (CDK or Serverless) — functions, schedules, event source mappings, tables, alarms and the IAM
 * (action, resource) pairs of each function's role. Logical ids are dropped and references are resolved to
 * names (`{"Ref": fn}` → the function's name; `Fn::GetAtt [fn, Arn]` → the same `Fn::Sub` ARN the plan
 * writes), so two templates that deploy the same thing have equal shapes. Pure TypeScript.
 *
 * @example
 * ```ts
 * expect(deploymentShape(serverlessTemplate)).toEqual(deploymentShape(cdkTemplate));
 * ```
 * @module
 */
import { lambdaFunctionArn } from './arns.ts';

/** A CloudFormation template, as JSON. */
export interface CfnTemplate {
  readonly Resources?: Readonly<Record<string, CfnResource>>;
}
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
  readonly DeletionPolicy?: string;
}

export interface FunctionShape {
  readonly handler: unknown;
  readonly runtime: unknown;
  readonly architectures: unknown;
  readonly memorySize: unknown;
  readonly timeout: unknown;
  readonly environment: unknown;
  readonly vpc: unknown;
  readonly logGroup: string | null;
  readonly logRetentionDays: unknown;
  readonly asyncMaximumRetryAttempts: unknown;
  /** `<action> <resource>`, sorted, one per pair, of every Allow statement of the function's role. */
  readonly iam: readonly string[];
}

export interface DeploymentShape {
  /** By function name. */
  readonly functions: Readonly<Record<string, FunctionShape>>;
  /** By schedule name. */
  readonly schedules: Readonly<Record<string, unknown>>;
  /** Sorted by function, then topic. */
  readonly mappings: readonly unknown[];
  /** By table name. */
  readonly tables: Readonly<Record<string, unknown>>;
  /** By alarm name. */
  readonly alarms: Readonly<Record<string, unknown>>;
  /** Sorted by log group. */
  readonly metricFilters: readonly unknown[];
}

type Resources = Readonly<Record<string, CfnResource>>;

export function deploymentShape(template: CfnTemplate): DeploymentShape {
  const resources = template.Resources ?? {};
  const of = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const value = (v: unknown) => normalize(v, resources);
  const functions: Record<string, FunctionShape> = {};
  for (const [id, fn] of of('AWS::Lambda::Function')) {
    functions[String(value(fn.Properties?.FunctionName ?? id))] = functionShape(id, fn, resources);
  }
  const schedules: Record<string, unknown> = {};
  for (const [, s] of of('AWS::Scheduler::Schedule')) {
    const p = s.Properties ?? {};
    const target = (p.Target ?? {}) as Record<string, unknown>;
    schedules[String(value(p.Name))] = value({
      expression: p.ScheduleExpression,
      state: p.State ?? 'ENABLED',
      flexibleTimeWindow: p.FlexibleTimeWindow,
      target: target.Arn,
      input: target.Input,
      retryPolicy: target.RetryPolicy,
      iam: rolePairs(roleId(target.RoleArn), resources),
    });
  }
  return {
    functions,
    schedules,
    mappings: sorted(of('AWS::Lambda::EventSourceMapping').map(([, m]) => mappingShape(m, resources))),
    tables: Object.fromEntries(of('AWS::DynamoDB::Table').map(([, t]) => tableShape(t, resources))),
    alarms: Object.fromEntries(of('AWS::CloudWatch::Alarm').map(([, a]) => alarmShape(a, resources))),
    metricFilters: sorted(
      of('AWS::Logs::MetricFilter').map(([, f]) =>
        value({
          logGroup: f.Properties?.LogGroupName,
          pattern: f.Properties?.FilterPattern,
          metrics: f.Properties?.MetricTransformations,
        }),
      ),
    ),
  };
}

function functionShape(id: string, fn: CfnResource, resources: Resources): FunctionShape {
  const p = fn.Properties ?? {};
  const value = (v: unknown) => normalize(v, resources);
  const name = String(value(p.FunctionName ?? id));
  const logGroupName = String(
    value((p.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup ?? `/aws/lambda/${name}`),
  );
  const logGroup = Object.values(resources).find(
    (r) => r.Type === 'AWS::Logs::LogGroup' && value(r.Properties?.LogGroupName) === logGroupName,
  );
  const invokeConfig = Object.values(resources).find(
    (r) => r.Type === 'AWS::Lambda::EventInvokeConfig' && value(r.Properties?.FunctionName) === name,
  );
  const vpc = p.VpcConfig as { SubnetIds?: unknown; SecurityGroupIds?: unknown } | undefined;
  return {
    handler: p.Handler,
    runtime: p.Runtime,
    architectures: p.Architectures ?? ['x86_64'],
    memorySize: p.MemorySize ?? 128,
    timeout: p.Timeout ?? 3,
    environment: value((p.Environment as { Variables?: unknown } | undefined)?.Variables ?? {}),
    vpc:
      vpc === undefined ? null : value({ subnetIds: vpc.SubnetIds, securityGroupIds: vpc.SecurityGroupIds }),
    logGroup: logGroup === undefined ? null : logGroupName,
    logRetentionDays: logGroup?.Properties?.RetentionInDays ?? null,
    asyncMaximumRetryAttempts: invokeConfig?.Properties?.MaximumRetryAttempts ?? null,
    iam: rolePairs(roleId(p.Role), resources),
  };
}

function mappingShape(m: CfnResource, resources: Resources): unknown {
  const p = m.Properties ?? {};
  return normalize(
    {
      function: p.FunctionName,
      topics: p.Topics,
      batchSize: p.BatchSize,
      startingPosition: p.StartingPosition,
      eventSourceArn: p.EventSourceArn ?? null,
      selfManagedEventSource: p.SelfManagedEventSource ?? null,
      consumerGroupId:
        (p.AmazonManagedKafkaEventSourceConfig as { ConsumerGroupId?: unknown } | undefined)
          ?.ConsumerGroupId ??
        (p.SelfManagedKafkaEventSourceConfig as { ConsumerGroupId?: unknown } | undefined)?.ConsumerGroupId ??
        null,
      sourceAccess: p.SourceAccessConfigurations ?? [],
      functionResponseTypes: p.FunctionResponseTypes ?? [],
      enabled: p.Enabled ?? true,
    },
    resources,
  );
}

function tableShape(t: CfnResource, resources: Resources): [string, unknown] {
  const p = t.Properties ?? {};
  return [
    String(normalize(p.TableName, resources)),
    {
      attributes: p.AttributeDefinitions,
      keySchema: p.KeySchema,
      billingMode: p.BillingMode ?? 'PROVISIONED',
      pointInTimeRecovery:
        (p.PointInTimeRecoverySpecification as { PointInTimeRecoveryEnabled?: unknown } | undefined)
          ?.PointInTimeRecoveryEnabled ?? false,
      deletionProtection: p.DeletionProtectionEnabled ?? false,
      deletionPolicy: t.DeletionPolicy ?? 'Delete',
    },
  ];
}

function alarmShape(a: CfnResource, resources: Resources): [string, unknown] {
  const p = a.Properties ?? {};
  const { AlarmName, AlarmDescription: _description, ...rest } = p;
  return [String(normalize(AlarmName, resources)), normalize(rest, resources)];
}

/** The logical id a role reference points at: `Fn::GetAtt [id, Arn]`, `Ref id`, `Fn::Sub "${id.Arn}"` (osls). */
function roleId(ref: unknown): string | null {
  if (typeof ref !== 'object' || ref === null) return null;
  const r = ref as { 'Fn::GetAtt'?: unknown; Ref?: unknown; 'Fn::Sub'?: unknown };
  if (Array.isArray(r['Fn::GetAtt'])) return String(r['Fn::GetAtt'][0]);
  if (typeof r['Fn::GetAtt'] === 'string') return r['Fn::GetAtt'].split('.')[0] ?? null;
  if (typeof r['Fn::Sub'] === 'string') return /^\$\{([A-Za-z0-9]+)\.Arn\}$/.exec(r['Fn::Sub'])?.[1] ?? null;
  return typeof r.Ref === 'string' ? r.Ref : null;
}

/** Every `<action> <resource>` the role allows: inline policies, attached policies, managed policy ARNs. */
export function rolePairs(id: string | null, resources: Resources): string[] {
  const role = id === null ? undefined : resources[id];
  if (id === null || role === undefined) return [];
  const docs: unknown[] = ((role.Properties?.Policies ?? []) as { PolicyDocument?: unknown }[]).map(
    (p) => p.PolicyDocument,
  );
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::IAM::Policy' && r.Type !== 'AWS::IAM::ManagedPolicy') continue;
    const roles = (r.Properties?.Roles ?? []) as unknown[];
    if (roles.some((x) => roleId(x) === id)) docs.push(r.Properties?.PolicyDocument);
  }
  const pairs = ((role.Properties?.ManagedPolicyArns ?? []) as unknown[]).map(
    (arn) => `managed-policy ${String(normalize(arn, resources))}`,
  );
  for (const statement of docs.flatMap(statementsOf)) {
    if (statement.Effect !== 'Allow') continue;
    for (const action of list(statement.Action)) {
      for (const resource of list(statement.Resource))
        pairs.push(`${String(action)} ${String(normalize(resource, resources))}`);
    }
  }
  return [...new Set(pairs)].sort();
}

/** The statements of a policy document. */
export function statementsOf(doc: unknown): { Effect?: unknown; Action?: unknown; Resource?: unknown }[] {
  const statement = (doc as { Statement?: unknown } | undefined)?.Statement;
  return list(statement) as { Effect?: unknown; Action?: unknown; Resource?: unknown }[];
}

function list(v: unknown): unknown[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

const NAME_PROPERTY: Readonly<Record<string, string>> = {
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::Scheduler::Schedule': 'Name',
  'AWS::IAM::Role': 'RoleName',
};

/**
 * A value with intrinsic functions resolved to what does not depend on logical ids: `Ref` to a named
 * resource → its name, `Fn::GetAtt [function, Arn]` → its `Fn::Sub` ARN, `Fn::Sub`/`Fn::Join` → their text.
 */
export function normalize(v: unknown, resources: Resources): unknown {
  if (Array.isArray(v)) return v.map((x) => normalize(x, resources));
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const resolved = intrinsic(keys[0]!, o[keys[0]!], resources);
    if (resolved !== undefined) return resolved;
  }
  return Object.fromEntries(keys.sort().map((k) => [k, normalize(o[k], resources)]));
}

function intrinsic(key: string, arg: unknown, resources: Resources): unknown {
  switch (key) {
    case 'Ref':
      return refName(String(arg), resources);
    case 'Fn::GetAtt': {
      const [id, attr] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
      const r = resources[id ?? ''];
      if (r?.Type === 'AWS::Lambda::Function' && attr === 'Arn') {
        return lambdaFunctionArn(String(refName(id!, resources)));
      }
      return `${r?.Type ?? id}.${attr}`;
    }
    case 'Fn::Sub': {
      const [text, vars] = typeof arg === 'string' ? [arg, {}] : (arg as [string, Record<string, unknown>]);
      return text.replace(/\$\{([^}!]+)\}/g, (m, name: string) => {
        if (vars[name] !== undefined) return String(normalize(vars[name], resources));
        // `${Id}` and `${Id.Attr}` of a resource are a Ref and a GetAtt; `${AWS::Region}` stays as it is.
        const [id, attr] = name.split('.');
        if (resources[id!] === undefined) return m;
        return String(
          attr === undefined ? refName(id!, resources) : intrinsic('Fn::GetAtt', [id, attr], resources),
        );
      });
    }
    case 'Fn::Join': {
      const [sep, parts] = arg as [string, unknown[]];
      return parts.map((p) => String(normalize(p, resources))).join(sep);
    }
    default:
      return undefined;
  }
}

function refName(id: string, resources: Resources): unknown {
  if (id.startsWith('AWS::')) return `\${${id}}`;
  const r = resources[id];
  if (r === undefined) return `parameter:${id}`;
  const prop = NAME_PROPERTY[r.Type];
  const name = prop === undefined ? undefined : r.Properties?.[prop];
  return name === undefined ? `${r.Type}:${id}` : normalize(name, resources);
}

function sorted(items: unknown[]): unknown[] {
  return items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}
