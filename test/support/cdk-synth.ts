/**
 * Synthesizes a package directory with the CDK stack, in-process, into a temp cloud assembly: the template
 * as JSON and its path (for cfn-lint). `synthFixture` does it for a fixture bundle of
 * test/support/deploy-manifests.ts.
 */
import { App } from 'aws-cdk-lib';
import { ConnectFnStack } from '../../infra/lib/connect-fn-stack.ts';
import type { DeploymentOptions } from '../../infra/lib/plan.ts';
import type { CfnTemplate } from '../../infra/lib/shape.ts';
import { BUNDLES, tempDir, writePackageDir } from './deploy-manifests.ts';

export interface Synthesized {
  readonly stack: ConnectFnStack;
  readonly template: CfnTemplate & Record<string, unknown>;
  readonly templatePath: string;
}

/** The fixture bundle `name`, with its options (or `options` instead). */
export function synthFixture(name: string, options?: DeploymentOptions): Synthesized {
  const bundle = BUNDLES[name];
  if (bundle === undefined) throw new Error(`no fixture bundle ${name}`);
  return synthPackage(`connect-fn-${name}`, writePackageDir(bundle.manifests), options ?? bundle.options);
}

/** The output of `connect-fn package` in `packageDir`, deployed with `options`, as stack `stackName`. */
export function synthPackage(stackName: string, packageDir: string, options: DeploymentOptions): Synthesized {
  const app = new App({ outdir: tempDir('connect-fn-cdk-out-') });
  const stack = new ConnectFnStack(app, stackName, { connectors: { packageDir, ...options } });
  const artifact = app.synth().getStackByName(stack.stackName);
  return { stack, template: artifact.template, templatePath: artifact.templateFullPath };
}
