/**
 * What serverless.yml includes: `${file(./infra/serverless/derive.cjs):functions}` and `:resources`. osls
 * calls them with its variable resolver; this reads the deployment's parameters through it, the package
 * directory named by `package` (or env `CONNECT_FN_PACKAGE_DIR`, or `dist`, relative to serverless.yml),
 * and derives the service.
 * @module
 */
import { resolve } from 'node:path';
import { DeployConfigError } from '../lib/errors.ts';
import { readPackageDir } from './package-dir.ts';
import { deriveService, type ServerlessService } from './service.ts';
import { readSettings, SETTING_PARAMS } from './settings.ts';

/** The part of osls' context a JS variable source receives that the derivation uses. */
export interface OslsContext {
  resolveVariable(variable: string): Promise<unknown>;
  /** The command line's options; `param` holds each `--param="name=value"`. */
  readonly options?: { readonly param?: readonly string[] | null };
}

export async function deriveFromOsls(context: OslsContext, serviceDir: string): Promise<ServerlessService> {
  const param = async (name: string): Promise<string | null> => {
    const value = await context.resolveVariable(`param:${name}, null`);
    return value === null || value === undefined ? null : String(value);
  };
  const packageDir = resolve(
    serviceDir,
    (await param('package')) ?? process.env.CONNECT_FN_PACKAGE_DIR ?? 'dist',
  );
  const connectors = await readPackageDir(packageDir);
  const variables = connectors.flatMap((c) => c.manifest.function.requiredEnvironment);
  refuseUnknownParams(context.options?.param ?? [], variables);
  return deriveService(connectors, await readSettings(param, variables));
}

/**
 * A `--param` that is neither a deployment setting nor a variable the package's bundles read would change
 * nothing (a misspelt `subnetIds` would deploy outside the VPC): it is refused, naming it, never its value.
 * (Parameters of a `params:` block may serve other plugins and are not checked.)
 */
function refuseUnknownParams(given: readonly string[], variables: readonly string[]): void {
  const known = new Set([...SETTING_PARAMS, ...variables]);
  const unknown = given.map((p) => p.split('=')[0] ?? '').filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new DeployConfigError(
      `--param ${unknown.join(', ')}: not a deployment parameter (${SETTING_PARAMS.join(', ')}) nor a variable the bundles read (${[...new Set(variables)].sort().join(', ') || 'none'})`,
    );
  }
}
