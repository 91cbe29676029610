/**
 * The dependency rules (.dependency-cruiser.cjs, run by `npm run lint`) catch the arrows they forbid: a
 * small tree of fixture files, one wrong import per rule plus the arrows the layout allows, is cruised with
 * the project's own config and CLI, and exactly the expected (file, rule) violations must come back. A rule
 * that is dropped or widened, or a new rule without a fixture here, fails this test.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules', '.bin', 'depcruise');
const ruleNames: string[] = createRequire(import.meta.url)(CONFIG).forbidden.map(
  (r: { name: string }) => r.name,
);

/** One wrong arrow per rule: `from` imports `to` (a path of ours, or a package). */
const WRONG: Record<string, { from: string; to: string }> = {
  'spi-is-a-leaf': { from: 'src/spi/bad.ts', to: 'src/errors.ts' },
  'leaf-modules': { from: 'src/secret-keys.ts', to: 'src/spi/records.ts' },
  'secret-shapes-builds-on-secret-keys-only': { from: 'src/secret-shapes.ts', to: 'src/errors.ts' },
  'config-imports-leaves-only': { from: 'src/config/bad.ts', to: 'src/connectors/builtins.ts' },
  'data-imports-spi-config-errors': { from: 'src/data/bad.ts', to: 'src/runtime/ports.ts' },
  'observability-imports-secret-rules-only': {
    from: 'src/observability/bad.ts',
    to: 'src/config/redaction.ts',
  },
  'runtime-talks-through-ports': { from: 'src/runtime/bad.ts', to: 'src/kafka/index.ts' },
  'cloud-clients-only-in-adapters': { from: 'src/app/bad.ts', to: '@aws-sdk/client-dynamodb' },
  'app-is-for-entry-points': { from: 'src/connectors/bad.ts', to: 'src/app/function-common.ts' },
  'composition-takes-its-parts': { from: 'src/app/source-core.ts', to: 'src/connectors/builtins.ts' },
  'stack-is-for-tools': { from: 'handlers/bad.ts', to: 'src/stack/index.ts' },
  'nothing-imports-handlers': { from: 'src/cli/bad.ts', to: 'handlers/source.ts' },
  'nothing-imports-cli': { from: 'bench/bad.ts', to: 'src/cli/main.ts' },
  'production-never-imports-tests': { from: 'src/kafka/bad.ts', to: 'test/support/fake-kafka.ts' },
  'src-never-imports-infra': { from: 'handlers/bad-infra.ts', to: 'infra/app.ts' },
  'infra-reads-bundles-and-manifests-only': { from: 'infra/bad.ts', to: 'src/runtime/ports.ts' },
  'deploy-imports-config-errors-spi': { from: 'src/deploy/bad.ts', to: 'src/kafka/index.ts' },
  'no-circular': { from: 'src/lambda/cycle-a.ts', to: 'src/lambda/cycle-b.ts' },
};

/** Arrows the layout allows: none of them may be reported. */
const ALLOWED: ReadonlyArray<{ from: string; to: string }> = [
  { from: 'src/lambda/cycle-b.ts', to: 'src/lambda/cycle-a.ts' }, // closes the cycle above
  { from: 'src/runtime/ok.ts', to: 'src/spi/records.ts' },
  { from: 'src/kafka/ok.ts', to: 'kafkajs' },
  { from: 'src/offsets/ok.ts', to: '@aws-sdk/client-dynamodb' },
  { from: 'src/stack/ok.ts', to: 'kafkajs' },
  { from: 'src/cli/ok.ts', to: 'src/app/function-common.ts' },
  { from: 'src/app/builtin-parts.ts', to: 'src/connectors/builtins.ts' },
  { from: 'src/app/sink-function.ts', to: 'src/app/builtin-parts.ts' },
  { from: 'src/cli/ok-stack.ts', to: 'src/stack/index.ts' },
  { from: 'handlers/ok.ts', to: 'src/app/function-common.ts' },
  { from: 'bench/ok.ts', to: 'src/stack/index.ts' },
  { from: 'bench/ok-app.ts', to: 'src/app/function-common.ts' },
  { from: 'test/ok.ts', to: 'handlers/source.ts' },
  { from: 'test/ok-cli.ts', to: 'src/cli/main.ts' },
  { from: 'infra/ok.ts', to: 'src/config/bundle.ts' },
  { from: 'infra/ok-deploy.ts', to: 'src/deploy/manifest.ts' },
  { from: 'src/deploy/ok.ts', to: 'src/config/bundle.ts' },
  { from: 'src/config/ok.ts', to: 'src/secret-shapes.ts' },
  { from: 'src/secret-shapes.ts', to: 'src/secret-keys.ts' },
];

interface Violation {
  readonly from: string;
  readonly rule: { readonly name: string };
}

let tree: string;

/** Writes `from` with an import of `to`, and `to` (when it is ours) as an empty module. */
function writeArrow(from: string, to: string): void {
  const ours = /^(src|handlers|bench|test|infra)\//.test(to);
  const specifier = ours ? relativeSpecifier(from, to) : to;
  append(from, `import '${specifier}';\n`);
  if (ours) append(to, '');
}

function relativeSpecifier(from: string, to: string): string {
  const ups = dirname(from).split('/').length;
  return `${'../'.repeat(ups)}${to}`;
}

function append(path: string, text: string): void {
  const file = join(tree, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text, { flag: 'a' });
}

function cruise(cwd: string, paths: string[]): Violation[] {
  const run = spawnSync(DEPCRUISE, [...paths, '--config', CONFIG, '--output-type', 'json'], {
    cwd,
    encoding: 'utf8',
  });
  if (run.stdout === '') throw new Error(`depcruise failed: ${run.stderr}`);
  return JSON.parse(run.stdout).summary.violations;
}

beforeAll(() => {
  tree = mkdtempSync(join(tmpdir(), 'connect-fn-deps-'));
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(tree, 'node_modules'));
  for (const { from, to } of [...Object.values(WRONG), ...ALLOWED]) writeArrow(from, to);
});

afterAll(() => {
  rmSync(tree, { recursive: true, force: true });
});

describe('dependency rules', () => {
  it('has a wrong-arrow fixture for every rule in .dependency-cruiser.cjs', () => {
    expect(Object.keys(WRONG).sort()).toEqual([...ruleNames].sort());
  });

  it('reports each wrong arrow under its rule, and none of the allowed ones', () => {
    const found = cruise(tree, ['src', 'handlers', 'bench', 'test', 'infra']).map(
      (v) => `${v.rule.name}: ${v.from}`,
    );
    const expected = Object.entries(WRONG).map(([rule, { from }]) => `${rule}: ${from}`);
    expect([...new Set(found)].sort()).toEqual(expected.sort());
  });

  it('finds no violation in the repository itself', () => {
    expect(cruise(ROOT, ['src', 'handlers', 'bench', 'infra'])).toEqual([]);
  });
});
