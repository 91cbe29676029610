/**
 * The configuration bundle (DESIGN.md §2):
 *
 * ```
 * <bundle>/
 *   worker.properties | worker.json        optional; shared settings, defaults apply
 *   connectors/<file>.properties | .json   one connector per file
 * ```
 *
 * {@link inspectBundle} reads and validates everything and returns every problem (what `connect-fn
 * validate` prints); {@link loadBundle} does the same and throws one {@link ConfigInvalidError} listing all
 * of them (what a cold start does). The loaded bundle is deeply frozen; values resolved from config
 * providers are secrets, hidden by the bundle's {@link Redactor}.
 *
 * @example
 * ```ts
 * const bundle = loadBundle('examples/quickstart', { registry: builtinRegistry() });
 * const orders = bundle.connector('orders');
 * ```
 * @module
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigInvalidError, type ConfigProblem } from '../errors.ts';
import { type ConfigFile, readConfigFile } from './config-file.ts';
import { type ConnectorConfig, validateConnector } from './connector-config.ts';
import type { ConfigValues } from './keys.ts';
import { ProviderSet } from './providers.ts';
import { Redactor } from './redaction.ts';
import type { Registry } from './registry.ts';
import { subKeys, validateKeys } from './validate-keys.ts';
import { checkWorker, type workerKeys, workerSchema } from './worker-schema.ts';

export interface WorkerConfig {
  /** The worker file relative to the bundle, or `(defaults)` when the bundle has none. */
  readonly file: string;
  readonly values: ConfigValues<typeof workerKeys>;
  /** `producer.*`, `consumer.*`, `admin.*` with the prefix removed. */
  readonly clients: Readonly<Record<'producer' | 'consumer' | 'admin', Readonly<Record<string, string>>>>;
}

export interface Bundle {
  readonly dir: string;
  readonly worker: WorkerConfig;
  readonly connectors: readonly ConnectorConfig[];
  readonly redactor: Redactor;
  /** Accepted but ignored keys, each with the reason. */
  readonly warnings: readonly ConfigProblem[];
  /** The connector named `name`; throws when there is none. */
  connector(name: string): ConnectorConfig;
}

export interface LoadOptions {
  readonly registry: Registry;
  /** Environment for `${env:...}` references (default: `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface Inspection {
  readonly bundle?: Bundle;
  readonly problems: readonly ConfigProblem[];
  readonly warnings: readonly ConfigProblem[];
  /** Redacts values for display even when the bundle is invalid. */
  readonly redactor: Redactor;
}

const WORKER_FILES = ['worker.properties', 'worker.json'] as const;
const CONFIG_EXT = /\.(properties|json)$/;

/** Recursively freezes plain objects and arrays. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function readFiles(dir: string, problems: ConfigProblem[], warnings: ConfigProblem[]) {
  const present = WORKER_FILES.filter((f) => existsSync(join(dir, f)));
  if (present.length > 1)
    problems.push({ file: present.join(', '), key: '(file)', expected: 'one worker file, not both' });
  const read = (path: string, shown: string): ConfigFile | undefined => {
    const r = readConfigFile(path, shown);
    if (r.ok) return r.file;
    problems.push(...r.problems);
    return undefined;
  };
  const workerName = present[0];
  const worker =
    workerName === undefined
      ? { file: '(defaults)', values: {}, lines: {} }
      : read(join(dir, workerName), workerName);
  const connDir = join(dir, 'connectors');
  const names = existsSync(connDir) ? readdirSync(connDir).sort() : [];
  const connectors: ConfigFile[] = [];
  for (const name of names) {
    const shown = `connectors/${name}`;
    if (!CONFIG_EXT.test(name)) {
      if (statSync(join(connDir, name)).isFile())
        warnings.push({ file: shown, key: '(file)', expected: 'ignored: not a .properties or .json file' });
      continue;
    }
    const file = read(join(connDir, name), shown);
    if (file !== undefined) connectors.push(file);
  }
  if (names.filter((n) => CONFIG_EXT.test(n)).length === 0) {
    problems.push({
      file: 'connectors/',
      key: '(file)',
      expected: 'at least one connector file (*.properties or *.json)',
    });
  }
  return { worker, connectors };
}

/**
 * Adds each problem's line from the file it names, where the key's line is known, and orders problems
 * as a reader goes through the bundle: worker first, then files by name, lines top to bottom.
 */
function withLines(problems: readonly ConfigProblem[], files: readonly ConfigFile[]): ConfigProblem[] {
  const byName = new Map(files.map((f) => [f.file, f]));
  const rank = new Map(files.map((f, i) => [f.file, i]));
  const lined = problems.map((p) => {
    const line = p.line ?? byName.get(p.file)?.lines[p.key];
    return line === undefined ? p : { ...p, line };
  });
  const order = (p: ConfigProblem) => [rank.get(p.file) ?? -1, p.line ?? Number.MAX_SAFE_INTEGER] as const;
  return lined.sort((a, b) => {
    const [fa, la] = order(a);
    const [fb, lb] = order(b);
    return fa - fb || la - lb;
  });
}

/** Reads and validates the bundle in `dir`, collecting every problem. Never throws for bad configuration. */
export function inspectBundle(dir: string, options: LoadOptions): Inspection {
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const { worker: workerFile, connectors: connectorFiles } = readFiles(dir, problems, warnings);
  const workerRaw = workerFile?.values ?? {};
  const workerName = workerFile?.file ?? 'worker';
  const built = ProviderSet.fromWorker(workerRaw, workerName, {
    env: options.env ?? process.env,
    baseDir: dir,
  });
  problems.push(...built.problems);

  const secretValues: string[] = [];
  const secretKeys: string[] = [];
  const resolveFile = (f: ConfigFile): ConfigFile => {
    const r = built.providers.resolve(f.values, f.file);
    problems.push(...r.problems);
    secretValues.push(...r.secretValues);
    secretKeys.push(...r.secretKeys);
    return { ...f, values: r.values };
  };
  const worker = workerFile === undefined ? undefined : resolveFile(workerFile);
  const connectors = connectorFiles.map(resolveFile);
  const redactor = new Redactor(secretValues, secretKeys);
  const show = (key: string, value: string) => redactor.show(key, value);

  const w = validateKeys(workerSchema, worker?.values ?? {}, { file: workerName, show });
  problems.push(...w.problems);
  warnings.push(...w.warnings);
  checkWorker(w.values, (p) => problems.push({ file: workerName, ...p }));
  const workerDefaults = {
    file: workerName,
    raw: worker?.values ?? {},
    converterClass: {
      key: w.values['key.converter'],
      value: w.values['value.converter'],
      header: w.values['header.converter'],
    },
  };

  const valid: ConnectorConfig[] = [];
  const seen = new Map<string, string>();
  for (const file of connectors) {
    const outcome = validateConnector(file, options.registry, workerDefaults, redactor);
    problems.push(...outcome.problems);
    warnings.push(...outcome.warnings);
    const name = file.values.name;
    const first = name === undefined ? undefined : seen.get(name);
    if (name !== undefined && first !== undefined) {
      problems.push({
        file: file.file,
        key: 'name',
        expected: `a name unique in the bundle (also used by ${first})`,
        got: name,
      });
    } else if (name !== undefined) seen.set(name, file.file);
    if (outcome.connector !== undefined) valid.push(outcome.connector);
  }

  const files = [...(worker === undefined ? [] : [worker]), ...connectors];
  const allProblems = withLines(problems, files);
  if (allProblems.length > 0)
    return { problems: allProblems, warnings: withLines(warnings, files), redactor };
  const workerConfig: WorkerConfig = {
    file: workerName,
    values: w.values,
    clients: {
      producer: subKeys(w.delegated, 'producer.'),
      consumer: subKeys(w.delegated, 'consumer.'),
      admin: subKeys(w.delegated, 'admin.'),
    },
  };
  const byName = new Map(valid.map((c) => [c.name, c]));
  const bundle: Bundle = {
    dir,
    worker: workerConfig,
    connectors: valid,
    redactor,
    warnings: withLines(warnings, files),
    connector(name: string): ConnectorConfig {
      const found = byName.get(name);
      if (found === undefined) {
        throw new ConfigInvalidError([
          {
            file: dir,
            key: 'name',
            expected: `a connector of this bundle (${[...byName.keys()].join(', ')})`,
            got: name,
          },
        ]);
      }
      return found;
    },
  };
  return { bundle: deepFreeze(bundle), problems: [], warnings: bundle.warnings, redactor };
}

/** Loads the bundle in `dir` or throws one {@link ConfigInvalidError} listing every problem. */
export function loadBundle(dir: string, options: LoadOptions): Bundle {
  const inspection = inspectBundle(dir, options);
  if (inspection.bundle === undefined) throw new ConfigInvalidError(inspection.problems);
  return inspection.bundle;
}
