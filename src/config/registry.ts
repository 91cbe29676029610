/**
 * The plugin registry: every connector class, converter, transformation and predicate contributes its
 * own strict key table under a short name and any Kafka Connect class-name aliases, so an existing Connect
 * configuration (`connector.class=org.apache.kafka.connect.file.FileStreamSourceConnector`) resolves to the
 * same definition as our short name (`file`).
 *
 * The registry holds definitions only; the composition roots (`handlers/`, `cli/`) fill it from
 * `src/connectors/` and `src/data/` and hand it to the bundle loader.
 *
 * @example
 * ```ts
 * const registry = new Registry().connector(fileSourceDef).converter(stringConverterDef);
 * registry.find('connector', 'FileStreamSource')?.name; // 'file-source'
 * ```
 * @module
 */
import type { ConfigProblem } from '../errors.ts';
import type { KeyTable } from './keys.ts';
import type { ConfigSchema } from './validate-keys.ts';

export type PluginType = 'connector' | 'converter' | 'transformation' | 'predicate';
export type ConnectorKind = 'source' | 'sink';

/** Reports a cross-key problem; the loader fills in the file. */
export type ReportProblem = (problem: Omit<ConfigProblem, 'file'>) => void;

/**
 * How a cross-key check shows the value of `key` inside a problem about another key: `[hidden]` when the
 * key is secret (marked so, secret-named, or given by a config provider), else the value, redacted.
 */
export type ShowValue = (key: string, value: string) => string;

/** What every plugin definition has. */
export interface PluginDef<T extends KeyTable = KeyTable> {
  /** Canonical short name, shown by `validate` and used in the reference. */
  readonly name: string;
  /** Other accepted spellings: Kafka Connect class names. */
  readonly aliases: readonly string[];
  readonly doc: string;
  readonly schema: ConfigSchema<T>;
  /**
   * Cross-key checks after every key parsed (e.g. "one of topics or topics.regex"). `values` holds the
   * plugin's own keys and, for connectors, the shared connector keys. A value quoted in a problem goes
   * through `show`, so a secret one is hidden even when parsed into another form (`' 03000 '` → 3000).
   */
  readonly check?: (
    values: Readonly<Record<string, unknown>>,
    report: ReportProblem,
    show: ShowValue,
  ) => void;
}

export interface ConnectorDef<T extends KeyTable = KeyTable> extends PluginDef<T> {
  readonly kind: ConnectorKind;
}

interface Defs {
  connector: ConnectorDef;
  converter: PluginDef;
  transformation: PluginDef;
  predicate: PluginDef;
}

/** A set of plugin definitions, looked up by short name or alias. Frozen by {@link Registry.freeze}. */
export class Registry {
  readonly #defs: { [P in PluginType]: Map<string, Defs[P]> } = {
    connector: new Map(),
    converter: new Map(),
    transformation: new Map(),
    predicate: new Map(),
  };

  #frozen = false;

  #add<P extends PluginType>(type: P, def: Defs[P]): this {
    if (this.#frozen) throw new Error(`the registry is frozen; register ${def.name} before loading bundles`);
    const map = this.#defs[type] as Map<string, Defs[P]>;
    for (const name of [def.name, ...def.aliases]) {
      if (map.has(name)) throw new Error(`${type} ${name} is registered twice`);
      map.set(name, def);
    }
    return this;
  }

  connector<T extends KeyTable>(def: ConnectorDef<T>): this {
    return this.#add('connector', def as unknown as ConnectorDef);
  }

  converter<T extends KeyTable>(def: PluginDef<T>): this {
    return this.#add('converter', def as unknown as PluginDef);
  }

  transformation<T extends KeyTable>(def: PluginDef<T>): this {
    return this.#add('transformation', def as unknown as PluginDef);
  }

  predicate<T extends KeyTable>(def: PluginDef<T>): this {
    return this.#add('predicate', def as unknown as PluginDef);
  }

  /** The definition registered under `name` (short name or alias). */
  find<P extends PluginType>(type: P, name: string): Defs[P] | undefined {
    return this.#defs[type].get(name.trim()) as Defs[P] | undefined;
  }

  /** Every accepted name of `type`, for suggestions and error messages. */
  names(type: PluginType): string[] {
    return [...this.#defs[type].keys()];
  }

  /** Each definition of `type` once, in registration order (for the reference). */
  definitions<P extends PluginType>(type: P): Defs[P][] {
    return [...new Set(this.#defs[type].values())] as Defs[P][];
  }

  /** Refuses further registrations: a loaded bundle must not see the registry change under it. */
  freeze(): this {
    this.#frozen = true;
    return this;
  }
}
