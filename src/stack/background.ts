/**
 * Background mode (`connect-fn stack up|env|down`): detached JVMs that outlive the CLI, remembered in a
 * state file, `<project>/.connect-fn/stack.json` (env `CONNECT_FN_STATE_DIR` names another directory).
 *
 * A state file whose processes are gone or do not answer is stale: whatever of it still runs (and is
 * ours) is stopped, its temp dir removed, and a new stack started.
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { startStack, stopStack } from './index.ts';
import { isOurProcess } from './jvm-process.ts';
import { probeDynamoDb, probeKafka } from './readiness.ts';
import type { StartedService } from './service.ts';

const STATE_FILE = 'stack.json';
/** A running stack answers within milliseconds; this only bounds a hung one. */
const REUSE_PROBE_TIMEOUT_MS = 5_000;

const startedServiceSchema = z.object({
  name: z.enum(['kafka', 'dynamodb']),
  address: z.string(),
  pid: z.number().int().positive(),
  dir: z.string(),
  logFile: z.string(),
  readyMs: z.number(),
});

const stackStateSchema = z.object({
  version: z.literal(1),
  createdAtMs: z.number(),
  kafkaBrokers: z.string(),
  dynamodbEndpoint: z.string(),
  rootDir: z.string().optional(),
  services: z.array(startedServiceSchema),
  logFiles: z.array(z.string()),
});

/** What the state file holds: addresses, and the pids and dirs of what `up` started. */
export type StackState = z.infer<typeof stackStateSchema>;

/** `$CONNECT_FN_STATE_DIR`, else `.connect-fn/` in the nearest directory up from `cwd` with a package.json. */
export function stateDirFor(env: NodeJS.ProcessEnv, cwd: string): string {
  if (env.CONNECT_FN_STATE_DIR) return resolve(cwd, env.CONNECT_FN_STATE_DIR);
  let dir = resolve(cwd);
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return join(resolve(cwd), '.connect-fn');
    dir = parent;
  }
  return join(dir, '.connect-fn');
}

/** The state file's contents, or undefined when there is none (or it cannot be understood). */
export async function readState(stateDir: string): Promise<StackState | undefined> {
  let text: string;
  try {
    text = await readFile(join(stateDir, STATE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = stackStateSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function writeState(stateDir: string, state: StackState): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  // Write-then-rename: a reader never sees half a file.
  const temp = join(stateDir, `${STATE_FILE}.${process.pid}.tmp`);
  await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temp, join(stateDir, STATE_FILE));
}

/** The shell-exportable lines for a stack. */
export function envLines(state: Pick<StackState, 'kafkaBrokers' | 'dynamodbEndpoint'>): string[] {
  return [`KAFKA_BROKERS=${state.kafkaBrokers}`, `DYNAMODB_ENDPOINT=${state.dynamodbEndpoint}`];
}

/** True while every process the state names is alive and ours. */
export function isRunning(state: StackState): boolean {
  return state.services.every((service) => isOurProcess(service.pid, service.dir));
}

async function answers(state: StackState): Promise<boolean> {
  try {
    await Promise.all([
      probeKafka(state.kafkaBrokers, { createTopic: false, timeoutMs: REUSE_PROBE_TIMEOUT_MS }),
      probeDynamoDb(state.dynamodbEndpoint, REUSE_PROBE_TIMEOUT_MS),
    ]);
    return true;
  } catch {
    return false;
  }
}

export interface UpOptions {
  readonly stateDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly dbPath?: string | undefined;
  readonly log: (line: string) => void;
}

/** Reuses a running, answering stack, or cleans a stale one and starts a detached stack. */
export async function stackUp(options: UpOptions): Promise<{ state: StackState; reused: boolean }> {
  const existing = await readState(options.stateDir);
  if (existing !== undefined) {
    if (isRunning(existing) && (await answers(existing))) {
      const pids = existing.services.map((s) => `${s.name} pid ${s.pid}`).join(', ');
      options.log(`reusing the running stack (${pids || 'external services'})`);
      return { state: existing, reused: true };
    }
    options.log('found a stale stack state (processes gone or not answering); cleaning it up');
    await removeStack(options.stateDir, existing);
  }
  const stack = await startStack({
    env: options.env,
    dbPath: options.dbPath,
    detached: true,
    log: options.log,
  });
  const state: StackState = {
    version: 1,
    createdAtMs: Date.now(),
    kafkaBrokers: stack.kafkaBrokers,
    dynamodbEndpoint: stack.dynamodbEndpoint,
    ...(stack.rootDir === undefined ? {} : { rootDir: stack.rootDir }),
    services: [...stack.started],
    logFiles: [...stack.logFiles],
  };
  try {
    await writeState(options.stateDir, state);
  } catch (err) {
    await stack.stop(); // a stack nobody can find again must not keep running
    throw err;
  }
  return { state, reused: false };
}

/** Stops the background stack and forgets it; returns what was stopped, undefined if there was none. */
export async function stackDown(stateDir: string): Promise<StackState | undefined> {
  const state = await readState(stateDir);
  if (state === undefined) {
    await rm(join(stateDir, STATE_FILE), { force: true }); // an unreadable file is no stack either
    return undefined;
  }
  await removeStack(stateDir, state);
  return state;
}

async function removeStack(stateDir: string, state: StackState): Promise<void> {
  const services: readonly StartedService[] = state.services;
  await stopStack(services, state.rootDir);
  await rm(join(stateDir, STATE_FILE), { force: true });
}
