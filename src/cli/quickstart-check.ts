/**
 * The quickstart's proof: the topic read back read_committed, group-less, and the committed offsets
 * compared with what every datagen task had to produce.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { builtinParts } from '../app/builtin-parts.ts';
import { openOffsetStore, openSinkOffsetStore } from '../app/offset-store.ts';
import type { SinkFunction } from '../app/sink-function.ts';
import type { SourceFunction } from '../app/source-function.ts';
import { iterationShare } from '../connectors/datagen/connector.ts';
import type { KafkaClients } from '../kafka/index.ts';

export interface TaskCheck {
  readonly task: number;
  /** Records of this task in the topic. */
  readonly received: number;
  /** How many sequence numbers the task had to produce (0 .. expected-1). */
  readonly expected: number;
  readonly missing: number;
  readonly duplicates: number;
  /** The committed `sequence` (the next one to produce), or -1 when none is committed. */
  readonly committed: number;
}

const decoder = new TextDecoder();
const READ_TIMEOUT_MS = 60_000;

/** Every record's `{task, sequence}` in `topic`, grouped by task. */
export async function readTaskSequences(
  clients: KafkaClients,
  topic: string,
): Promise<Map<number, number[]>> {
  const admin = clients.topicAdmin();
  const reader = clients.partitionReader();
  const byTask = new Map<number, number[]>();
  try {
    const partitions = [...Array(await admin.partitionCount(topic)).keys()];
    const ends = await reader.endOffsets(topic, partitions);
    for (const partition of partitions) {
      const untilOffset = ends.get(partition) ?? 0;
      const deadlineMs = Date.now() + READ_TIMEOUT_MS;
      for await (const batch of reader.read({ topic, partition, fromOffset: 0, untilOffset, deadlineMs })) {
        for (const record of batch) {
          const value = JSON.parse(decoder.decode(record.value ?? new Uint8Array())) as {
            task: number;
            sequence: number;
          };
          byTask.set(value.task, [...(byTask.get(value.task) ?? []), value.sequence]);
        }
      }
    }
  } finally {
    await Promise.allSettled([admin.close(), reader.close()]);
  }
  return byTask;
}

/** Compares each task's sequences and committed offset with its share of `iterations`. */
export async function checkTasks(
  fn: SourceFunction,
  clients: KafkaClients,
  byTask: ReadonlyMap<number, readonly number[]>,
): Promise<TaskCheck[]> {
  const tasks = fn.connector.common['tasks.max'];
  const iterations = Number(fn.connector.config.iterations);
  const offsets = await openOffsetStore(fn.bundle, clients, builtinParts.offsetStores);
  try {
    const checks: TaskCheck[] = [];
    for (let task = 0; task < tasks; task++) {
      const session = await offsets.store.open(fn.connector.name, task);
      const [committed] = await session.read([{ task }]);
      await session.close();
      const sequences = byTask.get(task) ?? [];
      const distinct = new Set(sequences);
      const expected = iterationShare(iterations, task, tasks);
      let missing = 0;
      for (let s = 0; s < expected; s++) if (!distinct.has(s)) missing++;
      const sequence = committed?.sequence;
      checks.push({
        task,
        received: sequences.length,
        expected,
        missing,
        duplicates: sequences.length - distinct.size,
        committed: typeof sequence === 'number' ? sequence : -1,
      });
    }
    return checks;
  } finally {
    await offsets.close();
  }
}

export interface SinkCheck {
  /** Lines in the sink's file. */
  readonly lines: number;
  /** Records of the topic with no line. */
  readonly missing: number;
  /** Lines beyond one per record. */
  readonly duplicates: number;
  /** Per partition: the committed offset and the end of the partition. */
  readonly partitions: readonly {
    readonly partition: number;
    readonly committed: number | undefined;
    readonly end: number;
  }[];
}

/**
 * Compares the sink's file with the topic: one line per record (`{task, sequence}` pairs), and the
 * committed offsets of every partition at its end.
 */
export async function checkSink(
  fn: SinkFunction,
  clients: KafkaClients,
  file: string,
  topic: string,
  byTask: ReadonlyMap<number, readonly number[]>,
): Promise<SinkCheck> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const lines = text.split('\n').filter((line) => line !== '');
  const seen = new Map<string, number>();
  for (const line of lines) {
    const { task, sequence } = JSON.parse(line) as { task: number; sequence: number };
    seen.set(`${task}/${sequence}`, (seen.get(`${task}/${sequence}`) ?? 0) + 1);
  }
  let missing = 0;
  for (const [task, sequences] of byTask) {
    for (const sequence of new Set(sequences)) if (!seen.has(`${task}/${sequence}`)) missing++;
  }
  return {
    lines: lines.length,
    missing,
    duplicates: lines.length - seen.size,
    partitions: await sinkPositions(fn, clients, topic),
  };
}

/** A sink's position in each partition of `topic`: its committed offset (task 0) and the partition's end. */
export async function sinkPositions(
  fn: SinkFunction,
  clients: KafkaClients,
  topic: string,
): Promise<SinkCheck['partitions']> {
  const admin = clients.topicAdmin();
  const reader = clients.partitionReader();
  const offsets = await openSinkOffsetStore(fn.bundle, fn.connector, clients, builtinParts.offsetStores);
  try {
    const assignment = [...Array(await admin.partitionCount(topic)).keys()].map((partition) => ({
      topic,
      partition,
    }));
    const ends = await reader.endOffsets(
      topic,
      assignment.map((tp) => tp.partition),
    );
    const session = await offsets.store.open(fn.connector.name, 0);
    const committed = await session.read(assignment).finally(() => session.close());
    return assignment.map((tp, i) => ({
      partition: tp.partition,
      committed: committed[i],
      end: ends.get(tp.partition) ?? 0,
    }));
  } finally {
    await Promise.allSettled([admin.close(), reader.close(), offsets.close()]);
  }
}
