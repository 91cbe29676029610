/**
 * The Kafka broker and DynamoDB Local the Kafka benchmarks measure against: the test stack
 * (`src/stack`, DESIGN.md §6), started once per `npm run bench` on the first benchmark that asks for it
 * and stopped after the last one. `KAFKA_BROKERS` / `DYNAMODB_ENDPOINT`, when set, are used instead.
 * @module
 */
import { guardStackOnExit } from '../../src/stack/exit-guard.ts';
import { type RunningStack, startStack } from '../../src/stack/index.ts';

export interface BenchStack {
  /** `host:port[,host:port...]` */
  readonly kafkaBrokers: string;
  /** `http://host:port` */
  readonly dynamodbEndpoint: string;
}

/**
 * Runs `fn` with a lazy stack: the first call of `stack()` starts it (progress on `log`), later calls
 * return the same one; whatever was started is stopped when `fn` settles, or killed if the process exits.
 */
export async function withStack<T>(
  log: (line: string) => void,
  fn: (stack: () => Promise<BenchStack>) => Promise<T>,
): Promise<T> {
  let starting: Promise<RunningStack> | undefined;
  let release: (() => void) | undefined;
  const stack = () => {
    starting ??= startStack({ log: (line) => log(`[stack] ${line}`) }).then((running) => {
      release = guardStackOnExit(running);
      return running;
    });
    return starting;
  };
  try {
    return await fn(stack);
  } finally {
    if (starting !== undefined) {
      const running = await starting.catch(() => undefined);
      await running?.stop();
      release?.();
    }
  }
}
