/**
 * The dependency rules of DESIGN.md §1 and docs/architecture.md ("Dependency direction"), checked by
 * `npm run lint` (`depcruise src handlers bench infra`): an import that points the wrong way fails the build.
 * test/unit/dependency-rules.test.ts proves each rule catches the arrow it forbids.
 *
 * Paths are relative to the repository root. Packages are matched anywhere in the resolved path, because
 * node_modules may be a symlink (a git worktree's), which the resolver follows.
 */
const OURS = '^(src|handlers|bench|test|infra)/';
const CLOUD_CLIENTS = 'node_modules/(kafkajs|@aws-sdk/[^/]+|aws-msk-iam-sasl-signer-js)/';

/** A rule that `from` imports nothing of ours except what `allowed` matches (null: nothing at all). */
function importsOnly(name, comment, from, allowed) {
  const to = allowed === null ? { path: OURS } : { path: OURS, pathNot: allowed };
  return { name, comment, severity: 'error', from: { path: from }, to };
}

/** A rule that nothing but `importers` imports `target`. */
function importedOnlyBy(name, comment, target, importers) {
  return { name, comment, severity: 'error', from: { path: OURS, pathNot: importers }, to: { path: target } };
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    importsOnly(
      'spi-is-a-leaf',
      'src/spi/ (the connector SPI, types only) imports nothing of ours (DESIGN.md §1).',
      '^src/spi/',
      '^src/spi/',
    ),
    importsOnly(
      'leaf-modules',
      'src/errors.ts and src/secret-keys.ts import nothing of ours (DESIGN.md §1).',
      '^src/(errors|secret-keys)\\.ts$',
      null,
    ),
    importsOnly(
      'secret-shapes-builds-on-secret-keys-only',
      'src/secret-shapes.ts imports secret-keys.ts only.',
      '^src/secret-shapes\\.ts$',
      '^src/secret-keys\\.ts$',
    ),
    importsOnly(
      'config-imports-leaves-only',
      'src/config/ imports errors.ts, secret-keys.ts, secret-shapes.ts and spi/ only: it never knows a ' +
        'connector, a client or the runtime (the composition root passes the registry and the Kafka checks).',
      '^src/config/',
      '^src/(config/|spi/|errors\\.ts$|secret-keys\\.ts$|secret-shapes\\.ts$)',
    ),
    importsOnly(
      'data-imports-spi-config-errors',
      'src/data/ (converters) imports spi/, config/ (keys.ts, registry.ts types) and errors.ts only.',
      '^src/data/',
      '^src/(data/|spi/|config/|errors\\.ts$)',
    ),
    importsOnly(
      'observability-imports-secret-rules-only',
      'src/observability/ imports secret-keys.ts and secret-shapes.ts only (the redactor is injected).',
      '^src/observability/',
      '^src/(observability/|secret-keys\\.ts$|secret-shapes\\.ts$)',
    ),
    importsOnly(
      'runtime-talks-through-ports',
      'src/runtime/ imports spi/, config/, data/, observability/ and errors.ts only: never a client ' +
        '(kafka/, offsets/, connectors/), the composition (app/), the stack or the CLI, so every cycle can ' +
        'be unit-tested with in-memory fakes.',
      '^src/runtime/',
      '^src/(runtime/|spi/|config/|data/|observability/|errors\\.ts$)',
    ),
    importsOnly(
      'deploy-imports-config-errors-spi',
      'src/deploy/ (the deployment contract) imports config/, errors.ts and spi/ only.',
      '^src/deploy/',
      '^src/(deploy/|config/|spi/|errors\\.ts$)',
    ),
    importsOnly(
      'infra-reads-bundles-and-manifests-only',
      'infra/ imports src/config/ (to read a bundle) and src/deploy/ (the manifest contract) only.',
      '^infra/',
      '^(infra/|src/config/|src/deploy/)',
    ),
    {
      name: 'cloud-clients-only-in-adapters',
      comment:
        'Only src/kafka/, src/offsets/ and src/connectors/ import kafkajs, @aws-sdk/* or the MSK IAM signer. ' +
        'Two exceptions that never enter a Lambda package: src/stack/ (starts and probes the local Kafka and ' +
        'DynamoDB Local) and src/cli/quickstart-dynamodb.ts (makes and reads the quickstart tables there).',
      severity: 'error',
      from: {
        path: '^(src|handlers)/',
        pathNot: '^src/(kafka|offsets|connectors|stack)/|^src/cli/quickstart-dynamodb\\.ts$',
      },
      to: { path: CLOUD_CLIENTS },
    },
    importedOnlyBy(
      'app-is-for-entry-points',
      "src/app/ (composition: a bundle's clients, stores, converters) is imported by handlers/, src/cli/, " +
        'bench/ and test/; nothing else under src/ imports it.',
      '^src/app/',
      '^(src/app|src/cli|handlers|bench|test)/',
    ),
    {
      name: 'composition-takes-its-parts',
      comment:
        'src/app/ composes a function of the parts it is given (parts.ts): only builtin-parts.ts and the ' +
        'wrappers of every built-in (source-function.ts, sink-function.ts, connector-function.ts) reach all the ' +
        "connectors, so a packaged function's entry (src/deploy/entry.ts) holds only its own connector's code.",
      severity: 'error',
      from: {
        path: '^src/app/',
        pathNot: '^src/app/(builtin-parts|source-function|sink-function|connector-function)\\.ts$',
      },
      to: {
        path: '^src/(connectors/builtins|app/builtin-parts|app/source-function|app/sink-function)\\.ts$',
      },
    },
    importedOnlyBy(
      'stack-is-for-tools',
      'src/stack/ (the local Kafka + DynamoDB Local launcher) is imported by src/cli/, bench/ and test/ ' +
        'only: it never enters a Lambda package.',
      '^src/stack/',
      '^(src/stack|src/cli|bench|test)/',
    ),
    importedOnlyBy(
      'nothing-imports-handlers',
      'handlers/ are the Lambda entry points; only tests import them.',
      '^handlers/',
      '^test/',
    ),
    importedOnlyBy(
      'nothing-imports-cli',
      'src/cli/ is the connect-fn command; only tests import it.',
      '^src/cli/',
      '^(src/cli|test)/',
    ),
    {
      name: 'production-never-imports-tests',
      comment: 'src/, handlers/ and infra/ never import test/ or bench/.',
      severity: 'error',
      from: { path: '^(src|handlers|infra)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'src-never-imports-infra',
      comment: 'infra/ builds on src/; never the other way.',
      severity: 'error',
      from: { path: '^(src|handlers)/' },
      to: { path: '^infra/' },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js', '.cjs', '.json'] },
  },
};
