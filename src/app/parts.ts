/**
 * The parts a connector function is composed of, injected so that each composition root takes only what
 * it runs: `connect-fn run` and the CLI take every built-in (./builtin-parts.ts); a packaged function takes
 * its connector's plugin, the offsets store its `offset.storage` needs and the MSK IAM signer only when the
 * bundle authenticates with IAM (src/deploy/entry.ts), so its package holds no other code or clients.
 * @module
 */
import type { ConnectorPlugin } from '../connectors/plugin.ts';
import type { MskTokenSigner } from '../kafka/index.ts';
import type { OffsetStores } from './offset-store.ts';

export interface FunctionParts {
  /** The connector plugins the function may run (a packaged function: its own). */
  readonly plugins: readonly ConnectorPlugin[];
  /** How to open the offsets store of each `offset.storage` the function may meet. */
  readonly offsetStores: OffsetStores;
  /** Signs MSK IAM tokens; absent when the bundle does not authenticate with IAM. */
  readonly mskIamSigner?: MskTokenSigner;
}
