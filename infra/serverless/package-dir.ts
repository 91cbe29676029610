/**
 * Reads the output of `connect-fn package <bundle> --out DIR`: one `DIR/<connector>/manifest.json` and its
 * zip per connector. Each manifest is checked against the contract (src/deploy/manifest.ts) and its zip
 * against the manifest's sha256, so a template is never derived from a half-written or stale package.
 * @module
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  array,
  boolean,
  enum as enumOf,
  literal,
  number,
  object,
  record,
  string,
  union,
  type ZodType,
} from 'zod';
import { type ConnectorManifest, MANIFEST_VERSION } from '../../src/deploy/manifest.ts';
import { DeployConfigError } from '../lib/errors.ts';

/** A connector of the package directory: its manifest and the absolute path of its zip. */
export interface PackagedConnector {
  readonly manifest: ConnectorManifest;
  readonly manifestPath: string;
  readonly artifactPath: string;
}

const names = array(string());
const permission = union([
  object({
    service: enumOf(['dynamodb', 'dynamodb-streams']),
    actions: names,
    tables: names,
    reason: string(),
  }),
  object({
    service: literal('kafka-cluster'),
    actions: names,
    resource: enumOf(['cluster', 'topic', 'group', 'transactional-id']),
    names,
    reason: string(),
  }),
]);

const manifestSchema = object({
  manifestVersion: literal(MANIFEST_VERSION),
  // Lambda's 64 characters, less the schedules' "-task-<N>" (Scheduler's names have 64 too).
  connector: string().regex(/^[A-Za-z0-9_-]{1,55}$/, 'a function name: 1-55 of A-Z a-z 0-9 _ -'),
  plugin: string(),
  connectorClass: string(),
  kind: enumOf(['source', 'sink']),
  trigger: enumOf(['schedule', 'kafka']),
  schedule: string().nullable(),
  tasks: number().int().min(1),
  topics: names,
  topicsRegex: string().nullable(),
  function: object({
    handler: string(),
    runtime: literal('nodejs22.x'),
    architecture: literal('arm64'),
    memoryMb: number().int().min(128).max(10240),
    timeoutSeconds: number().int().min(1).max(900),
    environment: record(string(), string()),
    requiredEnvironment: names,
  }),
  artifact: object({
    file: string().regex(/^[A-Za-z0-9._-]+\.zip$/, "a zip file name in the connector's directory"),
    sha256: string().regex(/^[0-9a-f]{64}$/),
    bytes: number().int(),
  }),
  kafka: object({ securityProtocol: string(), saslMechanism: string().nullable(), iam: boolean() }),
  offsets: object({
    storage: enumOf(['kafka', 'dynamodb', 'file']),
    topic: string().nullable(),
    table: string().nullable(),
  }),
  eventSource: object({
    topics: names,
    consumerGroupId: string(),
    batchSize: number().int().min(1),
    startingPosition: enumOf(['TRIM_HORIZON', 'LATEST']),
  }).nullable(),
  permissions: array(permission),
}) satisfies ZodType<ConnectorManifest>;

/** Every connector of `dir`, sorted by name; throws {@link DeployConfigError} naming the file at fault. */
export async function readPackageDir(dir: string): Promise<PackagedConnector[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    throw new DeployConfigError(
      `package directory ${dir}: ${err.code === 'ENOENT' ? 'does not exist' : err.message}; run \`connect-fn package <bundle> --out ${dir}\` first, or point the parameter package (or CONNECT_FN_PACKAGE_DIR) at its output`,
    );
  });
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  if (dirs.length === 0) {
    throw new DeployConfigError(
      `package directory ${dir}: no connector in it; run \`connect-fn package <bundle> --out ${dir}\``,
    );
  }
  const connectors = await Promise.all(dirs.sort().map((name) => readConnector(dir, name)));
  refuseSharedZipNames(connectors);
  return connectors;
}

/** osls uploads every zip under its file name: two of one name would deploy one connector's code twice. */
function refuseSharedZipNames(connectors: readonly PackagedConnector[]): void {
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

async function readConnector(dir: string, name: string): Promise<PackagedConnector> {
  const manifestPath = join(dir, name, 'manifest.json');
  const manifest = parseManifest(manifestPath, await readText(manifestPath));
  if (manifest.connector !== name) {
    throw new DeployConfigError(
      `${manifestPath}: connector is ${JSON.stringify(manifest.connector)}, expected ${JSON.stringify(name)} (its directory)`,
    );
  }
  const artifactPath = join(dir, name, manifest.artifact.file);
  await checkArtifact(manifestPath, artifactPath, manifest.artifact.sha256);
  return { manifest, manifestPath, artifactPath };
}

async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new DeployConfigError(
      `${path}: ${err.code === 'ENOENT' ? 'missing (every connector directory holds one)' : err.message}`,
    );
  });
}

function parseManifest(path: string, text: string): ConnectorManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DeployConfigError(`${path}: not JSON (${(err as Error).message})`);
  }
  const version = (json as { manifestVersion?: unknown } | null)?.manifestVersion;
  if (version !== MANIFEST_VERSION) {
    throw new DeployConfigError(
      `${path}: manifestVersion ${JSON.stringify(version)}, this derivation reads ${MANIFEST_VERSION}; package the bundle again with this version of connect-fn`,
    );
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new DeployConfigError(`${path}: not a connector manifest:\n  ${issues.join('\n  ')}`);
  }
  return parsed.data;
}

async function checkArtifact(manifestPath: string, artifactPath: string, sha256: string): Promise<void> {
  const bytes = await readFile(artifactPath).catch((err: NodeJS.ErrnoException) => {
    throw new DeployConfigError(
      `${artifactPath}: ${err.code === 'ENOENT' ? `missing, named by ${manifestPath}` : err.message}`,
    );
  });
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256) {
    throw new DeployConfigError(
      `${artifactPath}: sha256 ${actual}, but ${manifestPath} says ${sha256}: the package is stale or half-written; run connect-fn package again`,
    );
  }
}
