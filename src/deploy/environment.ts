/**
 * The environment variables a bundle reads at cold start (its `${env:VAR}` references, through any
 * provider of Connect's EnvVarConfigProvider kind), and the environment `connect-fn package` validates with.
 *
 * Packaging runs on a build machine, where the function's secrets are usually not set. A referenced
 * variable that is not set there is validated as its own reference text (`${env:KAFKA_PASSWORD}`): a
 * string key (a password, a JAAS line) accepts it, and the cold start, which resolves the real value,
 * validates again; a key that needs a number, a choice or a URL refuses it, and then the variable must be
 * set while packaging. Every referenced variable is listed in the manifest's `requiredEnvironment`, for
 * the deployment to set. A secret written literally in a file (a secret key, or a value that looks like
 * one, without a reference) is listed too: packaged as written, it would be in the artifact.
 * @module
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ConfigFile, readConfigFile } from '../config/config-file.ts';
import { envProviderNames, hasReference, referencesIn } from '../config/providers.ts';
import { isSecretKeyName, looksSecret } from '../config/redaction.ts';

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
  /** Secret keys (or secret-looking values) written literally, without a reference: a package would hold them. */
  readonly literalSecrets: readonly { readonly file: string; readonly key: string; readonly line?: number }[];
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

/** The raw values of `file` and their lines, or none when it cannot be read (validation reports why). */
function rawFile(dir: string, file: string): Pick<ConfigFile, 'values' | 'lines'> {
  try {
    return readConfigFile(join(dir, file), file).file ?? { values: {}, lines: {} };
  } catch {
    return { values: {}, lines: {} };
  }
}

/** Scans the bundle in `dir` as written (nothing resolved) against the packaging environment `env`. */
export function scanEnvironment(dir: string, env: Env): BundleEnvironment {
  const workerFile = WORKER_FILES.find((f) => existsSync(join(dir, f)));
  const worker = workerFile === undefined ? {} : rawFile(dir, workerFile).values;
  const providers = new Set(envProviderNames(worker));
  const byFile = new Map<string, string[]>();
  const placeholders: Record<string, string> = {};
  const fileReferences: { file: string; key: string; text: string }[] = [];
  const literalSecrets: { file: string; key: string; line?: number }[] = [];
  const files = [...(workerFile === undefined ? [] : [workerFile]), ...listConnectorFiles(dir)];
  for (const file of files) {
    const names = new Set<string>();
    const { values, lines } = rawFile(dir, file);
    for (const [key, value] of Object.entries(values)) {
      if (key.startsWith('config.providers')) continue;
      if (value.trim() !== '' && !hasReference(value) && (isSecretKeyName(key) || looksSecret(value))) {
        literalSecrets.push({ file, key, ...(lines[key] === undefined ? {} : { line: lines[key] }) });
      }
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
    literalSecrets,
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
