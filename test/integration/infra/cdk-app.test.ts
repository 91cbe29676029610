/**
 * The CDK app as a user runs it: `npx cdk synth` in infra/ (offline: no notices, no telemetry, an
 * environment-agnostic stack), on the quickstart-like fixture package.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { deploymentOptions } from '../../../infra/lib/context-options.ts';
import { deploymentShape } from '../../../infra/lib/shape.ts';
import { cfnLint, formatMatch } from '../../../infra/tools/cfn-lint.ts';
import { synthFixture } from '../../support/cdk-synth.ts';
import { BUNDLES, MSK_CLUSTER_ARN, tempDir, writePackageDir } from '../../support/deploy-manifests.ts';

const run = promisify(execFile);
const INFRA = join(import.meta.dirname, '../../../infra');

async function cdkSynth(context: Record<string, string>): Promise<{ out: string; stderr: string }> {
  const out = tempDir('connect-fn-cdk-cli-');
  const args = ['cdk', 'synth', '--no-notices', '--no-version-reporting', '--quiet', '-o', out];
  for (const [key, value] of Object.entries(context)) args.push('-c', `${key}=${value}`);
  const { stderr } = await run('npx', args, {
    cwd: INFRA,
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
  });
  return { out, stderr };
}

describe('npx cdk synth (infra/cdk.json)', () => {
  it("synthesizes the quickstart package into a template equal to the construct's, and cfn-lint finds no error", async () => {
    const bundle = BUNDLES.quickstart!;
    const { out } = await cdkSynth({
      package: writePackageDir(bundle.manifests),
      environment: JSON.stringify(bundle.options.environment),
    });
    const path = join(out, 'connect-fn.template.json');
    const template = JSON.parse(readFileSync(path, 'utf8'));
    expect(Object.keys(deploymentShape(template).functions).sort()).toEqual([
      'orders',
      'orders-changes',
      'orders-table',
    ]);
    expect(deploymentShape(template)).toEqual(deploymentShape(synthFixture('quickstart').template));
    const errors = (await cfnLint([path])).filter((m) => m.Level === 'Error');
    expect(errors.map(formatMatch)).toEqual([]);
  }, 300_000);

  it('fails, naming the connector and the variable, when a required environment value is missing', async () => {
    const failure = await cdkSynth({ package: writePackageDir(BUNDLES.quickstart!.manifests) }).then(
      () => undefined,
      (err: { stderr: string }) => err,
    );
    expect(failure?.stderr).toContain('connector orders reads ${env:KAFKA_BROKERS}');
  }, 300_000);
});

describe("deploymentOptions (the app's context)", () => {
  const from = (context: Record<string, string>) => deploymentOptions((key) => context[key]);

  it('reads MSK, VPC, environment, prefix and retention', () => {
    expect(
      from({
        mskClusterArn: MSK_CLUSTER_ARN,
        subnetIds: 'subnet-1, subnet-2',
        securityGroupIds: 'sg-1',
        environment: '{"KAFKA_BROKERS":"b:9098"}',
        prefix: 'prod-',
        logRetentionDays: '90',
      }),
    ).toEqual({
      prefix: 'prod-',
      kafka: { type: 'msk', clusterArn: MSK_CLUSTER_ARN },
      vpc: { subnetIds: ['subnet-1', 'subnet-2'], securityGroupIds: ['sg-1'] },
      environment: { KAFKA_BROKERS: 'b:9098' },
      logRetentionDays: 90,
    });
  });

  it('reads self-managed bootstrap servers and the secret', () => {
    expect(from({ bootstrapServers: 'k1:9096,k2:9096', kafkaSecretArn: 'arn:secret' })).toEqual({
      kafka: { type: 'self-managed', bootstrapServers: ['k1:9096', 'k2:9096'], secretArn: 'arn:secret' },
    });
  });

  it('refuses both clusters, half a VPC, a secret without a cluster and an environment that is not an object', () => {
    expect(() => from({ mskClusterArn: MSK_CLUSTER_ARN, bootstrapServers: 'k:9092' })).toThrow(/not both/);
    expect(() => from({ subnetIds: 'subnet-1' })).toThrow(/both subnetIds and securityGroupIds/);
    expect(() => from({ kafkaSecretArn: 'arn:secret' })).toThrow(/need mskClusterArn or bootstrapServers/);
    expect(() => from({ environment: '["x"]' })).toThrow(/JSON object/);
    expect(() => from({ environment: '{"A":1}' })).toThrow(/A must be a string/);
  });
});
