/**
 * Every fixture bundle's synthesized template passes cfn-lint (pinned, installed under
 * ~/.cache/connect-fn/cfn-lint/<version> by infra/tools/cfn-lint.ts) with zero errors, and holds no IAM
 * statement with a wildcard action or an unexplained `Resource: "*"`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { WILDCARD_RESOURCE_ACTIONS } from '../../../infra/lib/iam.ts';
import { iamFindings } from '../../../infra/lib/iam-check.ts';
import { CFN_LINT_VERSION, cfnLint, ensureCfnLint, formatMatch } from '../../../infra/tools/cfn-lint.ts';
import { type Synthesized, synthFixture } from '../../support/cdk-synth.ts';
import { BUNDLES, tempDir } from '../../support/deploy-manifests.ts';

const synthesized: Record<string, Synthesized> = Object.fromEntries(
  Object.keys(BUNDLES).map((name) => [name, synthFixture(name)]),
);

describe('IAM of every synthesized template', () => {
  it.each(Object.keys(BUNDLES))(
    '%s: no wildcard action, "*" resources only for the allow-listed actions',
    (name) => {
      expect(iamFindings(synthesized[name]!.template)).toEqual([]);
    },
  );

  it('uses "*" where AWS requires it, and only there: EC2 Describe actions of a function in a VPC or a Kafka mapping', () => {
    const starred = new Set<string>();
    for (const { template } of Object.values(synthesized)) {
      for (const r of Object.values(template.Resources ?? {})) {
        for (const p of (r.Properties?.Policies ?? []) as {
          PolicyDocument: { Statement: { Action: string[]; Resource: unknown[] }[] };
        }[]) {
          for (const s of p.PolicyDocument.Statement)
            if (s.Resource.includes('*')) for (const a of s.Action) starred.add(a);
        }
      }
    }
    expect([...starred].sort()).toEqual(Object.keys(WILDCARD_RESOURCE_ACTIONS).sort());
  });

  it('finds a wildcard action, an unexplained "*" resource and a managed policy', () => {
    const template = {
      Resources: {
        Role: {
          Type: 'AWS::IAM::Role',
          Properties: {
            ManagedPolicyArns: ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
            Policies: [
              {
                PolicyDocument: {
                  Statement: [
                    {
                      Sid: 'A',
                      Effect: 'Allow',
                      Action: ['dynamodb:*'],
                      Resource: ['arn:aws:dynamodb:::table/t'],
                    },
                    { Sid: 'B', Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: '*' },
                    { Sid: 'C', Effect: 'Allow', Action: ['ec2:DescribeSubnets'], Resource: ['*'] },
                  ],
                },
              },
            ],
          },
        },
      },
    };
    expect(iamFindings(template)).toEqual([
      'Role: managed policy "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole" attached (not least privilege)',
      'Role A: wildcard action dynamodb:*',
      'Role B: logs:PutLogEvents on Resource "*"',
    ]);
  });
});

describe(`cfn-lint ${CFN_LINT_VERSION}`, () => {
  beforeAll(async () => {
    await ensureCfnLint(); // first run only: python3 -m venv + pip install (PyPI)
  }, 600_000);

  it('reports zero errors on every synthesized template', async () => {
    const paths = Object.values(synthesized).map((s) => s.templatePath);
    const matches = await cfnLint(paths);
    const warnings = matches.filter((m) => m.Level !== 'Error');
    if (warnings.length > 0) console.log(`cfn-lint warnings:\n${warnings.map(formatMatch).join('\n')}`);
    expect(matches.filter((m) => m.Level === 'Error').map(formatMatch)).toEqual([]);
  }, 300_000);

  it('reports an error cfn-lint knows (so a clean run means something)', async () => {
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const broken = structuredClone(synthesized.quickstart!.template) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const fn = Object.values(broken.Resources).find((r) => r.Type === 'AWS::Lambda::Function')!;
    fn.Properties.Runtime = 'nodejs9.x';
    const path = join(tempDir('connect-fn-lint-'), 'broken.template.json');
    writeFileSync(path, JSON.stringify(broken));
    const errors = (await cfnLint([path])).filter((m) => m.Level === 'Error');
    expect(errors.map((m) => m.Rule.Id)).toContain('E3030');
  }, 300_000);
});
