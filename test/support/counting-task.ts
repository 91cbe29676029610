/**
 * A source task that emits records `{task, sequence}` with offsets `{sequence: next}`, resuming from its
 * committed offset: the property "no loss, no duplicates" is checkable from the topic alone.
 */
import type { Converter, HeaderConverter } from '../../src/spi/converter.ts';
import type { SourceRecord } from '../../src/spi/records.ts';
import type { PollBudget, SourceTask, SourceTaskContext } from '../../src/spi/source.ts';

export interface CountingTaskOptions {
  readonly taskId: number;
  readonly total: number;
  readonly batchSize: number;
  readonly topic?: string;
  /** Called at the start of every poll (to advance a clock, inject a failure, or run a rival invocation). */
  readonly onPoll?: (pollNumber: number) => Promise<void> | void;
}

export class CountingTask implements SourceTask {
  next = 0;
  polls = 0;
  stopped = false;
  readonly #options: CountingTaskOptions;

  constructor(options: CountingTaskOptions) {
    this.#options = options;
  }

  get partition() {
    return { task: this.#options.taskId };
  }

  async start(context: SourceTaskContext): Promise<void> {
    const [offset] = await context.offsets([this.partition]);
    this.next = typeof offset?.sequence === 'number' ? offset.sequence : 0;
  }

  async poll(budget: PollBudget): Promise<readonly SourceRecord[]> {
    this.polls++;
    await this.#options.onPoll?.(this.polls);
    const n = Math.min(this.#options.batchSize, budget.maxRecords, this.#options.total - this.next);
    const records: SourceRecord[] = [];
    for (let i = 0; i < n; i++) {
      const sequence = this.next++;
      records.push({
        sourcePartition: this.partition,
        sourceOffset: { sequence: sequence + 1 },
        topic: this.#options.topic ?? 'out',
        value: { task: this.#options.taskId, sequence },
      });
    }
    return records;
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }
}

const enc = new TextEncoder();
/** JSON without schemas, enough for the runtime's tests. */
export const jsonConverter: Converter = {
  fromConnectData: (_topic, value) => (value === null ? null : enc.encode(JSON.stringify(value))),
  toConnectData: (_topic, bytes) => (bytes === null ? null : JSON.parse(new TextDecoder().decode(bytes))),
};
export const headerConverter: HeaderConverter = {
  fromConnectHeader: (_t, _k, value) => (value === null ? null : enc.encode(String(value))),
  toConnectHeader: (_t, _k, bytes) => (bytes === null ? null : new TextDecoder().decode(bytes)),
};
export const converters = { key: jsonConverter, value: jsonConverter, header: headerConverter };

/** The sequence numbers in `records`' JSON values, in log order. */
export function sequences(records: readonly { value: Uint8Array | null }[]): number[] {
  return records.map(
    (r) =>
      (JSON.parse(new TextDecoder().decode(r.value ?? new Uint8Array())) as { sequence: number }).sequence,
  );
}
