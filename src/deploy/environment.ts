/**
 * The environment variables a bundle reads at cold start (its `${env:VAR}` references, through any
 * provider of Connect's EnvVarConfigProvider kind), and the environment `connect-fn package` validates with.
 *
 * Packaging runs on a build machine, where the function's secrets are usually not set. A referenced
 * variable that is not set there is validated as its own reference text (`${env:KAFKA_PASSWORD}`): a
 * string key (a password, a JAAS line) accepts it, and the cold start, which resolves the real value,
 * validates again; a key that needs a number, a choice or a URL refuses it, and then the variable must be
 * set while packaging. Every referenced variable is listed in the manifest's `requiredEnvironment`, for
 * the deployment to set.
 * @module
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readConfigFile } from '../config/config-file.ts';
import { envProviderNames, referencesIn } from '../config/providers.ts';

type Env = Readonly<Record<string, string | undefined>>;

export interface BundleEnvironment {
  /** The variables each file references, by the file's name relative to the bundle. */
  readonly byFile: ReadonlyMap<string, readonly string[]>;
  /** Referenced variables not set in the packaging environment, sorted. */
  readonly unset: readonly string[];
  /** The packaging environment with each unset variable standing for itself: what validation uses. */
  readonly validationEnv: Env;
  /** References to other providers (`file`, `dir`): read at cold start from the function's file system. */
  readonly fileReferences: readonly { readonly file: string; readonly key: string; readonly text: string }[];
}

const WORKER_FILES = ['worker.properties', 'worker.json'];
const CONFIG_EXT = /\.(properties|json)$/;

function listConnectorFiles(dir: string): string[] {
  try {
    return readdirSync(join(dir, 'connectors'))
      .filter((name) => CONFIG_EXT.test(name))
      .sort()
      .map((name) => `connectors/${name}`);
  } catch {
    return []; // validation reports it
  }
}

/** The raw values of `file`, or none when it cannot be read (validation reports why). */
function rawValues(dir: string, file: string): Readonly<Record<string, string>> {
  try {
    return readConfigFile(join(dir, file), file).file?.values ?? {};
  } catch {
    return {};
  }
}

/** Scans the bundle in `dir` as written (nothing resolved) against the packaging environment `env`. */
export function scanEnvironment(dir: string, env: Env): BundleEnvironment {
  const workerFile = WORKER_FILES.find((f) => existsSync(join(dir, f)));
  const worker = workerFile === undefined ? {} : rawValues(dir, workerFile);
  const providers = new Set(envProviderNames(worker));
  const byFile = new Map<string, string[]>();
  const placeholders: Record<string, string> = {};
  const fileReferences: { file: string; key: string; text: string }[] = [];
  const files = [...(workerFile === undefined ? [] : [workerFile]), ...listConnectorFiles(dir)];
  for (const file of files) {
    const names = new Set<string>();
    for (const [key, value] of Object.entries(rawValues(dir, file))) {
      if (key.startsWith('config.providers')) continue;
      for (const ref of referencesIn(value)) {
        if (!providers.has(ref.provider) || ref.path !== undefined) {
          fileReferences.push({ file, key, text: ref.text });
          continue;
        }
        names.add(ref.key);
        if (env[ref.key] === undefined) placeholders[ref.key] = ref.text;
      }
    }
    byFile.set(file, [...names].sort());
  }
  return {
    byFile,
    unset: Object.keys(placeholders).sort(),
    validationEnv: { ...env, ...placeholders },
    fileReferences,
  };
}

/** The variables the worker file and `connectorFile` reference: a function of that connector needs them. */
export function requiredEnvironment(
  scanned: BundleEnvironment,
  workerFile: string,
  connectorFile: string,
): string[] {
  const names = [...(scanned.byFile.get(workerFile) ?? []), ...(scanned.byFile.get(connectorFile) ?? [])];
  return [...new Set(names)].sort();
}
