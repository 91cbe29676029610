/**
 * What serverless.yml includes: `${file(./infra/serverless/derive.cjs):functions}` and `:resources`. osls
 * calls them with its variable resolver; this reads the deployment's parameters through it, the package
 * directory named by `package` (or env `CONNECT_FN_PACKAGE_DIR`, or `dist`, relative to serverless.yml),
 * and derives the service.
 * @module
 */
import { resolve } from 'node:path';
import { readPackageDir } from './package-dir.ts';
import { deriveService, type ServerlessService } from './service.ts';
import { readSettings } from './settings.ts';

/** The part of osls' context a JS variable source receives that the derivation uses. */
export interface OslsContext {
  resolveVariable(variable: string): Promise<unknown>;
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
  return deriveService(connectors, await readSettings(param, variables));
}
