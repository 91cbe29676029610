/**
 * The `datagen` source task: generates its share of the connector's records, resuming from the committed
 * sequence number. Source partition `{"task": <id>}`, offset `{"sequence": <next sequence number>}`.
 *
 * Each `poll` returns the next min(`batch.size`, `budget.maxRecords`, records left in the task's share)
 * records, and `[]` (idle) once the share is done. Generation is CPU only: no sleeping, no I/O.
 *
 * @example
 * ```ts
 * const task = datagenConnector.createTask(datagenConnector.taskConfigs(config, 1)[0]);
 * await task.start(context); // resumes after the committed {"sequence": n}
 * await task.poll({ maxRecords: 500, deadlineMs }); // records n .. n+499
 * ```
 * @module
 */
import { ConversionError, Stage } from '../../errors.ts';
import type { SourceOffset, SourceRecord } from '../../spi/records.ts';
import type { PollBudget, SourceTask, SourceTaskContext } from '../../spi/source.ts';
import { type DatagenSettings, DatagenStream } from './stream.ts';

export interface DatagenTaskSettings extends DatagenSettings {
  /** Records this task generates over its lifetime; -1 for unlimited. */
  readonly iterations: number;
  readonly batchSize: number;
}

/** The next sequence number stored in a committed offset. */
export function committedSequence(offset: SourceOffset | undefined): number {
  if (offset === undefined) return 0;
  const sequence = offset.sequence;
  if (typeof sequence === 'number' && Number.isSafeInteger(sequence) && sequence >= 0) return sequence;
  throw new ConversionError(
    `datagen: the committed offset's sequence must be a non-negative integer, got ${typeof sequence}`,
    { stage: Stage.TASK_START },
  );
}

export class DatagenTask implements SourceTask {
  readonly #settings: DatagenTaskSettings;
  readonly #stream: DatagenStream;
  #next = 0;

  constructor(settings: DatagenTaskSettings) {
    this.#settings = settings;
    this.#stream = new DatagenStream(settings);
  }

  /** The sequence number of the next record this task will return. */
  get nextSequence(): number {
    return this.#next;
  }

  async start(context: SourceTaskContext): Promise<void> {
    const [offset] = await context.offsets([this.#stream.partition]);
    this.#next = committedSequence(offset);
  }

  async poll(budget: PollBudget): Promise<readonly SourceRecord[]> {
    const { iterations, batchSize } = this.#settings;
    const left = iterations < 0 ? Number.POSITIVE_INFINITY : iterations - this.#next;
    const count = Math.max(0, Math.min(batchSize, budget.maxRecords, left));
    const records = new Array<SourceRecord>(count);
    for (let i = 0; i < count; i++) records[i] = this.#stream.record(this.#next + i);
    this.#next += count;
    return records;
  }

  async stop(): Promise<void> {}
}
