/**
 * The two IaC paths deploy the same thing for the same package directory: the CDK app's template and the
 * one `osls package` makes of serverless.yml have equal {@link deploymentShape}s — functions (settings,
 * environment, VPC, log group, retries and every IAM action/resource pair of their roles), schedules,
 * event source mappings, tables, alarms and metric filters. Both render one plan (infra/lib/plan.ts); this
 * holds the renderers to it.
 *
 * The package directories are those of {@link packageSources}: every fixture bundle, and the real
 * `connect-fn package examples/quickstart`.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentOptions } from '../../../infra/lib/plan.ts';
import { type CfnTemplate, deploymentShape } from '../../../infra/lib/shape.ts';
import { synthPackage } from '../../support/cdk-synth.ts';
import { BUNDLES, tempDir, writePackageDir } from '../../support/deploy-manifests.ts';
import { oslsPackage } from '../../support/osls.ts';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '../../..');
const TIMEOUT_MS = 300_000;

/** A package directory, made on demand, and the deployment options a user gives both IaC paths for it. */
interface PackageSource {
  readonly name: string;
  readonly packageDir: () => Promise<string>;
  readonly options: DeploymentOptions;
}

const QUICKSTART_ENVIRONMENT = {
  KAFKA_BROKERS: 'b-1.kafka.internal:9092',
  DYNAMODB_ENDPOINT: 'https://dynamodb.eu-west-1.amazonaws.com',
};

/** `connect-fn package <bundle> --out DIR`, with the values of the bundle's `${env:...}` set while packaging. */
async function connectFnPackage(bundle: string, environment: Record<string, string>): Promise<string> {
  const out = tempDir('connect-fn-package-');
  await run(process.execPath, ['bin/connect-fn.mjs', 'package', bundle, '--out', out], {
    cwd: REPO,
    env: { ...process.env, ...environment },
  });
  return out;
}

/** Every package directory compared: the fixture bundles, and the quickstart as `connect-fn package` makes it. */
function packageSources(): PackageSource[] {
  const fixtures = Object.entries(BUNDLES).map(([name, bundle]) => ({
    name,
    packageDir: async () => writePackageDir(bundle.manifests),
    options: bundle.options,
  }));
  const quickstart = {
    name: 'examples/quickstart (connect-fn package)',
    packageDir: () => connectFnPackage('examples/quickstart', QUICKSTART_ENVIRONMENT),
    options: { environment: QUICKSTART_ENVIRONMENT },
  };
  return [...fixtures, quickstart];
}

/** The deployment options as osls parameters (the same names as the CDK app's context). */
function oslsParams(options: DeploymentOptions): Record<string, string> {
  const params: Record<string, string> = { ...options.environment };
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined) params[name] = value;
  };
  set('prefix', options.prefix);
  set('logRetentionDays', options.logRetentionDays?.toString());
  set('subnetIds', options.vpc?.subnetIds.join(','));
  set('securityGroupIds', options.vpc?.securityGroupIds.join(','));
  const kafka = options.kafka;
  set('mskClusterArn', kafka?.type === 'msk' ? kafka.clusterArn : undefined);
  set('bootstrapServers', kafka?.type === 'self-managed' ? kafka.bootstrapServers.join(',') : undefined);
  set('kafkaSecretArn', kafka?.secretArn);
  set('kafkaSecretKmsKeyArn', kafka?.secretKmsKeyArn);
  set('kafkaClientCertificateSecretArn', kafka?.clientCertificateSecretArn);
  set('kafkaRootCaSecretArn', kafka?.rootCaSecretArn);
  return params;
}

interface Rendered {
  readonly cdk: CfnTemplate;
  readonly serverless: CfnTemplate;
}

const sources = packageSources();
const rendered = new Map<string, Rendered>();

beforeAll(async () => {
  for (const source of sources) {
    const dir = await source.packageDir();
    const cdk = synthPackage('connect-fn', dir, source.options).template;
    const out = join(tempDir('connect-fn-sls-'), 'out');
    const { template } = await oslsPackage(dir, oslsParams(source.options), out);
    rendered.set(source.name, { cdk, serverless: template });
  }
}, TIMEOUT_MS);

describe('the CDK app and serverless.yml', () => {
  it.each(sources.map((s) => s.name))('deploy the same for %s', (name) => {
    const { cdk, serverless } = rendered.get(name)!;
    const shape = deploymentShape(cdk);
    expect(Object.keys(shape.functions).length).toBeGreaterThan(0);
    expect(deploymentShape(serverless)).toEqual(shape);
  });

  it('differ when one path drops a schedule or an IAM statement', () => {
    const { cdk, serverless } = rendered.get('quickstart')!;
    const dropped = (
      edit: (r: Record<string, { Type: string; Properties: Record<string, unknown> }>) => void,
    ) => {
      const copy = structuredClone(serverless) as {
        Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      };
      edit(copy.Resources);
      return deploymentShape(copy);
    };
    const noSchedule = dropped((r) => {
      const id = Object.keys(r).find((k) => r[k]!.Type === 'AWS::Scheduler::Schedule')!;
      delete r[id];
    });
    expect(noSchedule).not.toEqual(deploymentShape(cdk));
    const noStatement = dropped((r) => {
      const role = Object.values(r).find((x) => JSON.stringify(x).includes('dynamodbstreams1'))!;
      const [policy] = role.Properties.Policies as { PolicyDocument: { Statement: { Sid: string }[] } }[];
      policy!.PolicyDocument.Statement = policy!.PolicyDocument.Statement.filter(
        (s) => s.Sid !== 'dynamodbstreams1',
      );
    });
    expect(noStatement).not.toEqual(deploymentShape(cdk));
  });
});
