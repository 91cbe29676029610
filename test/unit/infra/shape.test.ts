import { describe, expect, it } from 'vitest';
import { deploymentShape } from '../../../infra/lib/shape.ts';
import { synthFixture } from '../../support/cdk-synth.ts';

/** The template with every logical id renamed (as another IaC tool would name them). */
function renamed(template: object): object {
  let text = JSON.stringify(template);
  const ids = Object.keys((template as { Resources: object }).Resources);
  ids.forEach((id, i) => {
    text = text.replaceAll(`"${id}"`, `"Other${i}"`);
  });
  return JSON.parse(text);
}

describe('deploymentShape', () => {
  const { template } = synthFixture('msk-iam');
  const shape = deploymentShape(template);

  it("lists functions, schedules, mappings, alarms and each function role's action/resource pairs", () => {
    expect(Object.keys(shape.functions).sort()).toEqual(['orders', 'orders-archive']);
    expect(shape.functions['orders-archive']).toMatchObject({
      runtime: 'nodejs22.x',
      architectures: ['arm64'],
      logGroup: '/aws/lambda/orders-archive',
      logRetentionDays: 30,
      asyncMaximumRetryAttempts: null,
    });
    expect(shape.functions['orders-archive']!.iam).toContain(
      'kafka-cluster:ReadData arn:aws:kafka:eu-west-1:123456789012:topic/prod-kafka/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d-2/orders',
    );
    expect(shape.schedules['orders-task-0']).toMatchObject({
      target: 'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:orders',
      input: '{"task":0}',
      iam: [
        'lambda:InvokeFunction arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:orders',
      ],
    });
    expect(shape.mappings).toEqual([
      expect.objectContaining({
        function: 'orders-archive',
        topics: ['orders'],
        consumerGroupId: 'connect-orders-archive',
      }),
    ]);
    expect(Object.keys(shape.alarms)).toHaveLength(6);
  });

  it('does not depend on logical ids', () => {
    expect(deploymentShape(renamed(template))).toEqual(shape);
  });

  it("reads a role's statements from attached AWS::IAM::Policy resources as from its inline policies", () => {
    const moved = structuredClone(template) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    for (const [id, r] of Object.entries(moved.Resources)) {
      if (r.Type !== 'AWS::IAM::Role') continue;
      const [policy] = r.Properties.Policies as { PolicyDocument: unknown }[];
      delete r.Properties.Policies;
      moved.Resources[`${id}Attached`] = {
        Type: 'AWS::IAM::Policy',
        Properties: { PolicyName: 'p', Roles: [{ Ref: id }], PolicyDocument: policy!.PolicyDocument },
      };
    }
    expect(deploymentShape(moved)).toEqual(shape);
  });

  it('differs when what is deployed differs', () => {
    const changed = structuredClone(template) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const role = Object.values(changed.Resources).find(
      (r) => r.Type === 'AWS::IAM::Role' && JSON.stringify(r).includes('connect-orders-archive'),
    )!;
    const policies = role.Properties.Policies as {
      PolicyDocument: { Statement: { Sid: string; Resource: string[] }[] };
    }[];
    policies[0]!.PolicyDocument.Statement.find((s) => s.Sid === 'kafkacluster2')!.Resource = [
      'arn:aws:kafka:::group/x/y/*',
    ];
    expect(deploymentShape(changed).functions['orders-archive']!.iam).not.toEqual(
      shape.functions['orders-archive']!.iam,
    );
  });
});
