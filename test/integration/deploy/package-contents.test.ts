/**
 * What a connector's package contains, read from esbuild's metafile: only that connector's plugin code,
 * the offsets store its `offset.storage` needs and the MSK IAM signer only with IAM.
 */
import { describe, expect, it } from 'vitest';
import { builtinPlugins } from '../../../src/connectors/builtins.ts';
import { buildCode } from '../../../src/deploy/artifact.ts';
import { type EntryFacts, entryFor, PLUGIN_MODULES } from '../../../src/deploy/entry.ts';

const PLAIN = { securityProtocol: 'PLAINTEXT', saslMechanism: null, iam: false };
const IAM = { securityProtocol: 'SASL_SSL', saslMechanism: 'AWS_MSK_IAM', iam: true };

function facts(
  plugin: string,
  storage: 'kafka' | 'dynamodb' | 'file',
  more: Partial<EntryFacts> = {},
): EntryFacts {
  const kind = plugin.endsWith('sink') ? 'sink' : 'source';
  return {
    plugin,
    kind,
    trigger: 'schedule',
    offsets: { storage, topic: null, table: null },
    kafka: PLAIN,
    ...more,
  };
}

/** The inputs of the package's code: files of this checkout and packages, by path. */
async function inputs(entry: EntryFacts): Promise<string[]> {
  const { metafile } = await buildCode(entryFor(entry));
  return Object.keys(metafile.inputs);
}

const has = (paths: readonly string[], part: string) => paths.some((p) => p.includes(part));
const connectorFolders = (paths: readonly string[]) =>
  [...new Set(paths.flatMap((p) => /^src\/connectors\/([^/]+)\//.exec(p)?.[1] ?? []))].sort();

describe('a package contains its connector and the clients its config needs, nothing else', () => {
  it('file source, offsets in Kafka: no DynamoDB client, no MSK IAM signer, no other connector', async () => {
    const paths = await inputs(facts('file-source', 'kafka'));
    expect(has(paths, 'node_modules/kafkajs/')).toBe(true);
    expect(has(paths, 'node_modules/@aws-sdk/client-dynamodb')).toBe(false);
    expect(has(paths, 'node_modules/@aws-sdk/')).toBe(false);
    expect(has(paths, 'aws-msk-iam-sasl-signer-js')).toBe(false);
    expect(has(paths, 'src/offsets/dynamodb-')).toBe(false);
    expect(connectorFolders(paths)).toEqual(['file']);
  });

  it('DynamoDB sink: the DynamoDB client; triggered, no offsets store', async () => {
    const paths = await inputs(facts('dynamodb-sink', 'kafka', { trigger: 'kafka' }));
    expect(has(paths, 'node_modules/@aws-sdk/client-dynamodb/')).toBe(true);
    expect(has(paths, 'src/offsets/kafka-store.ts')).toBe(false);
    expect(has(paths, 'src/offsets/dynamodb-store.ts')).toBe(false);
    expect(connectorFolders(paths)).toEqual(['dynamodb']);
  });

  it('datagen with offsets in DynamoDB and MSK IAM: the store, its client and the signer', async () => {
    const paths = await inputs(facts('datagen', 'dynamodb', { kafka: IAM }));
    expect(has(paths, 'src/offsets/dynamodb-store.ts')).toBe(true);
    expect(has(paths, 'node_modules/@aws-sdk/client-dynamodb/')).toBe(true);
    expect(has(paths, 'node_modules/aws-msk-iam-sasl-signer-js/')).toBe(true);
    expect(has(paths, 'node_modules/@aws-sdk/client-dynamodb-streams/')).toBe(false);
    expect(connectorFolders(paths)).toEqual(['datagen']);
  });

  it('no package holds the CLI, the packager, the local stack, test or bench code, or esbuild', async () => {
    for (const plugin of builtinPlugins) {
      const kind = plugin.def.name.endsWith('sink') ? 'sink' : 'source';
      for (const trigger of kind === 'sink' ? (['schedule', 'kafka'] as const) : (['schedule'] as const)) {
        const paths = await inputs(facts(plugin.def.name, 'kafka', { trigger }));
        const foreign = paths.filter((p) =>
          /^(src\/(cli|deploy|stack)\/|test\/|bench\/|infra\/|node_modules\/(esbuild|vitest|aws-cdk))/.test(
            p,
          ),
        );
        expect(foreign, `${plugin.def.name} trigger=${trigger}`).toEqual([]);
      }
    }
  });

  it('knows the module of every built-in plugin', async () => {
    for (const plugin of builtinPlugins) {
      const [module, name] = PLUGIN_MODULES[plugin.def.name] ?? ['', ''];
      const exported = (await import(`../../../${module}`)) as Record<string, unknown>;
      expect(exported[name]).toBe(plugin);
    }
  });
});
