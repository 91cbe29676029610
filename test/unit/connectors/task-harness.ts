/**
 * Runs source tasks the way the runtime does, against an in-memory offsets store: one invocation =
 * createTask → start → poll until idle or the budget → commit the last offset per partition → stop.
 */
import type { SourceOffset, SourcePartition, SourceRecord } from '../../../src/spi/records.ts';
import type { SourceConnector, SourceTaskContext, TaskConfig } from '../../../src/spi/source.ts';

export class MemoryOffsets {
  readonly #committed = new Map<string, SourceOffset>();

  context(connector = 'c', taskId = 0): SourceTaskContext {
    return {
      connector,
      taskId,
      offsets: async (partitions: readonly SourcePartition[]) =>
        partitions.map((p) => this.#committed.get(JSON.stringify(p))),
    };
  }

  /** Commits the last offset of each partition in `records` (they are in offset order per partition). */
  commit(records: readonly SourceRecord[]): void {
    for (const r of records) this.#committed.set(JSON.stringify(r.sourcePartition), r.sourceOffset);
  }

  set(partition: SourcePartition, offset: SourceOffset): void {
    this.#committed.set(JSON.stringify(partition), offset);
  }

  get(partition: SourcePartition): SourceOffset | undefined {
    return this.#committed.get(JSON.stringify(partition));
  }
}

export interface InvocationOptions {
  /** The invocation's record budget (`invocation.max.records`). */
  readonly maxRecords: number;
  /** False simulates a crash after polling: nothing is committed. */
  readonly commit?: boolean;
  readonly taskId?: number;
}

/** One invocation of the task configured by `config`; returns every record it polled. */
export async function invoke(
  connector: SourceConnector,
  config: TaskConfig,
  offsets: MemoryOffsets,
  options: InvocationOptions,
): Promise<SourceRecord[]> {
  const task = connector.createTask(config);
  await task.start(offsets.context('c', options.taskId ?? 0));
  const polled: SourceRecord[] = [];
  try {
    while (polled.length < options.maxRecords) {
      const batch = await task.poll({ maxRecords: options.maxRecords - polled.length, deadlineMs: Infinity });
      if (batch.length === 0) break;
      polled.push(...batch);
    }
  } finally {
    await task.stop();
  }
  if (options.commit ?? true) offsets.commit(polled);
  return polled;
}
