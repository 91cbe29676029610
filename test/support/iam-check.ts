/**
 * The least-privilege check for any CloudFormation template: every IAM statement (roles' inline policies,
 * AWS::IAM::Policy, AWS::IAM::ManagedPolicy) names its actions without wildcards, uses neither NotAction nor
 * NotResource, and grants `Resource: "*"` only to actions on an allow-list that says why AWS requires it.
 * @module
 */

interface Statement {
  readonly Action?: unknown;
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
}

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** Every statement of the template's IAM resources, with where it is. */
export function iamStatements(
  resources: Readonly<Record<string, Resource>>,
): { where: string; statement: Statement }[] {
  const found: { where: string; statement: Statement }[] = [];
  const add = (where: string, document: unknown) => {
    const statements = (document as { Statement?: unknown } | undefined)?.Statement;
    for (const [i, statement] of asArray(statements).entries())
      found.push({ where: `${where}.Statement.${i}`, statement: statement as Statement });
  };
  for (const [id, { Type, Properties = {} }] of Object.entries(resources)) {
    if (Type === 'AWS::IAM::Role') {
      for (const [i, policy] of asArray(Properties.Policies).entries()) {
        add(`${id}.Policies.${i}`, (policy as { PolicyDocument?: unknown }).PolicyDocument);
      }
    }
    if (Type === 'AWS::IAM::Policy' || Type === 'AWS::IAM::ManagedPolicy') add(id, Properties.PolicyDocument);
  }
  return found;
}

/** What breaks least privilege in `resources`; empty when nothing does. */
export function iamProblems(
  resources: Readonly<Record<string, Resource>>,
  starAllowed: Readonly<Record<string, string>>,
): string[] {
  const problems: string[] = [];
  for (const { where, statement } of iamStatements(resources)) {
    if (statement.NotAction !== undefined || statement.NotResource !== undefined)
      problems.push(`${where}: NotAction/NotResource`);
    const actions = asArray(statement.Action).map(String);
    for (const action of actions.filter((a) => a.includes('*')))
      problems.push(`${where}: wildcard action ${action}`);
    if (asArray(statement.Resource).includes('*')) {
      for (const action of actions.filter((a) => starAllowed[a] === undefined)) {
        problems.push(
          `${where}: Resource "*" for ${action}, which is not on the allow-list of actions AWS cannot scope`,
        );
      }
    }
  }
  return problems;
}

function asArray(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
