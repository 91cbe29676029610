/**
 * A packaged function run the way Lambda runs it: AWS's Runtime Interface Emulator (`aws-lambda-rie`)
 * starts AWS's Node.js runtime interface client (`aws-lambda-ric <handler>`) in the unpacked function
 * directory (`LAMBDA_TASK_ROOT`, also its working directory), and events are sent over the emulator's
 * Invoke API. The emulator starts the runtime at the first invocation (that is the cold start), and
 * forwards its own environment to the function: the function sees only what {@link EmulatorOptions.env}
 * gives it, plus PATH (for `node`) and Lambda's variables.
 *
 * What it prints is kept: the function's log lines, and per invocation the `REPORT` line (Duration,
 * Billed Duration, Init Duration, Max Memory Used). The emulator's REPORT Init Duration is ~0 ms (it only
 * times the hand-over), so the runtime's own `INIT REPORT(durationMs: …)` log line is kept beside it.
 *
 * @example
 * ```ts
 * const fn = await startEmulator({ tools, functionDir, handler: 'index.handler', env: { CONNECT_FN_CONNECTOR: 'orders' } });
 * const { body, report } = await fn.invoke({ task: 0 });
 * await fn.stop();
 * ```
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, Socket } from 'node:net';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { LambdaTools } from './lambda-tools.ts';

export interface EmulatorOptions {
  readonly tools: LambdaTools;
  /** The unpacked zip. */
  readonly functionDir: string;
  /** `<file>.<export>`, e.g. `index.handler`. */
  readonly handler: string;
  /** The function's environment variables (as the function's configuration sets them). */
  readonly env: Readonly<Record<string, string>>;
  /** The function timeout: `context.getRemainingTimeInMillis()` counts down from it. Default 30. */
  readonly timeoutSeconds?: number;
  /** The function's memory (`context.memoryLimitInMB`). Default 256. */
  readonly memoryMb?: number;
}

/** A `REPORT` line's figures. */
export interface InvocationReport {
  readonly requestId: string;
  readonly durationMs: number;
  readonly billedDurationMs: number;
  /** Present on the first invocation only (the emulator's figure: ~0, see the module doc). */
  readonly initDurationMs?: number;
  readonly memorySizeMb: number;
  /** The emulator reports the memory size here (it does not measure). */
  readonly maxMemoryUsedMb: number;
}

export interface Invocation {
  /** 200 for a result or a handler error; 502 when the function failed to initialise. */
  readonly status: number;
  /** The response, parsed: the handler's return value, or Lambda's `{errorType, errorMessage, trace}`. */
  readonly body: unknown;
  /** Undefined when the invocation never ran (an init failure prints no REPORT). */
  readonly report: InvocationReport | undefined;
}

export interface RunningFunction {
  invoke(event: unknown): Promise<Invocation>;
  /** Every line the emulator and the function printed, stdout then stderr interleaved as read. */
  readonly lines: readonly string[];
  /** The function's JSON log lines (ours are raw JSON; `console.*` lines come as `time\tid\tLEVEL\tjson`). */
  jsonLogs(): Record<string, unknown>[];
  /** The runtime's init as the emulator logged it (`INIT REPORT(durationMs: …)`, first init), if any yet. */
  runtimeInitMs(): number | undefined;
  stop(): Promise<void>;
}

const INVOKE_PATH = '/2015-03-31/functions/function/invocations';

/** Starts the emulator and waits until its Invoke API accepts connections. */
export async function startEmulator(options: EmulatorOptions): Promise<RunningFunction> {
  const [apiPort, runtimePort] = [await freePort(), await freePort()];
  const child = spawn(
    options.tools.rie,
    [
      '--log-level',
      'info',
      '--runtime-interface-emulator-address',
      `127.0.0.1:${apiPort}`,
      '--runtime-api-address',
      `127.0.0.1:${runtimePort}`,
      options.tools.ric,
      options.handler,
    ],
    // Its own process group: stop() ends the emulator and the runtime it started, nothing else.
    {
      cwd: options.functionDir,
      env: functionEnv(options),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  const output = new EmulatorOutput(child);
  try {
    await acceptsConnections(apiPort, child);
  } catch (err) {
    await stopProcessGroup(child);
    throw new Error(`aws-lambda-rie did not start: ${(err as Error).message}\n${output.lines.join('\n')}`);
  }
  return {
    invoke: (event) => invoke(apiPort, event, output),
    lines: output.lines,
    jsonLogs: () => output.jsonLogs(),
    runtimeInitMs: () => output.runtimeInitMs,
    stop: () => stopProcessGroup(child),
  };
}

/** What the emulator passes on to the function, and the variables Lambda sets itself. */
function functionEnv(options: EmulatorOptions): NodeJS.ProcessEnv {
  return {
    // `aws-lambda-ric` is a `#!/usr/bin/env node` script: the node running the tests runs the function.
    PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
    LAMBDA_TASK_ROOT: options.functionDir,
    AWS_LAMBDA_FUNCTION_NAME: options.env.CONNECT_FN_CONNECTOR ?? 'function',
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(options.timeoutSeconds ?? 30),
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb ?? 256),
    AWS_REGION: 'us-east-1',
    // Lambda always hands the function its role's credentials; these are what DynamoDB Local accepts.
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SESSION_TOKEN: 'local',
    TZ: ':UTC',
    ...options.env,
  };
}

async function invoke(port: number, event: unknown, output: EmulatorOutput): Promise<Invocation> {
  const requestId = randomUUID();
  const reported = output.reportFor(requestId);
  const response = await fetch(`http://127.0.0.1:${port}${INVOKE_PATH}`, {
    method: 'POST',
    headers: { 'X-Amzn-RequestId': requestId },
    body: JSON.stringify(event),
  });
  const text = await response.text();
  // The emulator prints REPORT before it answers; an init failure answers 502 and prints none.
  const report = response.status === 200 ? await reported : undefined;
  return { status: response.status, body: parseBody(text), report };
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // e.g. "Task timed out after 30.00 seconds"
  }
}

const REPORT_LINE = /^REPORT RequestId: (\S+)\t(.*)$/;
const INIT_REPORT = /INIT REPORT\(durationMs: ([\d.]+)\)/;

/** The emulator's stdout and stderr, line by line. */
class EmulatorOutput {
  readonly lines: string[] = [];
  runtimeInitMs: number | undefined;
  readonly #waiting = new Map<string, (report: InvocationReport) => void>();
  readonly #exited: Promise<unknown>;

  constructor(child: ChildProcess) {
    this.#exited = once(child, 'exit');
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => this.#line(line));
    }
  }

  /** The REPORT of `requestId`, once printed; rejects if the emulator exits first. */
  reportFor(requestId: string): Promise<InvocationReport> {
    const report = new Promise<InvocationReport>((resolve, reject) => {
      this.#waiting.set(requestId, resolve);
      this.#exited.then(() => reject(new Error(`aws-lambda-rie exited before reporting ${requestId}`)));
    });
    report.catch(() => undefined); // not awaited when the invocation answers without a REPORT
    return report;
  }

  jsonLogs(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const line of this.lines) {
      const json = line.startsWith('{') ? line : line.split('\t')[3];
      if (!json?.startsWith('{')) continue;
      try {
        out.push(JSON.parse(json) as Record<string, unknown>);
      } catch {
        // not a JSON line
      }
    }
    return out;
  }

  #line(line: string): void {
    this.lines.push(line);
    const init = INIT_REPORT.exec(line);
    if (init && this.runtimeInitMs === undefined) this.runtimeInitMs = Number(init[1]);
    const report = REPORT_LINE.exec(line);
    if (report?.[1] !== undefined && report[2] !== undefined) {
      this.#waiting.get(report[1])?.(parseReport(report[1], report[2]));
      this.#waiting.delete(report[1]);
    }
  }
}

/** `Init Duration: 0.15 ms\tDuration: 156.38 ms\tBilled Duration: 157 ms\tMemory Size: 256 MB\t...`. */
function parseReport(requestId: string, fields: string): InvocationReport {
  const figures = new Map<string, number>();
  for (const field of fields.split('\t')) {
    const match = /^([A-Za-z ]+): ([\d.]+) (ms|MB)$/.exec(field.trim());
    if (match?.[1] !== undefined) figures.set(match[1], Number(match[2]));
  }
  const figure = (name: string) => {
    const value = figures.get(name);
    if (value === undefined) throw new Error(`REPORT line without ${name}: ${fields}`);
    return value;
  };
  const init = figures.get('Init Duration');
  return {
    requestId,
    durationMs: figure('Duration'),
    billedDurationMs: figure('Billed Duration'),
    ...(init === undefined ? {} : { initDurationMs: init }),
    memorySizeMb: figure('Memory Size'),
    maxMemoryUsedMb: figure('Max Memory Used'),
  };
}

/** A port nothing listens on right now (the OS's choice). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

/**
 * Resolves once `port` accepts a connection; rejects if the emulator exits first. The emulator prints
 * nothing when it starts listening, so each refused connection is followed by another attempt, 10 ms later.
 */
async function acceptsConnections(port: number, child: ChildProcess): Promise<void> {
  let exited = false;
  const onExit = (code: number | null) => {
    exited = true;
    return code;
  };
  child.once('exit', onExit);
  try {
    for (;;) {
      if (exited) throw new Error(`it exited with ${child.exitCode ?? child.signalCode}`);
      if (await connects(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    child.off('exit', onExit);
  }
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}

/** SIGTERM to the emulator's process group (the emulator and the runtime), then waits for the emulator. */
async function stopProcessGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return; // already gone
  }
  await exited;
}
