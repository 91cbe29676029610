/**
 * The least-privilege check both IaC paths' tests run on their synthesized templates: every IAM statement
 * of every role and policy, and what in it is not allowed — a wildcard in an action, `NotAction` or
 * `NotResource`, a `Resource: "*"` with an action outside {@link WILDCARD_RESOURCE_ACTIONS} (the actions IAM
 * cannot scope, each with its reason), or an attached managed policy (AWS's hold `"*"` resources).
 * Pure TypeScript.
 * @module
 */
import { WILDCARD_RESOURCE_ACTIONS } from './iam.ts';
import type { CfnTemplate } from './shape.ts';
import { statementsOf } from './shape.ts';

/** One line per problem, naming the resource (logical id) and the statement's Sid. */
export function iamFindings(template: CfnTemplate): string[] {
  const findings: string[] = [];
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    const p = resource.Properties ?? {};
    const docs: unknown[] = [];
    if (resource.Type === 'AWS::IAM::Role') {
      docs.push(...((p.Policies ?? []) as { PolicyDocument?: unknown }[]).map((x) => x.PolicyDocument));
      for (const arn of (p.ManagedPolicyArns ?? []) as unknown[]) {
        findings.push(`${id}: managed policy ${JSON.stringify(arn)} attached (not least privilege)`);
      }
    } else if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      docs.push(p.PolicyDocument);
    }
    for (const s of docs.flatMap(statementsOf)) findings.push(...statementFindings(id, s));
  }
  return findings;
}

function statementFindings(id: string, s: Record<string, unknown>): string[] {
  const where = `${id} ${typeof s.Sid === 'string' ? s.Sid : '(no Sid)'}`;
  if (s.Effect !== 'Allow') return [];
  const findings: string[] = [];
  if (s.NotAction !== undefined || s.NotResource !== undefined)
    findings.push(`${where}: NotAction/NotResource`);
  const actions = asList(s.Action).map(String);
  const resources = asList(s.Resource);
  for (const action of actions) {
    if (action.includes('*')) findings.push(`${where}: wildcard action ${action}`);
  }
  if (resources.includes('*')) {
    for (const action of actions) {
      if (WILDCARD_RESOURCE_ACTIONS[action] === undefined)
        findings.push(`${where}: ${action} on Resource "*"`);
    }
  }
  return findings;
}

function asList(v: unknown): unknown[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
