/**
 * Reads the output of `connect-fn package <bundle> --out DIR`: one `DIR/<connector>/manifest.json` (a
 * {@link ConnectorManifest}) and the zip it names beside it, per connector. Pure TypeScript (node:fs only),
 * shared by the CDK construct and the Serverless derivation.
 * @module
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ConnectorManifest, MANIFEST_VERSION } from '../../src/deploy/manifest.ts';

/** A manifest and the absolute path of its artifact. */
export interface PackagedConnector {
  readonly manifest: ConnectorManifest;
  readonly artifactPath: string;
}

/** Every `<dir>/<connector>/manifest.json`, sorted by connector; throws naming the file and what is wrong. */
export function loadPackageDir(dir: string): PackagedConnector[] {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new Error(`${root}: expected the output directory of \`connect-fn package\`, which does not exist`);
  }
  const found = readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, entry.name, 'manifest.json')))
    .map((entry) => readPackagedConnector(join(root, entry.name)));
  if (found.length === 0) {
    throw new Error(
      `${root}: no <connector>/manifest.json in it; run \`connect-fn package <bundle> --out ${dir}\``,
    );
  }
  return found.sort((a, b) => a.manifest.connector.localeCompare(b.manifest.connector));
}

/** One connector's directory: its manifest, checked for the version this code reads, and its zip. */
export function readPackagedConnector(connectorDir: string): PackagedConnector {
  const file = join(connectorDir, 'manifest.json');
  let manifest: ConnectorManifest;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8')) as ConnectorManifest;
  } catch (err) {
    throw new Error(`${file}: not readable JSON`, { cause: err });
  }
  if (manifest.manifestVersion !== MANIFEST_VERSION) {
    throw new Error(
      `${file}: manifestVersion ${JSON.stringify(manifest.manifestVersion)}, expected ${MANIFEST_VERSION}; package the bundle again with this version of connect-fn`,
    );
  }
  const artifactPath = join(connectorDir, manifest.artifact.file);
  if (!existsSync(artifactPath)) {
    throw new Error(`${file}: artifact.file ${manifest.artifact.file} is not beside the manifest`);
  }
  return { manifest, artifactPath };
}
