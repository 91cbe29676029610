/**
 * cfn-lint on the templates `osls package` makes of serverless.yml for every connector kind, trigger and
 * offsets storage: no error. In the integration tier because the first run installs cfn-lint from PyPI
 * (infra/tools/cfn-lint.ts caches it under ~/.cache/connect-fn/cfn-lint/).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cfnLint, formatMatch } from '../../../infra/tools/cfn-lint.ts';
import {
  BUNDLES,
  MSK_CLUSTER_ARN,
  SCRAM_SECRET_ARN,
  writePackageDir,
} from '../../support/deploy-manifests.ts';
import { oslsPackage } from '../../support/osls.ts';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'connect-fn-sls-lint-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('cfn-lint on the Serverless templates', () => {
  it('finds no error in the MSK bundle (sources, scheduled and triggered sinks, offsets table, MSK IAM)', async () => {
    const dir = writePackageDir(BUNDLES['msk-every-kind']!.manifests, join(work, 'msk'));
    const { templatePath } = await oslsPackage(
      dir,
      { mskClusterArn: MSK_CLUSTER_ARN },
      join(work, 'out-msk'),
    );
    expect((await cfnLint([templatePath])).map(formatMatch)).toEqual([]);
  });

  it('finds no error in the self-managed bundle (SASL/SCRAM mapping in a VPC)', async () => {
    const dir = writePackageDir(BUNDLES['self-managed-scram']!.manifests, join(work, 'self-managed'));
    const params = {
      bootstrapServers: 'b-1.kafka.internal:9096',
      kafkaSecretArn: SCRAM_SECRET_ARN,
      subnetIds: 'subnet-0a1b2c3d',
      securityGroupIds: 'sg-0123abcd',
      KAFKA_BROKERS: 'b-1.kafka.internal:9096',
      KAFKA_PASSWORD: 'payments-password',
    };
    const { templatePath } = await oslsPackage(dir, params, join(work, 'out-self-managed'));
    expect((await cfnLint([templatePath])).map(formatMatch)).toEqual([]);
  });

  it('reports an error it is shown (the check can fail)', async () => {
    const dir = writePackageDir(BUNDLES['msk-every-kind']!.manifests.slice(0, 1), join(work, 'broken'));
    const { templatePath } = await oslsPackage(
      dir,
      { mskClusterArn: MSK_CLUSTER_ARN },
      join(work, 'out-broken'),
    );
    const template = JSON.parse(readFileSync(templatePath, 'utf8'));
    template.Resources.OrdersDashdatagenSchedule0.Properties.FlexibleTimeWindow.Mode = 'SOMETIMES';
    writeFileSync(templatePath, JSON.stringify(template));
    const errors = (await cfnLint([templatePath])).filter((m) => m.Level === 'Error').map(formatMatch);
    expect(errors.join('\n')).toMatch(
      /E\d+ Error Resources\.OrdersDashdatagenSchedule0\.Properties\.FlexibleTimeWindow\.Mode: 'SOMETIMES'/,
    );
  });
});
