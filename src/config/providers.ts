/**
 * Config providers with Kafka Connect's syntax: `${provider:path:key}`, or `${provider:key}` without a
 * path. Built in, needing no declaration: `env` (`${env:VAR}`), `file` (`${file:/etc/kafka/secrets.properties:password}`,
 * a key of a `.properties` file) and `dir` (`${dir:/run/secrets:db-password}`, the content of a file in a
 * directory). More names are declared as in Connect: `config.providers=vault`,
 * `config.providers.vault.class=org.apache.kafka.common.config.provider.FileConfigProvider`,
 * `config.providers.vault.param.allowed.paths=/run/secrets`.
 *
 * Differences from Connect, on purpose: a reference that does not resolve, or names an undeclared
 * provider, is an error (Connect leaves the `${...}` text in place and the connector fails later, far from
 * the cause); relative paths are relative to
 * the bundle directory (the bundle moves between machines; the working directory of a Lambda does not
 * matter). Every resolved value is a secret.
 * @module
 */
import { readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ConfigInvalidError, type ConfigProblem } from '../errors.ts';
import { splitList } from './keys.ts';
import { parsePropertiesBytes } from './properties.ts';
import { closest } from './suggest.ts';

/** Kafka Connect's variable pattern: `${provider:[path:]key}`, non-greedy, no `}` inside. */
const REFERENCE = /\$\{([^}]*?):(?:([^}]*?):)?([^}]*?)\}/g;

type Lookup = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: string };

/** One provider instance: looks up `key` (under `path`). */
export interface ConfigProvider {
  readonly kind: ProviderKind;
  get(path: string | undefined, key: string): Lookup;
}

const KINDS = ['env', 'file', 'dir'] as const;
type ProviderKind = (typeof KINDS)[number];

const CLASS_ALIASES: Readonly<Record<string, ProviderKind>> = {
  env: 'env',
  file: 'file',
  dir: 'dir',
  'org.apache.kafka.common.config.provider.EnvVarConfigProvider': 'env',
  'org.apache.kafka.common.config.provider.FileConfigProvider': 'file',
  'org.apache.kafka.common.config.provider.DirectoryConfigProvider': 'dir',
};

export interface ProviderEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative paths resolve against this directory. */
  readonly baseDir: string;
}

/** The real path (symlinks followed) of `path`, or its normalised form when it does not exist. */
function realPath(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return path;
  }
}

/**
 * Kafka Connect's `allowed.paths` (KIP-993): when set, a provider reads only below one of the listed
 * directories. Both sides are compared after following symlinks, so a link inside an allowed directory
 * cannot point out of it.
 */
function allowedPathsCheck(params: Readonly<Record<string, string>>, baseDir: string) {
  const allowed = params['allowed.paths'] === undefined ? undefined : splitList(params['allowed.paths']);
  const roots = allowed?.map((root) => realPath(resolve(baseDir, root)));
  return function checkPath(path: string): string | undefined {
    if (allowed === undefined || roots === undefined) return undefined;
    const target = realPath(resolve(baseDir, path));
    const inside = roots.some((root) => {
      const rel = relative(root, target);
      return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
    });
    return inside ? undefined : `path ${path} is outside allowed.paths (${allowed.join(', ')})`;
  };
}

function readBytes(path: string): { ok: true; bytes: Buffer } | { ok: false; reason: string } {
  try {
    return { ok: true, bytes: readFileSync(path) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, reason: `cannot read ${path} (${code})` };
  }
}

function envProvider(params: Readonly<Record<string, string>>, envr: ProviderEnvironment): ConfigProvider {
  const allow =
    params['allowlist.pattern'] === undefined
      ? undefined
      : new RegExp(`^(?:${params['allowlist.pattern']})$`);
  return {
    kind: 'env',
    get(_path, key) {
      if (allow !== undefined && !allow.test(key))
        return { ok: false, reason: `${key} does not match allowlist.pattern` };
      const value = envr.env[key];
      return value === undefined
        ? { ok: false, reason: `environment variable ${key} is not set` }
        : { ok: true, value };
    },
  };
}

function fileProvider(params: Readonly<Record<string, string>>, envr: ProviderEnvironment): ConfigProvider {
  const check = allowedPathsCheck(params, envr.baseDir);
  const cache = new Map<string, ReadonlyMap<string, string> | Lookup>();
  const load = (full: string): ReadonlyMap<string, string> | Lookup => {
    const read = readBytes(full);
    if (!read.ok) return read;
    try {
      return parsePropertiesBytes(read.bytes, full).values;
    } catch (err) {
      // The problem's `got` may hold part of a secret: say where, not what.
      const line = err instanceof ConfigInvalidError ? err.problems[0]?.line : undefined;
      return {
        ok: false,
        reason: `${full} is not a valid properties file${line === undefined ? '' : ` (line ${line})`}`,
      };
    }
  };
  return {
    kind: 'file',
    get(path, key) {
      if (path === undefined || path === '')
        return { ok: false, reason: 'a path is required: ${file:<path>:<key>}' };
      const denied = check(path);
      if (denied !== undefined) return { ok: false, reason: denied };
      const full = resolve(envr.baseDir, path);
      const entry = cache.get(full) ?? load(full);
      cache.set(full, entry);
      if (!(entry instanceof Map)) return entry as Lookup;
      const value = entry.get(key);
      return value === undefined
        ? { ok: false, reason: `key ${key} is not in ${path}` }
        : { ok: true, value };
    },
  };
}

function dirProvider(params: Readonly<Record<string, string>>, envr: ProviderEnvironment): ConfigProvider {
  const check = allowedPathsCheck(params, envr.baseDir);
  return {
    kind: 'dir',
    get(path, key) {
      if (path === undefined || path === '')
        return { ok: false, reason: 'a path is required: ${dir:<dir>:<file>}' };
      if (key.includes('/') || key === '..') return { ok: false, reason: `${key} is not a plain file name` };
      const file = resolve(envr.baseDir, path, key);
      const denied = check(file);
      if (denied !== undefined) return { ok: false, reason: denied };
      const read = readBytes(file);
      return read.ok ? { ok: true, value: read.bytes.toString('utf8') } : read;
    },
  };
}

const FACTORIES = { env: envProvider, file: fileProvider, dir: dirProvider } as const;

/** The providers a bundle may use: the built-ins plus those declared by `config.providers`. */
export class ProviderSet {
  readonly #providers: ReadonlyMap<string, ConfigProvider>;

  private constructor(providers: ReadonlyMap<string, ConfigProvider>) {
    this.#providers = providers;
  }

  /** Builds the set from the worker's `config.providers*` keys; problems name the offending key. */
  static fromWorker(
    raw: Readonly<Record<string, string>>,
    file: string,
    envr: ProviderEnvironment,
  ): { providers: ProviderSet; problems: ConfigProblem[] } {
    const problems: ConfigProblem[] = [];
    const providers = new Map<string, ConfigProvider>();
    for (const kind of KINDS) providers.set(kind, FACTORIES[kind]({}, envr));
    const declared = raw['config.providers'] === undefined ? [] : splitList(raw['config.providers']);
    for (const name of declared) {
      const classKey = `config.providers.${name}.class`;
      const className = raw[classKey] ?? (KINDS as readonly string[]).find((kn) => kn === name);
      const kind = className === undefined ? undefined : CLASS_ALIASES[className];
      if (kind === undefined) {
        const suggestion =
          className === undefined ? undefined : closest(className, Object.keys(CLASS_ALIASES));
        problems.push({
          file,
          key: classKey,
          expected: `a config provider class (${Object.keys(CLASS_ALIASES).join(', ')})`,
          ...(className === undefined ? {} : { got: className }),
          ...(suggestion === undefined ? {} : { suggestion }),
        });
        continue;
      }
      const paramPrefix = `config.providers.${name}.param.`;
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(raw))
        if (k.startsWith(paramPrefix)) params[k.slice(paramPrefix.length)] = v;
      providers.set(name, FACTORIES[kind](params, envr));
    }
    return { providers: new ProviderSet(providers), problems };
  }

  /** The provider names in effect, for error messages. */
  names(): string[] {
    return [...this.#providers.keys()];
  }

  /**
   * Replaces every `${provider:path:key}` in `raw`'s values. Problems name the key and the provider,
   * never a resolved value. `secretValues` and `secretKeys` report what must be redacted.
   */
  resolve(
    raw: Readonly<Record<string, string>>,
    file: string,
  ): {
    values: Record<string, string>;
    problems: ConfigProblem[];
    secretValues: string[];
    secretKeys: string[];
  } {
    const values: Record<string, string> = {};
    const problems: ConfigProblem[] = [];
    const secretValues: string[] = [];
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(raw)) {
      if (!value.includes('${')) {
        values[key] = value;
        continue;
      }
      let resolvedAny = false;
      values[key] = value.replace(REFERENCE, (whole, name: string, path: string | undefined, ref: string) => {
        const provider = this.#providers.get(name);
        if (provider === undefined) {
          const suggestion = closest(name, this.#providers.keys());
          problems.push({
            file,
            key,
            expected: `a declared config provider (${this.names().join(', ')})`,
            got: name,
            ...(suggestion === undefined ? {} : { suggestion }),
          });
          return whole;
        }
        const found = provider.get(path, ref);
        if (!found.ok) {
          problems.push({ file, key, expected: `a value from config provider '${name}'`, got: found.reason });
          return whole;
        }
        resolvedAny = true;
        secretValues.push(found.value);
        return found.value;
      });
      if (resolvedAny) secretKeys.push(key);
    }
    return { values, problems, secretValues, secretKeys };
  }
}
