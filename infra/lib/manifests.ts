/**
 * Reads the output of `connect-fn package <bundle> --out DIR`: one `DIR/<connector>/manifest.json` (a
 * {@link ConnectorManifest}) and the zip it names beside it, per connector. Each manifest is checked against
 * the contract (src/deploy/manifest.ts) and its zip against the manifest's sha256, so a template is never
 * made of a half-written or stale package. Pure TypeScript (node:fs, zod), shared by the CDK construct and
 * the Serverless derivation; throws {@link DeployConfigError} naming the file at fault.
 * @module
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
import { DeployConfigError } from './errors.ts';

/** What the plan needs of a packaged connector: its manifest and the absolute path of its zip. */
export interface PackagedConnector {
  readonly manifest: ConnectorManifest;
  readonly artifactPath: string;
}

/** A connector as read from a package directory: also where its manifest is. */
export interface ReadConnector extends PackagedConnector {
  readonly manifestPath: string;
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
  kafka: object({
    securityProtocol: string(),
    saslMechanism: string().nullable(),
    iam: boolean(),
    clientCertificate: boolean().default(false),
    privateCa: boolean().default(false),
  }),
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

/** Every connector of `dir`, sorted by name. */
export function loadPackageDir(dir: string): ReadConnector[] {
  const root = resolve(dir);
  let dirs: string[];
  try {
    dirs = readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DeployConfigError(
      `package directory ${root}: ${code === 'ENOENT' ? 'does not exist' : (err as Error).message}; run \`connect-fn package <bundle> --out ${dir}\` first, or point the option package (or CONNECT_FN_PACKAGE_DIR) at its output`,
    );
  }
  if (dirs.length === 0) {
    throw new DeployConfigError(
      `package directory ${root}: no connector in it; run \`connect-fn package <bundle> --out ${dir}\``,
    );
  }
  return dirs.sort().map((name) => readConnector(root, name));
}

function readConnector(dir: string, name: string): ReadConnector {
  const manifestPath = join(dir, name, 'manifest.json');
  const manifest = parseManifest(manifestPath, readText(manifestPath));
  if (manifest.connector !== name) {
    throw new DeployConfigError(
      `${manifestPath}: connector is ${JSON.stringify(manifest.connector)}, expected ${JSON.stringify(name)} (its directory)`,
    );
  }
  const artifactPath = join(dir, name, manifest.artifact.file);
  checkArtifact(manifestPath, artifactPath, manifest.artifact.sha256);
  return { manifest, manifestPath, artifactPath };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DeployConfigError(
      `${path}: ${code === 'ENOENT' ? 'missing (every connector directory holds one)' : (err as Error).message}`,
    );
  }
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
      `${path}: manifestVersion ${JSON.stringify(version)}, expected ${MANIFEST_VERSION}; package the bundle again with this version of connect-fn`,
    );
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new DeployConfigError(`${path}: not a connector manifest:\n  ${issues.join('\n  ')}`);
  }
  return parsed.data;
}

function checkArtifact(manifestPath: string, artifactPath: string, sha256: string): void {
  let bytes: Buffer;
  try {
    bytes = readFileSync(artifactPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DeployConfigError(
      `${artifactPath}: ${code === 'ENOENT' ? `missing, named by ${manifestPath}` : (err as Error).message}`,
    );
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256) {
    throw new DeployConfigError(
      `${artifactPath}: sha256 ${actual}, but ${manifestPath} says ${sha256}: the package is stale or half-written; run connect-fn package again`,
    );
  }
}
