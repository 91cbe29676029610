/**
 * The generated entry of a connector's package: the module esbuild starts from. It composes the function
 * (src/app/parts.ts) of exactly what the connector needs — its own plugin, the offsets store its
 * `offset.storage` needs (none for a triggered sink, nor for a scheduled sink with offsets in Kafka, which
 * commits to Connect's consumer group through the Kafka clients) and AWS's MSK IAM signer only when the
 * bundle authenticates with IAM — and exports the Lambda `handler` of its kind and trigger, as
 * `handlers/*.ts` do for every connector. What the entry does not import is not in the package.
 *
 * @example
 * ```ts
 * const code = await buildCode(entryFor(manifest)); // ./artifact.ts
 * ```
 * @module
 */
import { join } from 'node:path';
import type { EntrySource } from './artifact.ts';
import { SOURCE_ROOT } from './artifact.ts';
import type { DerivedManifest } from './derive.ts';

/** A module of this checkout and the name it exports. */
type Export = readonly [module: string, name: string];

/** Each built-in plugin's module, by canonical name (a test checks every built-in has one). */
export const PLUGIN_MODULES: Readonly<Record<string, Export>> = {
  'file-source': ['src/connectors/file/source-plugin.ts', 'fileSourcePlugin'],
  'file-sink': ['src/connectors/file/sink-plugin.ts', 'fileSinkPlugin'],
  datagen: ['src/connectors/datagen/plugin.ts', 'datagenPlugin'],
  'dynamodb-sink': ['src/connectors/dynamodb/plugin.ts', 'dynamodbSinkPlugin'],
  'dynamodb-streams': ['src/connectors/dynamodb-streams/plugin.ts', 'dynamoDbStreamsPlugin'],
};

const STORE_MODULES: Readonly<Record<string, Export>> = {
  kafka: ['src/app/offset-stores/kafka.ts', 'openKafkaOffsetStore'],
  dynamodb: ['src/app/offset-stores/dynamodb.ts', 'openDynamoDbOffsetStore'],
  file: ['src/app/offset-stores/file.ts', 'openFileOffsetStore'],
};

const SIGNER: Export = ['src/kafka/msk-iam-signer.ts', 'awsMskIamSigner'];

export type EntryFacts = Pick<DerivedManifest, 'plugin' | 'kind' | 'trigger' | 'offsets' | 'kafka'>;

/** The offsets store the function opens, if any. */
function storeOf(facts: EntryFacts): string | undefined {
  if (facts.kind === 'sink' && (facts.trigger === 'kafka' || facts.offsets.storage === 'kafka'))
    return undefined;
  return facts.offsets.storage;
}

function importLine([module, name]: Export): string {
  return `import { ${name} } from ${JSON.stringify(join(SOURCE_ROOT, module))};`;
}

/** The entry module's text for the connector `facts` describe. */
export function entryFor(facts: EntryFacts): EntrySource {
  const plugin = PLUGIN_MODULES[facts.plugin];
  if (plugin === undefined) throw new Error(`no plugin module is known for connector plugin ${facts.plugin}`);
  const storage = storeOf(facts);
  const store = storage === undefined ? undefined : STORE_MODULES[storage];
  const core: Export =
    facts.kind === 'source'
      ? ['src/app/source-core.ts', 'composeSourceFunction']
      : ['src/app/sink-core.ts', 'composeSinkFunction'];
  const handler = facts.trigger === 'kafka' ? 'triggerHandler' : 'handler';
  const parts = [
    `plugins: [${plugin[1]}]`,
    `offsetStores: {${store === undefined ? '' : ` ${storage}: ${store[1]} `}}`,
    ...(facts.kafka.iam ? [`mskIamSigner: ${SIGNER[1]}`] : []),
  ];
  return [
    "import { dirname } from 'node:path';",
    "import { fileURLToPath } from 'node:url';",
    importLine(['src/app/function-common.ts', 'functionFromEnv']),
    importLine(core),
    importLine(plugin),
    ...(store === undefined ? [] : [importLine(store)]),
    ...(facts.kafka.iam ? [importLine(SIGNER)] : []),
    `const parts = { ${parts.join(', ')} };`,
    `const options = { ...functionFromEnv(dirname(fileURLToPath(import.meta.url))), parts };`,
    `export const handler = ${core[1]}(options).${handler};`,
    '',
  ].join('\n');
}
