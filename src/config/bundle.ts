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
import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { ConfigInvalidError, type ConfigProblem } from '../errors.ts';
import { type ConfigFile, readConfigFile } from './config-file.ts';
import { type ConnectorConfig, validateConnector } from './connector-config.ts';
import { ProviderSet } from './providers.ts';
import { isSecretKeyName, looksSecret, Redactor, secretsInText } from './redaction.ts';
import type { Registry } from './registry.ts';
import { validateWorker, type WorkerConfig } from './worker-config.ts';

export type { WorkerConfig } from './worker-config.ts';

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

/**
 * A check of the validated worker that the config layer cannot make itself, such as the Kafka client
 * settings (`producer.*`, `security.*`): the composition roots pass the Kafka layer's, so `config/` never
 * imports it. Its problems carry their file; they are redacted like every other problem.
 */
export type WorkerCheck = (worker: WorkerConfig) => {
  readonly problems: readonly ConfigProblem[];
  readonly warnings: readonly ConfigProblem[];
};

/** A check of one validated connector the config layer cannot make itself (see {@link WorkerCheck}). */
export type ConnectorCheck = (
  worker: WorkerConfig,
  connector: ConnectorConfig,
) => {
  readonly problems: readonly ConfigProblem[];
  readonly warnings: readonly ConfigProblem[];
};

export interface LoadOptions {
  readonly registry: Registry;
  /** Environment for `${env:...}` references (default: `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Run on the validated worker when it has no problems of its own. */
  readonly workerChecks?: readonly WorkerCheck[];
  /** Run on each valid connector (with the valid worker), e.g. the Kafka layer's check of client overrides. */
  readonly connectorChecks?: readonly ConnectorCheck[];
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

/** Recursively freezes objects, arrays and functions (a bundle's `connector` lookup included). */
export function deepFreeze<T>(value: T): T {
  if (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    !Object.isFrozen(value)
  ) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

interface BundleFiles {
  readonly worker?: ConfigFile;
  readonly connectors: readonly ConfigFile[];
  /** Every config file's name in reading order, readable or not: problems are sorted by it. */
  readonly order: readonly string[];
}

/** Whether anything, even a dangling symlink, is at `path`. */
function entryExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether `path` is, or links to, a directory; false for anything unreadable (a symlink loop, ...). */
function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The names in `connectors/`, or a problem when it is not a readable directory. */
function listConnectors(connDir: string, problems: ConfigProblem[]): string[] {
  if (!entryExists(connDir)) return [];
  const expected = 'a directory of connector files (*.properties or *.json)';
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(connDir);
  } catch (err) {
    const got = (err as NodeJS.ErrnoException).code ?? 'error';
    problems.push({ file: 'connectors/', key: '(file)', expected, got });
    return [];
  }
  if (!stat.isDirectory()) {
    problems.push({ file: 'connectors', key: '(file)', expected, got: 'a file' });
    return [];
  }
  try {
    return readdirSync(connDir).sort();
  } catch (err) {
    const got = (err as NodeJS.ErrnoException).code ?? 'error';
    problems.push({ file: 'connectors/', key: '(file)', expected, got });
    return [];
  }
}

/**
 * A warning when `path` resolves (through a symlink, its own or a folder's) to a file outside the bundle:
 * it is read, but a copy or archive of the bundle directory would not hold it.
 */
function outsideWarning(path: string, shown: string, bundleRoot: string): ConfigProblem | undefined {
  let target: string;
  try {
    target = realpathSync(path);
  } catch {
    return undefined; // dangling or unreadable: reading it reports that
  }
  if (target.startsWith(bundleRoot + sep)) return undefined;
  return {
    file: shown,
    key: '(file)',
    expected: `a file inside the bundle: it links to ${target}, outside it, so a copy or package of the bundle directory would not contain it`,
  };
}

function readFiles(dir: string, problems: ConfigProblem[], warnings: ConfigProblem[]): BundleFiles {
  const order: string[] = [];
  const root = realpathSync(dir);
  const read = (path: string, shown: string): ConfigFile | undefined => {
    order.push(shown);
    const outside = outsideWarning(path, shown, root);
    if (outside !== undefined) warnings.push(outside);
    const r = readConfigFile(path, shown);
    problems.push(...r.problems);
    warnings.push(...(r.warnings ?? []));
    return r.file;
  };
  // lstat, not exists: a dangling worker.properties link is a problem, not a bundle without a worker.
  const present = WORKER_FILES.filter((f) => entryExists(join(dir, f)));
  if (present.length > 1)
    problems.push({ file: present.join(', '), key: '(file)', expected: 'one worker file, not both' });
  const workerName = present[0];
  const worker = workerName === undefined ? undefined : read(join(dir, workerName), workerName);
  const connDir = join(dir, 'connectors');
  const problemsBefore = problems.length;
  const names = listConnectors(connDir, problems);
  const connectors: ConfigFile[] = [];
  for (const name of names) {
    const shown = `connectors/${name}`;
    if (CONFIG_EXT.test(name)) {
      const file = read(join(connDir, name), shown);
      if (file !== undefined) connectors.push(file);
    } else if (!isDirectory(join(connDir, name))) {
      // Regular files, dangling links, FIFOs, sockets: said once; a subdirectory is silently not ours.
      warnings.push({ file: shown, key: '(file)', expected: 'ignored: not a .properties or .json file' });
    }
  }
  if (problems.length === problemsBefore && !names.some((n) => CONFIG_EXT.test(n))) {
    problems.push({
      file: 'connectors/',
      key: '(file)',
      expected: 'at least one connector file (*.properties or *.json)',
    });
  }
  return { ...(worker === undefined ? {} : { worker }), connectors, order };
}

/**
 * The line of `key` in `lines`, else of the longest dotted prefix of it that is a key there: a missing
 * `transforms.mask.type` points at the `transforms` line that lists `mask`.
 */
function lineOf(key: string, lines: Readonly<Record<string, number>>): number | undefined {
  for (let k = key; ; k = k.slice(0, k.lastIndexOf('.'))) {
    if (Object.hasOwn(lines, k)) return lines[k];
    if (!k.includes('.')) return undefined;
  }
}

/**
 * Adds each problem's line from the file it names, where the key's line (or a prefix's) is known, and
 * orders problems as a reader goes through the bundle: worker first, then files by name, lines top to
 * bottom.
 */
function withLines(
  problems: readonly ConfigProblem[],
  files: readonly ConfigFile[],
  order: readonly string[],
): ConfigProblem[] {
  const byName = new Map(files.map((f) => [f.file, f]));
  const rank = new Map(order.map((name, i) => [name, i]));
  const lined = problems.map((p) => {
    const lines = byName.get(p.file)?.lines;
    const line = p.line ?? (lines === undefined ? undefined : lineOf(p.key, lines));
    return line === undefined ? p : { ...p, line };
  });
  const sortKey = (p: ConfigProblem) =>
    [rank.get(p.file) ?? order.length, p.line ?? Number.MAX_SAFE_INTEGER] as const;
  return lined.sort((a, b) => {
    const [fa, la] = sortKey(a);
    const [fb, lb] = sortKey(b);
    return fa - fb || la - lb;
  });
}

/**
 * The one place values in problems are redacted: `got` by key (secret keys), by shape (hidden whole when it
 * looks secret, whatever its key) and by value (known secrets); every other field as free text, in case a
 * secret made its way into a key, a suggestion or an explanation.
 */
function redactProblem(p: ConfigProblem, redactor: Redactor): ConfigProblem {
  const got = p.got === undefined ? undefined : redactor.show(p.key, p.got);
  return {
    ...p,
    key: redactor.text(p.key),
    expected: redactor.text(p.expected),
    ...(got === undefined ? {} : { got }),
    ...(p.suggestion === undefined ? {} : { suggestion: redactor.text(p.suggestion) }),
  };
}

/** Secrets known before validation: provider-resolved values and the values of secret-named keys. */
class Secrets {
  readonly values: string[] = [];
  readonly keys: string[] = [];

  add(key: string, value: string): void {
    this.keys.push(key);
    this.values.push(value);
  }

  /**
   * Values of secret-named keys, and what secret-shaped values hold under any key (a `\` at a line's end
   * joins `sasl.jaas.config=...password="p"` into the key before it: `p` and the whole value are learnt).
   * Provider settings are not secrets, whatever the provider is called.
   */
  addFile(file: ConfigFile): void {
    for (const [key, value] of Object.entries(file.values)) {
      if (key.startsWith('config.providers.')) continue;
      if (isSecretKeyName(key)) this.values.push(value);
      if (looksSecret(value)) this.values.push(value, ...secretsInText(value));
    }
  }

  redactor(): Redactor {
    return new Redactor(this.values, this.keys);
  }
}

/**
 * Keys, by file, that already have a problem making their value unusable: a reference that did not
 * resolve, a JSON value that is not a scalar. Validation would only add a second problem about the same
 * cause ("an integer (got ${env:X})", "required"), so those are dropped (see {@link isConsequence}).
 */
type Spent = Map<string, Set<string>>;

function spend(spent: Spent, file: string, keys: Iterable<string>): void {
  const set = spent.get(file) ?? new Set<string>();
  for (const key of keys) set.add(key);
  spent.set(file, set);
}

/** True when `p` follows from a spent key: the key itself, or what an unusable alias list governs. */
function isConsequence(p: ConfigProblem, spent: Spent): boolean {
  const keys = spent.get(p.file);
  if (keys === undefined) return false;
  if (keys.has(p.key)) return true;
  if (keys.has('transforms') && p.key.startsWith('transforms.')) return true;
  if (
    keys.has('predicates') &&
    (p.key.startsWith('predicates.') || /^transforms\.[^.]*\.predicate$/.test(p.key))
  )
    return true;
  return false;
}

/** The keys of a file's reading problems whose values could not be read (they are absent from it). */
function unreadKeys(problems: readonly ConfigProblem[], files: BundleFiles): Spent {
  const spent: Spent = new Map();
  const byName = new Map(
    [files.worker, ...files.connectors].flatMap((f) => (f === undefined ? [] : [[f.file, f]])),
  );
  for (const p of problems) {
    const file = byName.get(p.file);
    if (file !== undefined && !p.key.startsWith('(') && !Object.hasOwn(file.values, p.key))
      spend(spent, p.file, [p.key]);
  }
  return spent;
}

function resolveFiles(
  files: BundleFiles,
  dir: string,
  options: LoadOptions,
  problems: ConfigProblem[],
  secrets: Secrets,
  spent: Spent,
) {
  const workerName = files.worker?.file ?? '(defaults)';
  const env = { env: options.env ?? process.env, baseDir: dir };
  const built = ProviderSet.fromWorker(files.worker?.values ?? {}, workerName, env);
  problems.push(...built.problems);
  const resolve = (f: ConfigFile): ConfigFile => {
    const r = built.providers.resolve(f.values, f.file);
    problems.push(...r.problems);
    spend(spent, f.file, r.failedKeys);
    for (const key of r.secretKeys) secrets.keys.push(key);
    secrets.values.push(...r.secretValues);
    const resolved = { ...f, values: r.values };
    secrets.addFile(resolved);
    return resolved;
  };
  const worker: ConfigFile =
    files.worker === undefined ? { file: workerName, values: {}, lines: {} } : resolve(files.worker);
  return { worker, connectors: files.connectors.map(resolve) };
}

function checkUniqueNames(connectors: readonly ConfigFile[], problems: ConfigProblem[]): void {
  const seen = new Map<string, string>();
  for (const file of connectors) {
    const name = Object.hasOwn(file.values, 'name') ? file.values.name : undefined;
    if (name === undefined) continue;
    const first = seen.get(name);
    if (first === undefined) seen.set(name, file.file);
    else
      problems.push({
        file: file.file,
        key: 'name',
        expected: `a name unique in the bundle (also used by ${first})`,
        got: name,
      });
  }
}

function assemble(
  dir: string,
  worker: WorkerConfig,
  connectors: readonly ConnectorConfig[],
  redactor: Redactor,
  warnings: readonly ConfigProblem[],
): Bundle {
  const byName = new Map(connectors.map((c) => [c.name, c]));
  return deepFreeze({
    dir,
    worker,
    connectors,
    redactor,
    warnings,
    connector(name: string): ConnectorConfig {
      const found = byName.get(name);
      if (found !== undefined) return found;
      const known = [...byName.keys()].join(', ');
      throw new ConfigInvalidError([
        { file: dir, key: 'name', expected: `a connector of this bundle (${known})`, got: name },
      ]);
    },
  });
}

/**
 * The problem with `dir` itself, if it is not a directory: said once, instead of "at least one connector
 * file" (which a missing directory also lacks, but is not what is wrong).
 */
function bundleDirProblem(dir: string): ConfigProblem | undefined {
  const expected = 'a bundle directory (holding connectors/ and an optional worker file)';
  try {
    if (statSync(dir).isDirectory()) return undefined;
    return { file: dir, key: '(bundle)', expected, got: 'a file, not a directory' };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const got = code === 'ENOENT' ? 'no such directory' : (code ?? 'unreadable');
    return { file: dir, key: '(bundle)', expected, got };
  }
}

/** Reads and validates the bundle in `dir`, collecting every problem. Never throws for bad configuration. */
export function inspectBundle(dir: string, options: LoadOptions): Inspection {
  const notDir = bundleDirProblem(dir);
  if (notDir !== undefined) return { problems: [notDir], warnings: [], redactor: new Redactor() };
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const files = readFiles(dir, problems, warnings);
  const spent = unreadKeys(problems, files);
  const secrets = new Secrets();
  const resolved = resolveFiles(files, dir, options, problems, secrets, spent);
  // Problems so far are causes (reading, providers); later ones may only repeat them (isConsequence).
  const causes = problems.length;
  const early = secrets.redactor();
  const base = {
    show: (key: string, value: string) => early.show(key, value),
    onSecret: (key: string, value: string) => secrets.add(key, value),
  };
  const workerFile = resolved.worker.file;
  const worker = validateWorker(
    resolved.worker.values,
    options.registry,
    { ...base, file: workerFile },
    problems,
    warnings,
  );
  if (!problems.some((p) => p.file === workerFile)) {
    for (const check of options.workerChecks ?? []) {
      const checked = check(worker);
      problems.push(...checked.problems);
      warnings.push(...checked.warnings);
    }
  }
  const valid: ConnectorConfig[] = [];
  for (const file of resolved.connectors) {
    const outcome = validateConnector(file, options.registry, worker, base);
    problems.push(...outcome.problems);
    warnings.push(...outcome.warnings);
    if (outcome.connector !== undefined) valid.push(outcome.connector);
  }
  if (!problems.some((p) => p.file === workerFile)) {
    for (const connector of valid) {
      for (const check of options.connectorChecks ?? []) {
        const checked = check(worker, connector);
        problems.push(...checked.problems);
        warnings.push(...checked.warnings);
      }
    }
  }
  checkUniqueNames(resolved.connectors, problems);

  const redactor = secrets.redactor();
  const all = [resolved.worker, ...resolved.connectors];
  const relevant = problems.filter((p, i) => i < causes || !isConsequence(p, spent));
  const shownWarnings = withLines(warnings, all, files.order).map((w) => redactProblem(w, redactor));
  const shownProblems = withLines(relevant, all, files.order).map((p) => redactProblem(p, redactor));
  if (shownProblems.length > 0) return { problems: shownProblems, warnings: shownWarnings, redactor };
  const bundle = assemble(dir, worker, valid, redactor, shownWarnings);
  return { bundle, problems: [], warnings: shownWarnings, redactor };
}

/** Loads the bundle in `dir` or throws one {@link ConfigInvalidError} listing every problem. */
export function loadBundle(dir: string, options: LoadOptions): Bundle {
  const inspection = inspectBundle(dir, options);
  if (inspection.bundle === undefined) throw new ConfigInvalidError(inspection.problems);
  return inspection.bundle;
}
