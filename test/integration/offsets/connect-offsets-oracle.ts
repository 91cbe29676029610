/**
 * A long-lived JVM running test/java/ConnectOffsetsOracle.java on the kafka-clients classpath the stack
 * resolves with Maven, so tests can ask Kafka's own `Utils.murmur2`, its default partitioner and the
 * Jackson that Connect writes offsets with. Requests are pipelined: a batch costs one round trip.
 *
 * @example
 * ```ts
 * const oracle = await ConnectOffsetsOracle.start();
 * const [answer] = await oracle.encode([typedOf(['c', { position: 1 }])], [25]);
 * await oracle.close();
 * ```
 * @module
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ConnectJson } from '../../../src/offsets/connect-json.ts';
import { resolveStackClasspaths } from '../../../src/stack/maven-classpath.ts';
import { requireJava, requireMaven, toolEnvironment } from '../../../src/stack/preconditions.ts';

const ORACLE_SOURCE = fileURLToPath(new URL('../../java/ConnectOffsetsOracle.java', import.meta.url));

/** A value with its Java type, as the oracle builds it. */
export type Typed =
  | { readonly t: 'null' }
  | { readonly t: 'boolean'; readonly v: boolean }
  | { readonly t: 'string'; readonly v: string }
  | { readonly t: 'long'; readonly v: string }
  | { readonly t: 'double'; readonly v?: string; readonly bits: string }
  | { readonly t: 'list'; readonly items: readonly Typed[] }
  | { readonly t: 'map'; readonly entries: readonly (readonly [string, Typed])[] };

export interface EncodeAnswer {
  /** JsonSerializer's bytes, doubles by this JDK's Double.toString. */
  readonly bytes: Buffer;
  /** The same with Jackson's fast (Schubfach) double writer, i.e. JDK 19+ Double.toString. */
  readonly fastBytes: Buffer;
  readonly murmur2: number;
  readonly toPositive: number;
  /** BuiltInPartitioner.partitionForKey for each requested partition count. */
  readonly partitionFor: readonly number[];
}

/** The Java type our encoder gives a JavaScript value: integral int64-range numbers are Longs. */
export function typedOf(value: ConnectJson): Typed {
  if (value === null) return { t: 'null' };
  if (typeof value === 'boolean') return { t: 'boolean', v: value };
  if (typeof value === 'string') return { t: 'string', v: value };
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63) {
      return { t: 'long', v: BigInt(value).toString() };
    }
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, value);
    return { t: 'double', bits: view.getBigUint64(0).toString(16) };
  }
  if (Array.isArray(value)) return { t: 'list', items: value.map(typedOf) };
  return { t: 'map', entries: Object.entries(value).map(([k, v]) => [k, typedOf(v)] as const) };
}

/** JSON with every char outside printable ASCII escaped, so lone surrogates survive the pipe. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export class ConnectOffsetsOracle {
  private readonly pending: { resolve: (line: string) => void; reject: (err: Error) => void }[] = [];
  private buffered = '';
  private exited: string | undefined;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('ascii');
    child.stdout.on('data', (chunk: string) => this.onData(chunk));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('exit', (code) => {
      this.exited = `the Java oracle exited (code ${code}): ${stderr.trim()}`;
      for (const waiter of this.pending.splice(0)) waiter.reject(new Error(this.exited));
    });
  }

  /** Resolves the kafka-clients classpath (cached; Maven on a cold cache) and starts the JVM. */
  static async start(): Promise<ConnectOffsetsOracle> {
    const tools = toolEnvironment(process.env);
    const java = await requireJava(tools, ['Kafka']);
    const classpaths = await resolveStackClasspaths({
      requireMaven: () => requireMaven(tools, ['Kafka']),
      log: (line) => process.stderr.write(`${line}\n`),
    });
    const child = spawn(java.javaPath, ['-cp', classpaths.kafkaClasspath, ORACLE_SOURCE], { stdio: 'pipe' });
    const oracle = new ConnectOffsetsOracle(child);
    await oracle.murmur2([new Uint8Array([1])]);
    return oracle;
  }

  async encode(values: readonly Typed[], partitions: readonly number[] = []): Promise<EncodeAnswer[]> {
    const answers = await this.request(values.map((value) => ({ op: 'encode', value, partitions })));
    return answers.map((a) => ({
      bytes: Buffer.from(a.bytes as string, 'base64'),
      fastBytes: Buffer.from(a.fastBytes as string, 'base64'),
      murmur2: a.murmur2 as number,
      toPositive: a.toPositive as number,
      partitionFor: a.partitionFor as number[],
    }));
  }

  async murmur2(data: readonly Uint8Array[]): Promise<{ murmur2: number; toPositive: number }[]> {
    const answers = await this.request(
      data.map((bytes) => ({ op: 'murmur2', bytes: Buffer.from(bytes).toString('base64') })),
    );
    return answers.map((a) => ({ murmur2: a.murmur2 as number, toPositive: a.toPositive as number }));
  }

  /** How Connect's JsonConverter (schemaless) types the JSON in `data`. */
  async decode(data: readonly Uint8Array[]): Promise<Typed[]> {
    const answers = await this.request(
      data.map((bytes) => ({ op: 'decode', bytes: Buffer.from(bytes).toString('base64') })),
    );
    return answers.map((a) => a.value as Typed);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    await exited;
  }

  private async request(requests: readonly object[]): Promise<Record<string, unknown>[]> {
    if (this.exited !== undefined) throw new Error(this.exited);
    const lines = requests.map(
      () => new Promise<string>((resolve, reject) => this.pending.push({ resolve, reject })),
    );
    this.child.stdin.write(requests.map((r) => `${asciiJson(r)}\n`).join(''));
    const answers = (await Promise.all(lines)).map((line) => JSON.parse(line) as Record<string, unknown>);
    const failed = answers.find((a) => a.error !== undefined);
    if (failed !== undefined) throw new Error(`the Java oracle failed: ${String(failed.error)}`);
    return answers;
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let newline = this.buffered.indexOf('\n');
    while (newline >= 0) {
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      this.pending.shift()?.resolve(line);
      newline = this.buffered.indexOf('\n');
    }
  }
}
