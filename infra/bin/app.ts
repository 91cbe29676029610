/**
 * The CDK app: deploys the output of `connect-fn package <bundle> --out DIR` as one stack.
 *
 * ```sh
 * cd infra
 * npx cdk synth -c package=../dist -c mskClusterArn=arn:aws:kafka:... -c subnetIds=subnet-1,subnet-2 \
 *   -c securityGroupIds=sg-1 -c environment='{"KAFKA_BROKERS":"b-1...:9098"}'
 * ```
 * Context (`-c key=value`, or `context` in cdk.json): `package` (or env `CONNECT_FN_PACKAGE_DIR`), relative
 * to the directory cdk runs in; `stackName` (default `connect-fn`); `prefix`; `mskClusterArn`, or
 * `bootstrapServers` (comma-separated) for self-managed Kafka; `kafkaSecretArn`, `kafkaSecretKmsKeyArn`,
 * `kafkaClientCertificateSecretArn`, `kafkaRootCaSecretArn`; `subnetIds`,
 * `securityGroupIds` (comma-separated); `environment` (a JSON object); `logRetentionDays`.
 * @module
 */
import { App } from 'aws-cdk-lib';
import { ConnectFnStack } from '../lib/connect-fn-stack.ts';
import { deploymentOptions } from '../lib/context-options.ts';

function main(): void {
  const app = new App();
  const get = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return value === undefined || value === null
      ? undefined
      : typeof value === 'string'
        ? value
        : JSON.stringify(value);
  };
  const packageDir = get('package') ?? process.env.CONNECT_FN_PACKAGE_DIR;
  if (packageDir === undefined) {
    throw new Error(
      'give the package directory: -c package=DIR (or CONNECT_FN_PACKAGE_DIR), the --out of connect-fn package',
    );
  }
  new ConnectFnStack(app, get('stackName') ?? 'connect-fn', {
    description: 'connect-fn connectors (infra/bin/app.ts)',
    connectors: { packageDir, ...deploymentOptions(get) },
  });
  app.synth();
}

try {
  main();
} catch (err) {
  console.error(`connect-fn cdk app: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
