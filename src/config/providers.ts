/**
 * Config providers with Kafka Connect's syntax: `${provider:path:key}`, or `${provider:key}` without a
 * path. Three kinds: `env` (`${env:VAR}`), `file` (`${file:/etc/kafka/secrets.properties:password}`, a key
 * of a `.properties` file) and `dir` (`${dir:/run/secrets:db-password}`, the content of a file in a
 * directory). As in Connect, `config.providers` lists the providers a bundle may use, each configured by
 * `config.providers.<name>.class` and `config.providers.<name>.param.*`: `config.providers=vault`,
 * `config.providers.vault.class=org.apache.kafka.common.config.provider.FileConfigProvider`,
 * `config.providers.vault.param.allowed.paths=/run/secrets`. Only a bundle without `config.providers`
 * gets the three built-ins, `env`, `file` and `dir`, without parameters; once it lists any, only those it
 * lists exist (so `${dir:...}` cannot sidestep a `file` provider confined by `allowed.paths`). A provider
 * named `env`, `file` or `dir` needs no `class`.
 *
 * Settings are checked strictly, because a typo in one silently widens what a bundle may read: every
 * `config.providers.<name>.<setting>` must be `class` or a `param.*` its kind knows (`env`:
 * `allowlist.pattern`; `file` and `dir`: `allowed.paths`), `<name>` must be listed in `config.providers`,
 * and every setting is a literal. A provider whose settings have a problem resolves nothing.
 *
 * Providers supply values, not the structure of the bundle: a reference in a name, a class, an alias list
 * or a provider setting ({@link isStructuralKey}) is a problem, and the key keeps its text unresolved.
 *
 * The `file` and `dir` providers read regular files of at most {@link MAX_PROVIDER_FILE_BYTES} bytes.
 *
 * Differences from Connect, on purpose: a reference that does not resolve, or names an undeclared
 * provider, is an error (Connect leaves the `${...}` text in place and the connector fails later, far from
 * the cause); relative paths are relative to
 * the bundle directory (the bundle moves between machines; the working directory of a Lambda does not
 * matter). Every resolved value is a secret.
 * @module
 */
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ConfigInvalidError, type ConfigProblem } from '../errors.ts';
import { splitList } from './keys.ts';
import { parsePropertiesBytes } from './properties.ts';
import { readRegularFile } from './read-file.ts';
import { closest } from './suggest.ts';

/** Kafka Connect's variable pattern: `${provider:[path:]key}`, non-greedy, no `}` inside. */
const REFERENCE = /\$\{([^}]*?):(?:([^}]*?):)?([^}]*?)\}/g;

/** True when `value` holds a provider reference. */
export function hasReference(value: string): boolean {
  return value.includes('${') && value.search(REFERENCE) !== -1;
}

const LIST_KEY = 'config.providers';
const PREFIX = 'config.providers.';

/** One `${provider:[path:]key}` reference, as written. */
export interface Reference {
  readonly text: string;
  readonly provider: string;
  readonly path: string | undefined;
  readonly key: string;
}

/** Every reference in `value`, in order. */
export function referencesIn(value: string): Reference[] {
  return [...value.matchAll(REFERENCE)].map((m) => ({
    text: m[0],
    provider: m[1] ?? '',
    path: m[2],
    key: m[3] ?? '',
  }));
}

/**
 * The names of the worker's environment-variable providers: `env` in a bundle without `config.providers`,
 * else each listed name whose class is Connect's EnvVarConfigProvider (or `env` without a class).
 */
export function envProviderNames(workerRaw: Readonly<Record<string, string>>): string[] {
  const listed = Object.hasOwn(workerRaw, LIST_KEY) ? splitList(workerRaw[LIST_KEY] ?? '') : [];
  if (listed.length === 0) return ['env'];
  return listed.filter((name) => {
    const classKey = `${PREFIX}${name}.class`;
    const className = Object.hasOwn(workerRaw, classKey) ? workerRaw[classKey] : undefined;
    return (className === undefined ? builtinKind(name) : CLASS_ALIASES.get(className)) === 'env';
  });
}

/** The largest file the `file` and `dir` providers read. */
export const MAX_PROVIDER_FILE_BYTES = 1024 * 1024;

/** What a reference in a structural key gets instead of a value. */
export const LITERAL_EXPECTED =
  'a literal value: config providers supply values, not the structure of the bundle (names, classes, aliases)';

const STRUCTURAL_KEYS: ReadonlySet<string> = new Set([
  'name',
  'connector.class',
  'transforms',
  'predicates',
  'key.converter',
  'value.converter',
  'header.converter',
  LIST_KEY,
]);

/**
 * Keys that shape the bundle rather than configure it: connector names, classes, transformation and
 * predicate aliases and their control keys, converters, and every config provider setting. Their values
 * name things in messages, logs and lookups, so they are never secrets and never come from a provider.
 */
export function isStructuralKey(key: string): boolean {
  return (
    STRUCTURAL_KEYS.has(key) ||
    key.startsWith(PREFIX) ||
    /^(?:transforms|predicates)\.[^.]*\.type$/.test(key) ||
    /^transforms\.[^.]*\.(?:predicate|negate)$/.test(key)
  );
}

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
  const read = readRegularFile(path, MAX_PROVIDER_FILE_BYTES);
  if (read.ok) return read;
  const limit = `config providers read regular files of at most ${MAX_PROVIDER_FILE_BYTES / 1024 / 1024} MiB`;
  if (read.code === 'not-regular') return { ok: false, reason: `${path} is not a regular file (${limit})` };
  if (read.code === 'too-large') return { ok: false, reason: `${path} is too large (${limit})` };
  return { ok: false, reason: `cannot read ${path} (${read.code})` };
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

/** Why a provider that exists resolves nothing. */
type Unusable = ReadonlyMap<string, string>;

/** The providers a bundle may use: those `config.providers` lists, or the three built-ins without it. */
export class ProviderSet {
  readonly #providers: ReadonlyMap<string, ConfigProvider>;
  /** Names whose settings have problems, each with what a reference to it gets: they resolve nothing. */
  readonly #unusable: Unusable;
  /** Set when `config.providers` itself has a problem: no provider is known, every reference gets this. */
  readonly #noneKnown: string | undefined;

  private constructor(
    providers: ReadonlyMap<string, ConfigProvider>,
    unusable: Unusable,
    noneKnown?: string,
  ) {
    this.#providers = providers;
    this.#unusable = unusable;
    this.#noneKnown = noneKnown;
  }

  /**
   * Builds the set from the worker's `config.providers*` keys (as written: they are never resolved);
   * problems name the offending key.
   */
  static fromWorker(
    raw: Readonly<Record<string, string>>,
    file: string,
    envr: ProviderEnvironment,
  ): { providers: ProviderSet; problems: ConfigProblem[] } {
    const problems: ConfigProblem[] = [];
    const literal = (key: string, value: string): boolean => {
      if (!hasReference(value)) return true;
      problems.push({ file, key, expected: LITERAL_EXPECTED, got: value });
      return false;
    };
    const listedText = Object.hasOwn(raw, LIST_KEY) ? raw[LIST_KEY] : undefined;
    if (listedText !== undefined && !literal(LIST_KEY, listedText)) {
      // Which providers exist is unknown: none does, and references say why.
      const none = new ProviderSet(new Map(), new Map(), `none: ${LIST_KEY} has problems`);
      return { providers: none, problems };
    }
    const declared = new Set(listedText === undefined ? [] : splitList(listedText));
    const known: ReadonlySet<string> = declared.size > 0 ? declared : new Set(KINDS);
    const unusable = new Map<string, string>();
    const settingsProblem = (name: string) =>
      `none: the provider's ${PREFIX}${name}.* settings have problems`;

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
      const isLiteral = literal(key, value);
      if (!declared.has(name)) {
        if (known.has(name)) {
          // A built-in in a bundle without config.providers: its settings would silently not apply.
          problems.push({
            file,
            key,
            expected: `declare '${name}' in ${LIST_KEY} for its settings to apply`,
          });
          unusable.set(name, settingsProblem(name));
          continue;
        }
        const near = closest(name, declared);
        problems.push({
          file,
          key,
          expected: `declare '${name}' in ${LIST_KEY}`,
          ...(near === undefined ? {} : { suggestion: `${PREFIX}${near}.${setting}` }),
        });
        continue;
      }
      if (!isLiteral) unusable.set(name, settingsProblem(name));
      const own = settings.get(name) ?? new Map<string, string>();
      own.set(setting, value);
      settings.set(name, own);
    }

    const providers = new Map<string, ConfigProvider>();
    for (const name of known) {
      const own = settings.get(name) ?? new Map<string, string>();
      const className = own.get('class');
      const kind = className === undefined ? builtinKind(name) : CLASS_ALIASES.get(className);
      if (kind === undefined) {
        if (!unusable.has(name)) {
          const suggestion = className === undefined ? undefined : closest(className, CLASS_ALIASES.keys());
          problems.push({
            file,
            key: `${PREFIX}${name}.class`,
            expected: `a config provider class (${[...CLASS_ALIASES.keys()].join(', ')})`,
            ...(suggestion === undefined ? {} : { suggestion }),
          });
        }
        unusable.set(name, settingsProblem(name));
        continue;
      }
      let broken = unusable.has(name);
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
      if (broken) {
        unusable.set(name, settingsProblem(name));
        continue;
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
      if (broken) unusable.set(name, settingsProblem(name));
      else providers.set(name, provider);
    }
    return { providers: new ProviderSet(providers, unusable), problems };
  }

  /** The provider names in effect, for error messages (including those whose settings have problems). */
  names(): string[] {
    return [...this.#providers.keys(), ...this.#unusable.keys()];
  }

  /**
   * Replaces every `${provider:path:key}` in `raw`'s values. Problems name the key and the provider,
   * never a resolved value. `values` is a null-prototype object; `secretValues` and `secretKeys` report
   * what must be redacted; `failedKeys` lists the keys left unresolved because of a problem reported
   * here, whose values are therefore not worth validating. Structural keys ({@link isStructuralKey}) are
   * never resolved: a reference in one is a problem, reported here, or for `config.providers*` keys by
   * {@link ProviderSet.fromWorker}.
   */
  resolve(
    raw: Readonly<Record<string, string>>,
    file: string,
  ): {
    values: Record<string, string>;
    problems: ConfigProblem[];
    secretValues: string[];
    secretKeys: string[];
    failedKeys: string[];
  } {
    const values: Record<string, string> = Object.create(null);
    const problems: ConfigProblem[] = [];
    const secretValues: string[] = [];
    const secretKeys: string[] = [];
    const failedKeys: string[] = [];
    for (const [key, value] of Object.entries(raw)) {
      values[key] = value;
      if (!hasReference(value)) continue;
      // Provider settings stay as written: fromWorker reports a reference in the worker's, and in a
      // connector file they are unknown keys anyway.
      if (key === LIST_KEY || key.startsWith(PREFIX)) continue;
      if (isStructuralKey(key)) {
        failedKeys.push(key);
        problems.push({ file, key, expected: LITERAL_EXPECTED, got: value });
        continue;
      }
      let resolvedAny = false;
      let failed = false;
      const fail = (problem: Omit<ConfigProblem, 'file' | 'key'>, whole: string) => {
        problems.push({ file, key, ...problem });
        failed = true;
        return whole;
      };
      values[key] = value.replace(REFERENCE, (whole, name: string, path: string | undefined, ref: string) => {
        const provider = this.#providers.get(name);
        const unusable = provider === undefined ? (this.#noneKnown ?? this.#unusable.get(name)) : undefined;
        if (unusable !== undefined)
          return fail({ expected: `a value from config provider '${name}'`, got: unusable }, whole);
        if (provider === undefined) {
          const names = this.names();
          const suggestion = closest(name, names);
          return fail(
            {
              expected: `a declared config provider (${names.join(', ') || 'none'})`,
              got: name,
              ...(suggestion === undefined ? {} : { suggestion }),
            },
            whole,
          );
        }
        const found = provider.get(path, ref);
        if (!found.ok)
          return fail({ expected: `a value from config provider '${name}'`, got: found.reason }, whole);
        resolvedAny = true;
        secretValues.push(found.value);
        return found.value;
      });
      if (resolvedAny) secretKeys.push(key);
      if (failed) failedKeys.push(key);
    }
    return { values, problems, secretValues, secretKeys, failedKeys };
  }
}
