/**
 * Config providers with Kafka Connect's syntax: `${provider:path:key}`, or `${provider:key}` without a
 * path. Built in, needing no declaration: `env` (`${env:VAR}`), `file` (`${file:/etc/kafka/secrets.properties:password}`,
 * a key of a `.properties` file) and `dir` (`${dir:/run/secrets:db-password}`, the content of a file in a
 * directory). More names are declared as in Connect: `config.providers=vault`,
 * `config.providers.vault.class=org.apache.kafka.common.config.provider.FileConfigProvider`,
 * `config.providers.vault.param.allowed.paths=/run/secrets`.
 *
 * Settings are checked strictly, because a typo in one silently widens what a bundle may read: every
 * `config.providers.<name>.<setting>` must be `class` or a `param.*` its kind knows (`env`:
 * `allowlist.pattern`; `file` and `dir`: `allowed.paths`), and `<name>` must be declared in
 * `config.providers` or built in (the built-ins take parameters without a declaration). A provider whose
 * settings have a problem resolves nothing.
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

const PREFIX = 'config.providers.';

type Lookup = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: string };

/** One provider instance: looks up `key` (under `path`). */
export interface ConfigProvider {
  readonly kind: ProviderKind;
  get(path: string | undefined, key: string): Lookup;
}

const KINDS = ['env', 'file', 'dir'] as const;
type ProviderKind = (typeof KINDS)[number];

/** The `param.*` settings each kind of provider understands. */
const PARAMS: Readonly<Record<ProviderKind, readonly string[]>> = {
  env: ['allowlist.pattern'],
  file: ['allowed.paths'],
  dir: ['allowed.paths'],
};

const CLASS_ALIASES: ReadonlyMap<string, ProviderKind> = new Map([
  ['env', 'env'],
  ['file', 'file'],
  ['dir', 'dir'],
  ['org.apache.kafka.common.config.provider.EnvVarConfigProvider', 'env'],
  ['org.apache.kafka.common.config.provider.FileConfigProvider', 'file'],
  ['org.apache.kafka.common.config.provider.DirectoryConfigProvider', 'dir'],
]);

function builtinKind(name: string): ProviderKind | undefined {
  return KINDS.find((kind) => kind === name);
}

export interface ProviderEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative paths resolve against this directory. */
  readonly baseDir: string;
}

type Params = ReadonlyMap<string, string>;

/** Reports a problem with parameter `param` of the provider being built. */
type Report = (param: string, expected: string, got?: string) => void;

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
function allowedPathsCheck(params: Params, baseDir: string) {
  const listed = params.get('allowed.paths');
  const allowed = listed === undefined ? undefined : splitList(listed);
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

/** V8's reason from a regular expression SyntaxError, without the pattern it quotes; or undefined. */
function regexReason(err: unknown): string | undefined {
  if (!(err instanceof SyntaxError)) return undefined;
  // "Invalid regular expression: /<pattern>/<flags>: <reason>": the reason is last and has no ': '.
  const reason = err.message.slice(err.message.lastIndexOf(': ') + 2);
  return /^[A-Za-z][A-Za-z {}]*$/.test(reason) ? reason.toLowerCase() : undefined;
}

function envProvider(params: Params, envr: ProviderEnvironment, report: Report): ConfigProvider {
  const pattern = params.get('allowlist.pattern');
  let allow: RegExp | undefined;
  if (pattern !== undefined) {
    try {
      new RegExp(pattern); // alone first: `a)|(b` must not escape the anchors below
      allow = new RegExp(`^(?:${pattern})$`);
    } catch (err) {
      allow = /(?!)/; // matches nothing; the provider is unusable anyway
      const reason = regexReason(err);
      report(
        'allowlist.pattern',
        'a regular expression (JavaScript syntax) that whole variable names must match',
        `an invalid one${reason === undefined ? '' : ` (${reason})`}`,
      );
    }
  }
  return {
    kind: 'env',
    get(_path, key) {
      if (allow !== undefined && !allow.test(key))
        return { ok: false, reason: `${key} does not match allowlist.pattern` };
      const value = Object.hasOwn(envr.env, key) ? envr.env[key] : undefined;
      return typeof value === 'string'
        ? { ok: true, value }
        : { ok: false, reason: `environment variable ${key} is not set` };
    },
  };
}

function fileProvider(params: Params, envr: ProviderEnvironment): ConfigProvider {
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

function dirProvider(params: Params, envr: ProviderEnvironment): ConfigProvider {
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

const FACTORIES: Readonly<
  Record<ProviderKind, (params: Params, envr: ProviderEnvironment, report: Report) => ConfigProvider>
> = { env: envProvider, file: fileProvider, dir: dirProvider };

/**
 * Splits the part of a key after `config.providers.` into the provider name and the setting: the longest
 * known name followed by a dot, else everything before the first dot. Undefined when there is no setting.
 */
function splitSettingKey(tail: string, known: ReadonlySet<string>): [string, string] | undefined {
  let name: string | undefined;
  for (const n of known)
    if (tail.startsWith(`${n}.`) && (name === undefined || n.length > name.length)) name = n;
  if (name !== undefined) return [name, tail.slice(name.length + 1)];
  const dot = tail.indexOf('.');
  return dot <= 0 ? undefined : [tail.slice(0, dot), tail.slice(dot + 1)];
}

/** The providers a bundle may use: the built-ins plus those declared by `config.providers`. */
export class ProviderSet {
  readonly #providers: ReadonlyMap<string, ConfigProvider>;
  /** Declared (or built-in) names whose settings have problems: they resolve nothing. */
  readonly #unusable: ReadonlySet<string>;

  private constructor(providers: ReadonlyMap<string, ConfigProvider>, unusable: ReadonlySet<string>) {
    this.#providers = providers;
    this.#unusable = unusable;
  }

  /** Builds the set from the worker's `config.providers*` keys; problems name the offending key. */
  static fromWorker(
    raw: Readonly<Record<string, string>>,
    file: string,
    envr: ProviderEnvironment,
  ): { providers: ProviderSet; problems: ConfigProblem[] } {
    const problems: ConfigProblem[] = [];
    const listed = Object.hasOwn(raw, 'config.providers') ? raw['config.providers'] : undefined;
    const known = new Set<string>([...KINDS, ...(listed === undefined ? [] : splitList(listed))]);

    // Every config.providers.<name>.<setting>, by name; settings of undeclared names are problems.
    const settings = new Map<string, Map<string, string>>();
    for (const [key, value] of Object.entries(raw)) {
      if (!key.startsWith(PREFIX)) continue;
      const split = splitSettingKey(key.slice(PREFIX.length), known);
      if (split === undefined) {
        problems.push({ file, key, expected: `${PREFIX}<name>.class or ${PREFIX}<name>.param.<parameter>` });
        continue;
      }
      const [name, setting] = split;
      if (!known.has(name)) {
        const near = closest(name, known);
        problems.push({
          file,
          key,
          expected: `declare '${name}' in config.providers`,
          ...(near === undefined ? {} : { suggestion: `${PREFIX}${near}.${setting}` }),
        });
        continue;
      }
      const own = settings.get(name) ?? new Map<string, string>();
      own.set(setting, value);
      settings.set(name, own);
    }

    const providers = new Map<string, ConfigProvider>();
    const unusable = new Set<string>();
    for (const name of known) {
      const own = settings.get(name) ?? new Map<string, string>();
      const className = own.get('class');
      const kind = className === undefined ? builtinKind(name) : CLASS_ALIASES.get(className);
      if (kind === undefined) {
        const suggestion = className === undefined ? undefined : closest(className, CLASS_ALIASES.keys());
        problems.push({
          file,
          key: `${PREFIX}${name}.class`,
          expected: `a config provider class (${[...CLASS_ALIASES.keys()].join(', ')})`,
          ...(suggestion === undefined ? {} : { suggestion }),
        });
        unusable.add(name);
        continue;
      }
      let broken = false;
      const valid = ['class', ...PARAMS[kind].map((p) => `param.${p}`)];
      const params = new Map<string, string>();
      for (const [setting, value] of own) {
        if (setting === 'class') continue;
        if (setting.startsWith('param.') && valid.includes(setting)) {
          params.set(setting.slice('param.'.length), value);
          continue;
        }
        broken = true;
        const near = closest(setting, valid);
        const keys = valid.map((v) => `${PREFIX}${name}.${v}`).join(', ');
        problems.push({
          file,
          key: `${PREFIX}${name}.${setting}`,
          expected: `a setting of ${kind} config provider '${name}' (${keys})`,
          ...(near === undefined ? {} : { suggestion: `${PREFIX}${name}.${near}` }),
        });
      }
      const report: Report = (param, expected, got) => {
        broken = true;
        problems.push({
          file,
          key: `${PREFIX}${name}.param.${param}`,
          expected,
          ...(got === undefined ? {} : { got }),
        });
      };
      const provider = FACTORIES[kind](params, envr, report);
      if (broken) unusable.add(name);
      else providers.set(name, provider);
    }
    return { providers: new ProviderSet(providers, unusable), problems };
  }

  /** The provider names in effect, for error messages (including those whose settings have problems). */
  names(): string[] {
    return [...this.#providers.keys(), ...this.#unusable];
  }

  /**
   * Replaces every `${provider:path:key}` in `raw`'s values. Problems name the key and the provider,
   * never a resolved value. `values` is a null-prototype object; `secretValues` and `secretKeys` report
   * what must be redacted.
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
    const values: Record<string, string> = Object.create(null);
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
        if (provider === undefined && this.#unusable.has(name)) {
          problems.push({
            file,
            key,
            expected: `a value from config provider '${name}'`,
            got: `none: the provider's ${PREFIX}${name}.* settings have problems`,
          });
          return whole;
        }
        if (provider === undefined) {
          const suggestion = closest(name, this.names());
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
