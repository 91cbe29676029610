/**
 * A long-lived JVM running test/java/PropertiesOracle.java, so tests can ask `java.util.Properties` itself
 * how it reads an input. One JVM per test file (~0.5 s to start); requests are pipelined, so a batch of
 * thousands of inputs costs one round trip.
 *
 * @example
 * ```ts
 * const oracle = await PropertiesOracle.start();
 * const [answer] = await oracle.loadStrings(['a=b']); // { puts: [['a', 'b']] }
 * await oracle.close();
 * ```
 * @module
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ORACLE_SOURCE = fileURLToPath(new URL('../java/PropertiesOracle.java', import.meta.url));

/** Set to `1` to skip the oracle tests on machines without Java (they fail otherwise). */
export const SKIP_JAVA_ORACLE_ENV = 'CONNECT_FN_SKIP_JAVA_ORACLE';

/** What `Properties.load` did: every `put(key, value)` in call order, or the exception it threw. */
export type JavaAnswer =
  | { readonly puts: readonly (readonly [string, string])[] }
  | { readonly error: string; readonly message: string };

/** The reason the oracle tests are skipped, or undefined when they run. */
export function javaOracleSkipReason(): string | undefined {
  return process.env[SKIP_JAVA_ORACLE_ENV] === '1' ? `${SKIP_JAVA_ORACLE_ENV}=1 is set` : undefined;
}

/** How a load ended, comparable with `toEqual`: the final entries in first-put order, or the exception. */
export type LoadOutcome = { readonly entries: readonly [string, string][] } | { readonly error: string };

/** What Java throws for a malformed `\uXXXX` escape, as a {@link LoadOutcome} error. */
export const JAVA_MALFORMED_UNICODE = 'java.lang.IllegalArgumentException: Malformed \\uxxxx encoding.';

/** Java's answer as an outcome: later puts of a key replace its value but keep its first position. */
export function javaOutcome(answer: JavaAnswer): LoadOutcome {
  if ('error' in answer) return { error: `${answer.error}: ${answer.message}` };
  return { entries: [...new Map(answer.puts)] };
}

/** JSON with every char outside printable ASCII as \uXXXX: shows lone surrogates, BOMs and line breaks. */
export function asciiJson(value: unknown): string {
  return (JSON.stringify(value) ?? 'undefined').replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export class PropertiesOracle {
  private readonly pending: { answer: (line: string) => void; fail: (err: Error) => void }[] = [];
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
      for (const waiter of this.pending.splice(0)) waiter.fail(new Error(this.exited));
    });
  }

  /** Starts the JVM; throws a clear error when `java` is missing. */
  static async start(): Promise<PropertiesOracle> {
    const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
    if (probe.error !== undefined || probe.status !== 0) {
      throw new Error(
        `Java is required for the properties oracle tests (they compare our parser with java.util.Properties), ` +
          `but \`java -version\` failed: ${probe.error?.message ?? probe.stderr}. ` +
          `Install a JDK (17+) or set ${SKIP_JAVA_ORACLE_ENV}=1 to skip them.`,
      );
    }
    const oracle = new PropertiesOracle(spawn('java', [ORACLE_SOURCE], { stdio: 'pipe' }));
    await oracle.loadStrings(['warm=up']);
    return oracle;
  }

  /** `new Properties().load(new StringReader(text))` for each text. */
  loadStrings(texts: readonly string[]): Promise<JavaAnswer[]> {
    return this.request(texts.map((t) => `S${asciiJson(t)}`));
  }

  /** `load(new InputStreamReader(new FileInputStream(path), UTF_8))`: our reading of a file. */
  async loadFileUtf8(path: string): Promise<JavaAnswer> {
    const [answer] = await this.request([`U${asciiJson(path)}`]);
    return answer!;
  }

  /** `load(new FileInputStream(path))`, ISO-8859-1: Kafka Connect's reading of a file. */
  async loadFileLatin1(path: string): Promise<JavaAnswer> {
    const [answer] = await this.request([`L${asciiJson(path)}`]);
    return answer!;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    await exited;
  }

  private request(lines: readonly string[]): Promise<JavaAnswer[]> {
    if (this.exited !== undefined) return Promise.reject(new Error(this.exited));
    const answers = lines.map(
      (_, i) =>
        new Promise<JavaAnswer>((resolve, reject) => {
          const answer = (line: string) => {
            try {
              resolve(JSON.parse(line) as JavaAnswer);
            } catch (err) {
              reject(
                new Error(`the Java oracle answered request ${i} with non-JSON: ${line}`, { cause: err }),
              );
            }
          };
          this.pending.push({ answer, fail: reject });
        }),
    );
    this.child.stdin.write(`${lines.join('\n')}\n`);
    return Promise.all(answers);
  }

  private onData(chunk: string): void {
    const lines = (this.buffered + chunk).split('\n');
    this.buffered = lines.pop() ?? '';
    for (const line of lines) this.pending.shift()?.answer(line);
  }
}
