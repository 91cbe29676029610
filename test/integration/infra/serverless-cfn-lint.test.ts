/**
 * cfn-lint on the templates `osls package` makes of serverless.yml for every connector kind, trigger and
 * offsets storage: no error. In the integration tier because the first run installs cfn-lint from PyPI
 * (test/support/cfn-lint.ts caches it under ~/.cache/connect-fn/cfn-lint/).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cfnLint } from '../../support/cfn-lint.ts';
import {
  MSK_CLUSTER_ARN,
  mskBundle,
  SASL_SECRET_ARN,
  selfManagedBundle,
  writePackageDir,
} from '../../support/deploy-fixtures.ts';
import { oslsPackage } from '../../support/osls.ts';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'connect-fn-sls-lint-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('cfn-lint on the Serverless templates', () => {
  it('finds no error in the MSK bundle (sources, scheduled and triggered sinks, offsets table, MSK IAM)', async () => {
    const dir = writePackageDir(join(work, 'msk'), mskBundle);
    const { templatePath } = await oslsPackage(
      dir,
      { mskClusterArn: MSK_CLUSTER_ARN },
      join(work, 'out-msk'),
    );
    const { errors, warnings } = await cfnLint(templatePath);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('finds no error in the self-managed bundle (SASL/SCRAM mapping in a VPC)', async () => {
    const dir = writePackageDir(join(work, 'self-managed'), selfManagedBundle);
    const params = {
      bootstrapServers: 'b-1.kafka.internal:9096',
      kafkaSecretArn: SASL_SECRET_ARN,
      subnetIds: 'subnet-0a1b2c3d',
      securityGroupIds: 'sg-0123abcd',
      KAFKA_USERNAME: 'connect',
      KAFKA_PASSWORD: 'audit-password',
    };
    const { templatePath } = await oslsPackage(dir, params, join(work, 'out-self-managed'));
    const { errors, warnings } = await cfnLint(templatePath);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('reports an error it is shown (the check can fail)', async () => {
    const dir = writePackageDir(join(work, 'broken'), mskBundle.slice(0, 1));
    const { templatePath } = await oslsPackage(
      dir,
      { mskClusterArn: MSK_CLUSTER_ARN },
      join(work, 'out-broken'),
    );
    const template = JSON.parse(readFileSync(templatePath, 'utf8'));
    template.Resources.OrdersDashdatagenSchedule0.Properties.FlexibleTimeWindow.Mode = 'SOMETIMES';
    writeFileSync(templatePath, JSON.stringify(template));
    const { errors } = await cfnLint(templatePath);
    expect(errors.join('\n')).toMatch(
      /OrdersDashdatagenSchedule0\.Properties\.FlexibleTimeWindow\.Mode: 'SOMETIMES'/,
    );
  });
});
