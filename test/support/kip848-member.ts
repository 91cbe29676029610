/**
 * A KIP-848 consumer group member (test/java/Kip848Member.java, `group.protocol=consumer`) in a JVM of its
 * own, run with the kafka-clients 4.x jar of a Kafka 4.x broker's classpath (src/stack's
 * `startKafkaBroker`): what a Kafka Connect 4.x sink configured with the new group protocol looks like to
 * the broker.
 *
 * @example
 * ```ts
 * const member = await Kip848Member.join({ javaPath, classpath, brokers, groupId, topic, offset: 2 });
 * // ... the group has one member, which committed offset 2 of partition 0 ...
 * const committed = await member.leave(); // the committed offset of partition 0 when it left
 * ```
 * @module
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const MEMBER_SOURCE = fileURLToPath(new URL('../java/Kip848Member.java', import.meta.url));

export interface MemberStart {
  readonly javaPath: string;
  /** A classpath holding kafka-clients 4.x. */
  readonly classpath: string;
  readonly brokers: string;
  readonly groupId: string;
  readonly topic: string;
  /** The offset of partition 0 the member commits once it owns the partition. */
  readonly offset: number;
}

export class Kip848Member {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;
  readonly #stderr: string[];
  /** The member id the broker gave it. */
  readonly memberId: string;

  private constructor(
    child: ChildProcessWithoutNullStreams,
    lines: AsyncIterator<string>,
    stderr: string[],
    memberId: string,
  ) {
    this.#child = child;
    this.#lines = lines;
    this.#stderr = stderr;
    this.memberId = memberId;
  }

  /** Starts the member; resolves once it owns partition 0 and has committed `offset` as a member. */
  static async join(start: MemberStart): Promise<Kip848Member> {
    const args = [MEMBER_SOURCE, start.brokers, start.groupId, start.topic, String(start.offset)];
    const child = spawn(start.javaPath, ['-cp', start.classpath, ...args], { stdio: 'pipe' });
    const stderr: string[] = [];
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done || !first.value.startsWith('READY ')) {
      child.kill('SIGKILL');
      throw new Error(
        `the KIP-848 member did not join: ${first.value ?? ''} ${stderr.join('').slice(-2000)}`,
      );
    }
    return new Kip848Member(child, lines, stderr, first.value.slice('READY '.length));
  }

  /** Ends its stdin: it reads its committed offset of partition 0, leaves the group and exits. */
  async leave(): Promise<number> {
    this.#child.stdin.end();
    const line = await this.#lines.next();
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    if (this.#child.exitCode === null) await exited;
    if (line.done || !line.value.startsWith('COMMITTED ')) {
      throw new Error(
        `the KIP-848 member ended without its committed offset: ${this.#stderr.join('').slice(-2000)}`,
      );
    }
    return Number(line.value.slice('COMMITTED '.length));
  }

  /** Kills it if it still runs (a test's cleanup). */
  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
  }
}
