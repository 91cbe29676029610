/**
 * Every built-in part (./parts.ts): all connector plugins, every offsets store and AWS's MSK IAM signer.
 * What `connect-fn run`, the CLI, the benchmarks and the tests compose functions of; a packaged function
 * composes its own (src/deploy/entry.ts) and never imports this module.
 * @module
 */
import { builtinPlugins } from '../connectors/builtins.ts';
import { awsMskIamSigner } from '../kafka/msk-iam-signer.ts';
import { openDynamoDbOffsetStore } from './offset-stores/dynamodb.ts';
import { openFileOffsetStore } from './offset-stores/file.ts';
import { openKafkaOffsetStore } from './offset-stores/kafka.ts';
import type { FunctionParts } from './parts.ts';

export const builtinParts: FunctionParts = {
  plugins: builtinPlugins,
  offsetStores: { kafka: openKafkaOffsetStore, dynamodb: openDynamoDbOffsetStore, file: openFileOffsetStore },
  mskIamSigner: awsMskIamSigner,
};
