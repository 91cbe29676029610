/**
 * The package directory as osls deploys it: read and checked as the CDK app reads it
 * (infra/lib/manifests.ts), and refused when two connectors' zips share a file name, because osls uploads
 * every zip under its file name.
 * @module
 */
import { DeployConfigError } from '../lib/errors.ts';
import { loadPackageDir, type ReadConnector } from '../lib/manifests.ts';

/** Every connector of `dir`, sorted by name; rejects with {@link DeployConfigError} naming the file at fault. */
export async function readPackageDir(dir: string): Promise<ReadConnector[]> {
  const connectors = loadPackageDir(dir);
  refuseSharedZipNames(connectors);
  return connectors;
}

/** osls uploads every zip under its file name: two of one name would deploy one connector's code twice. */
function refuseSharedZipNames(connectors: readonly ReadConnector[]): void {
  const seen = new Map<string, string>();
  for (const { manifest, manifestPath } of connectors) {
    const other = seen.get(manifest.artifact.file);
    if (other !== undefined) {
      throw new DeployConfigError(
        `${manifestPath}: artifact ${manifest.artifact.file} has the file name of ${other}'s; osls uploads zips by file name, so each connector's must be its own`,
      );
    }
    seen.set(manifest.artifact.file, manifest.connector);
  }
}
