/**
 * `connect-fn package <bundle> [--out DIR] [--connector NAME]`: validates the bundle as `validate` does
 * (any problem: printed the same way, exit 1, nothing written), then writes, per connector,
 * `<out>/<name>/<name>.zip` (the function: src/deploy/artifact.ts) and `<out>/<name>/manifest.json` (what
 * the infrastructure deploys: src/deploy/manifest.ts). Every manifest is derived and every zip built before
 * the first file is written. Progress goes to stderr, one line per connector.
 *
 * Validation runs in the packaging environment; `${env:VAR}` references that are not set there stand for
 * themselves (src/deploy/environment.ts), and every referenced variable is listed in the manifest for the
 * deployment to set. `AWS_REGION`, which Lambda always sets, is assumed when unset.
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Bundle, inspectBundle } from '../config/bundle.ts';
import type { Redactor } from '../config/redaction.ts';
import type { Registry } from '../config/registry.ts';
import { sinkConnectors, sourceConnectors } from '../connectors/builtins.ts';
import { type BuiltCode, buildCode, packageZip } from '../deploy/artifact.ts';
import { type ConsumerReading, type DerivedManifest, deriveManifest } from '../deploy/derive.ts';
import { entryFor } from '../deploy/entry.ts';
import { type BundleEnvironment, requiredEnvironment, scanEnvironment } from '../deploy/environment.ts';
import type { ConnectorManifest } from '../deploy/manifest.ts';
import { boundText, ConfigInvalidError, type ConfigProblem, formatProblem, UsageError } from '../errors.ts';
import {
  checkClientOverrides,
  checkKafkaClientConfig,
  createKafkaClients,
  withClientOverrides,
} from '../kafka/index.ts';
import { type CliIo, checkBundleDir, Exit } from './io.ts';

export const PACKAGE_USAGE = 'usage: connect-fn package <bundle-dir> [--out DIR] [--connector NAME]';

interface PackageArgs {
  readonly dir: string;
  readonly out: string;
  readonly connector: string | undefined;
}

function parseArgs(args: readonly string[]): PackageArgs {
  const positional: string[] = [];
  const options: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--out' || arg === '--connector') {
      const value = args[++i];
      if (value === undefined || value.startsWith('-'))
        throw new UsageError(`${arg} needs a value\n${PACKAGE_USAGE}`);
      options[arg] = value;
    } else if (arg.startsWith('-')) {
      throw new UsageError(`unknown option ${boundText(arg)}\n${PACKAGE_USAGE}`);
    } else positional.push(arg);
  }
  if (positional.length !== 1) throw new UsageError(`expected one bundle directory\n${PACKAGE_USAGE}`);
  const dir = positional[0] as string;
  checkBundleDir(dir, PACKAGE_USAGE);
  return { dir, out: options['--out'] ?? 'dist', connector: options['--connector'] };
}

/** Prints `problems` as `validate` does; returns the exit code. */
function printProblems(
  dir: string,
  problems: readonly ConfigProblem[],
  scanned: BundleEnvironment,
  io: CliIo,
): number {
  for (const p of problems) io.out(formatProblem(p));
  const n = problems.length;
  io.err(`${dir}: ${n} problem${n === 1 ? '' : 's'}; nothing was written`);
  if (scanned.unset.length > 0) {
    io.err(
      `note: not set while packaging: ${scanned.unset.join(', ')}; a reference to one stands for itself, ` +
        'which a key that needs a number, a choice or a URL refuses: set those when packaging',
    );
  }
  return Exit.failed;
}

/** How many tasks the connector splits into: its implementation's `taskConfigs`, at most `tasks.max`. */
function taskCount(bundle: Bundle, name: string): number {
  const c = bundle.connector(name);
  const plugins = c.kind === 'source' ? sourceConnectors() : sinkConnectors();
  return plugins.get(c.plugin)?.taskConfigs(c.config, c.common['tasks.max']).length ?? c.common['tasks.max'];
}

/** The connector's consumer settings, as its function's Kafka clients read them (nothing connects). */
function consumerReading(bundle: Bundle, name: string, env: Env): ConsumerReading {
  const c = bundle.connector(name);
  const worker = withClientOverrides(bundle.worker, c.overrides, c.file);
  return createKafkaClients(worker, { env }).consumerSettings;
}

type Env = Readonly<Record<string, string | undefined>>;

interface Planned {
  readonly manifest: DerivedManifest;
  readonly files: readonly string[];
}

/** Every connector's manifest, or the problems that keep one from being derived. */
function plan(
  bundle: Bundle,
  names: readonly string[],
  scanned: BundleEnvironment,
  env: Env,
): { planned: Planned[]; problems: ConfigProblem[] } {
  const planned: Planned[] = [];
  const problems: ConfigProblem[] = [];
  const workerFile = bundle.worker.file;
  const hasWorker = workerFile !== '(defaults)';
  for (const name of names) {
    const c = bundle.connector(name);
    try {
      const manifest = deriveManifest(bundle, name, {
        tasks: taskCount(bundle, name),
        requiredEnvironment: requiredEnvironment(scanned, workerFile, c.file),
        consumer: consumerReading(bundle, name, env),
      });
      planned.push({ manifest, files: [...(hasWorker ? [workerFile] : []), c.file] });
    } catch (err) {
      if (!(err instanceof ConfigInvalidError)) throw err;
      problems.push(...err.problems.map((p) => redactProblem(p, bundle.redactor)));
    }
  }
  return { planned, problems };
}

function redactProblem(p: ConfigProblem, redactor: Redactor): ConfigProblem {
  return {
    ...p,
    expected: redactor.text(p.expected),
    ...(p.got === undefined ? {} : { got: redactor.show(p.key, p.got) }),
  };
}

/** A problem for each secret written literally in a file the packages of `names` would hold. */
function literalSecretProblems(
  bundle: Bundle,
  names: readonly string[],
  scanned: BundleEnvironment,
): ConfigProblem[] {
  const packaged = new Set([bundle.worker.file, ...names.map((n) => bundle.connector(n).file)]);
  return scanned.literalSecrets
    .filter((s) => packaged.has(s.file))
    .map((s) => ({
      ...s,
      expected:
        'a config provider reference (${env:VAR}, ${file:path:key}) instead of the secret written here: ' +
        'the package holds this file as written, and no secret may be in an artifact',
    }));
}

/** The worker's offset storage is for local runs only: said once. */
function storageWarning(bundle: Bundle, io: CliIo): void {
  if (bundle.worker.values['offset.storage'] !== 'file') return;
  io.err(
    `warning: ${bundle.worker.file}: offset.storage=file keeps offsets in a file, for local runs: a ` +
      "function's file system is read-only but for /tmp, which does not outlive its instance; use kafka or dynamodb",
  );
}

function connectorNames(bundle: Bundle, only: string | undefined): string[] {
  if (only === undefined) return bundle.connectors.map((c) => c.name);
  bundle.connector(only); // throws, naming the bundle's connectors
  return [only];
}

function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} kB`;
}

/** Runs `package`; returns the exit code. */
export async function packageCommand(
  args: readonly string[],
  io: CliIo,
  registry: Registry,
): Promise<number> {
  const { dir, out, connector } = parseArgs(args);
  const scanned = scanEnvironment(dir, process.env);
  const kafkaEnv = { ...process.env, AWS_REGION: process.env.AWS_REGION ?? 'us-east-1' };
  const result = inspectBundle(dir, {
    registry,
    env: scanned.validationEnv,
    workerChecks: [(w) => checkKafkaClientConfig(w, { env: kafkaEnv })],
    connectorChecks: [(w, c) => checkClientOverrides(w, c.overrides, c.file, { env: kafkaEnv })],
  });
  for (const w of result.warnings) io.err(`warning: ${formatProblem(w)}`);
  if (result.bundle === undefined) return printProblems(dir, result.problems, scanned, io);
  const bundle = result.bundle;
  storageWarning(bundle, io);
  for (const ref of scanned.fileReferences) {
    io.err(
      `warning: ${ref.file}: ${ref.key}: ${ref.text} is read at cold start from the function's file system, ` +
        'which the package does not fill: it holds only the worker file and the connector files',
    );
  }
  const names = connectorNames(bundle, connector);
  const literal = literalSecretProblems(bundle, names, scanned);
  if (literal.length > 0) return printProblems(dir, literal, scanned, io);
  const { planned, problems } = plan(bundle, names, scanned, kafkaEnv);
  if (problems.length > 0) return printProblems(dir, problems, scanned, io);

  // Connectors with the same entry share one build.
  const builds = new Map<string, Promise<BuiltCode>>();
  const packages = [];
  for (const { manifest, files } of planned) {
    const entry = entryFor(manifest);
    const code = builds.get(entry) ?? buildCode(entry);
    builds.set(entry, code);
    const pkg = packageZip({ code: await code, bundleDir: dir, files });
    const file = `${manifest.connector}.zip`;
    const full: ConnectorManifest = {
      ...manifest,
      artifact: { file, sha256: pkg.sha256, bytes: pkg.zip.length },
    };
    packages.push({ manifest: full, zip: pkg.zip });
    io.err(
      `${manifest.connector}: ${manifest.kind}, trigger=${manifest.trigger}, ${formatSize(pkg.zip.length)} ` +
        `(sha256 ${pkg.sha256.slice(0, 12)})`,
    );
  }
  for (const { manifest, zip } of packages) {
    const target = join(out, manifest.connector);
    mkdirSync(target, { recursive: true });
    writeFileSync(join(target, manifest.artifact.file), zip);
    writeFileSync(join(target, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  }
  io.err(`wrote ${packages.length} package${packages.length === 1 ? '' : 's'} to ${out}/<connector>/`);
  return Exit.ok;
}
