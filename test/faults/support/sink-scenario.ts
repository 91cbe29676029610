/**
 * What a scheduled-sink fault scenario needs around its child processes: a FileStreamSink bundle in a temp
 * dir (its `sink.txt` there) reading a fresh topic, records with a sequence number per partition produced
 * to it, the sink's committed offsets as the store holds them (Connect's group `connect-<name>`, or the
 * DynamoDB items), and an observer that reads the file and the offsets after every child and checks what
 * must hold at every moment:
 *
 * - the committed offset of a partition never goes backwards;
 * - it never passes a record that is not in the file (every sequence below it is there);
 * - every line is a whole record (a torn line would be a record lost).
 *
 * The observer also keeps which child appended which lines, so a record written more than once can be
 * put down to the child that wrote the earlier copy: what a killed invocation had put and not committed.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sinkGroupId } from '../../../src/kafka/group-offsets.ts';
import type { InvocationOutcome, ProbeEvent } from './invocation.ts';
import type { KillProfile, KillTarget } from './kill-rounds.ts';
import type { Fencing } from './overlap.ts';
import { BundleDir, type FaultStack, OFFSETS_TABLE, type Properties, WORKER_COMMON } from './scenario.ts';

/** `offset.storage` of a sink: Kafka Connect's consumer group, or DynamoDB under the task's lease. */
export type SinkStorage = 'kafka' | 'dynamodb';

/** The sink's file, in the bundle dir (a relative `file` is resolved against the bundle). */
export const SINK_FILE = 'sink.txt';

export interface SinkBundleSpec {
  readonly storage: SinkStorage;
  /** Prefix of the connector and topic names; a unique suffix is added. */
  readonly prefix: string;
  readonly tasks: number;
  /** Partitions of the data topic. */
  readonly partitions: number;
  /** `consumer.max.poll.records`: the most records one `put` gets. */
  readonly maxPollRecords: number;
  /** `invocation.*` keys and others, merged over the FileStreamSink keys. */
  readonly connector?: Properties;
}

/** A FileStreamSink bundle: topic → `sink.txt`, offsets in `storage`. */
export class SinkBundle extends BundleDir {
  readonly storage: SinkStorage;
  readonly partitions: number;
  /** The sink's file (absolute). */
  readonly file: string;

  constructor(spec: SinkBundleSpec) {
    const storageKeys: Properties =
      spec.storage === 'kafka'
        ? { 'offset.storage': 'kafka' }
        : {
            'offset.storage': 'dynamodb',
            'dynamodb.endpoint': '${env:DYNAMODB_ENDPOINT}',
            'offset.storage.table': OFFSETS_TABLE,
          };
    super(spec.prefix, ({ topic }) => ({
      worker: { ...WORKER_COMMON, ...storageKeys, 'consumer.max.poll.records': spec.maxPollRecords },
      connector: {
        'connector.class': 'FileStreamSink',
        topics: topic,
        file: SINK_FILE,
        'tasks.max': spec.tasks,
        ...spec.connector,
      },
    }));
    this.storage = spec.storage;
    this.partitions = spec.partitions;
    this.file = join(this.dir, SINK_FILE);
  }

  /** Connect's consumer group of the sink, where `offset.storage=kafka` keeps its offsets. */
  get groupId(): string {
    return sinkGroupId(this.connector);
  }

  get fencing(): Fencing {
    return this.storage === 'kafka' ? 'transaction' : 'lease';
  }

  /** The child options of one invocation of `task`. */
  invocation(stack: FaultStack, task = 0) {
    return { bundle: this.dir, connector: this.connector, task, env: stack.childEnv };
  }
}

/** A sink bundle whose topic exists with its partitions; removed with the stack. */
export async function sinkBundle(stack: FaultStack, spec: SinkBundleSpec): Promise<SinkBundle> {
  const bundle = stack.track(new SinkBundle(spec));
  await stack.kafka.createTopic(bundle.topic, spec.partitions);
  return bundle;
}

/**
 * Produces `perPartition` records to every partition of the bundle's topic, values `{"p":<partition>,
 * "seq":<n>}` with n = 0.., in order with the idempotent producer: so in each partition the record at
 * offset n carries sequence n (checked against the high watermarks).
 */
export async function produceSequences(
  stack: FaultStack,
  bundle: Pick<SinkBundle, 'topic' | 'partitions'>,
  perPartition: number,
) {
  const writer = stack.kafka.clients.recordWriter();
  try {
    for (let p = 0; p < bundle.partitions; p++) {
      const records = Array.from({ length: perPartition }, (_, seq) => ({
        topic: bundle.topic,
        partition: p,
        key: null,
        value: Buffer.from(JSON.stringify({ p, seq })),
        headers: [],
      }));
      await writer.send(records);
    }
  } finally {
    await writer.close();
  }
  const high = await stack.kafka.highWatermarks(bundle.topic);
  for (let p = 0; p < bundle.partitions; p++) {
    if (high.get(p) !== perPartition) {
      throw new Error(`partition ${p} of ${bundle.topic} ends at ${high.get(p)}, not ${perPartition}`);
    }
  }
}

/** Two reads of the group's offsets this far apart that agree are taken as settled. */
const SETTLE_MS = 30;
const SETTLE_READS = 30;

/**
 * Per partition, the next offset the store holds for the sink (undefined: nothing committed).
 *
 * The group shows a transaction's offsets once the broker has written its commit marker, a moment after
 * the committing invocation saw its EndTxn answered (src/kafka/group-offsets.ts). So the group is read
 * until two reads a little apart agree: a value still changing from a commit that completed before the
 * read is not taken for the store's state. (Each read alone is still a valid sample for "never goes
 * backwards".)
 */
export async function committedSinkOffsets(
  stack: FaultStack,
  bundle: SinkBundle,
): Promise<(number | undefined)[]> {
  const partitions = Array.from({ length: bundle.partitions }, (_, p) => p);
  if (bundle.storage === 'kafka') {
    const read = async () => {
      const group = await stack.kafka.groupOffsets(bundle.groupId, bundle.topic);
      return partitions.map((p) => group.get(p));
    };
    let last = await read();
    for (let i = 0; i < SETTLE_READS; i++) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const next = await read();
      if (next.every((o, p) => o === last[p])) return next;
      last = next;
    }
    return last;
  }
  return Promise.all(
    partitions.map(async (p) => {
      const sk = JSON.stringify({ kafka_topic: bundle.topic, kafka_partition: p });
      const stored = await stack.storedOffset(bundle.connector, sk);
      return stored === undefined ? undefined : (JSON.parse(stored) as { kafka_offset: number }).kafka_offset;
    }),
  );
}

export const formatOffsets = (offsets: readonly (number | undefined)[]) =>
  offsets.map((o) => o ?? '-').join('/');

/** Where in the sink cycle a kill landed. */
export type SinkPhase =
  | 'startup'
  | 'mid-put'
  | 'after-put'
  | 'mid-fdatasync'
  | 'after-fdatasync'
  | 'mid-commit'
  | 'after-commit'
  | 'after-summary';

/**
 * From the child's last events (the sink file's writes and syncs, the commit's requests):
 * - startup: before the first put (bundle, connections, fencing/lease, offsets, first read);
 * - mid-put: the put's write issued, not completed; after-put: written, not yet flushed;
 * - mid-fdatasync: the flush's fdatasync issued, not completed; after-fdatasync: synced, commit not sent;
 * - mid-commit: the commit sent (AddOffsetsToTxn, TxnOffsetCommit, EndTxn / the DynamoDB TransactWriteItems),
 *   not yet answered; after-commit: answered, the next batch not yet put (it is read meanwhile);
 * - after-summary: the invocation had returned and printed its summary.
 */
export function sinkPhaseAtKill(events: readonly ProbeEvent[], printedSummary: boolean): SinkPhase {
  if (printedSummary) return 'after-summary';
  let phase: SinkPhase = 'startup';
  for (const { kind, name } of events) {
    if (name === SINK_FILE) {
      if (kind === 'fwrite') phase = 'mid-put';
      else if (kind === 'fwritten') phase = 'after-put';
      else if (kind === 'fsync') phase = 'mid-fdatasync';
      else if (kind === 'fsynced') phase = 'after-fdatasync';
    } else if (
      kind === 'kreq' &&
      (name === 'AddOffsetsToTxn' || name === 'TxnOffsetCommit' || name === 'EndTxn')
    ) {
      phase = 'mid-commit';
    } else if (kind === 'kres' && name === 'EndTxn') {
      phase = 'after-commit';
    } else if ((kind === 'hreq' || kind === 'hres') && name === 'TransactWriteItems') {
      phase = kind === 'hreq' ? 'mid-commit' : 'after-commit';
    }
  }
  return phase;
}

/**
 * The targeted kill points of a sink, at the n-th batch (one put = one write of the file, one flush = one
 * fdatasync, one commit = one transaction / TransactWriteItems): around the put, inside the fdatasync, and
 * around each request of the commit.
 */
export function sinkKillTargets(storage: SinkStorage): KillTarget[] {
  const file: KillTarget[] = [
    { name: 'before-put', killAt: (n) => `before:fwrite:${SINK_FILE}:${n}` },
    { name: 'mid-put', killAt: (n) => `after:fwrite:${SINK_FILE}:${n}` },
    { name: 'after-put', killAt: (n) => `after:fwritten:${SINK_FILE}:${n}` },
    { name: 'in-fdatasync', killAt: (n) => `after:fsync:${SINK_FILE}:${n}` },
  ];
  const commit: KillTarget[] =
    storage === 'kafka'
      ? [
          { name: 'AddOffsetsToTxn-sent', killAt: (n) => `after:kreq:AddOffsetsToTxn:${n}` },
          { name: 'TxnOffsetCommit-sent', killAt: (n) => `after:kreq:TxnOffsetCommit:${n}` },
          { name: 'EndTxn-sent', killAt: (n) => `after:kreq:EndTxn:${n}` },
          { name: 'EndTxn-answered', killAt: (n) => `after:kres:EndTxn:${n}` },
        ]
      : [
          { name: 'before-TransactWriteItems', killAt: (n) => `before:hreq:TransactWriteItems:${n}` },
          { name: 'TransactWriteItems-sent', killAt: (n) => `after:hreq:TransactWriteItems:${n}` },
          { name: 'TransactWriteItems-answered', killAt: (n) => `after:hres:TransactWriteItems:${n}` },
        ];
  // Interleaved, so the first rounds already cover both the put and the commit.
  const out: KillTarget[] = [];
  for (let i = 0; i < Math.max(file.length, commit.length); i++) {
    if (file[i] !== undefined) out.push(file[i]!);
    if (commit[i] !== undefined) out.push(commit[i]!);
  }
  return out;
}

/** A scheduled sink's run that was not killed ends with a summary: budget spent, or caught up. */
export function cleanSinkEnd(outcome: InvocationOutcome): boolean {
  const summary = outcome.summaries[0];
  return (
    outcome.code === 0 &&
    summary !== undefined &&
    (summary.stopReason === 'max-records' || summary.stopReason === 'idle')
  );
}

/** Random kills count from the first put (its write of the file): they land among puts and commits. */
export function sinkKillProfile(storage: SinkStorage): KillProfile {
  return {
    targets: sinkKillTargets(storage),
    phaseAtKill: sinkPhaseAtKill,
    clean: cleanSinkEnd,
    activeFrom: (event) => event.kind === 'fwrite' && event.name === SINK_FILE,
  };
}

/** One line of the sink file. */
interface SinkLine {
  readonly p: number;
  readonly seq: number;
}

/** The lines one child appended (or the lines appended while it and others ran, when they overlap). */
export interface Segment {
  readonly label: string;
  /** It died of a kill -9. */
  readonly killed: boolean;
  readonly lines: readonly SinkLine[];
  /** The committed offsets sampled right after it. */
  readonly committedAfter: readonly (number | undefined)[];
}

/** What a segment's lines came to once the scenario ended. */
export interface SegmentAttribution {
  readonly label: string;
  readonly killed: boolean;
  readonly appended: number;
  /** Lines at or past the offset committed right after it: put, not committed (what a kill leaves). */
  readonly uncommitted: number;
  /** Lines of this segment whose record was written again later: the duplicates it caused. */
  readonly redelivered: number;
  /** Of those, lines below the offset committed right after it: records delivered again though committed. */
  readonly redeliveredCommitted: number;
}

/** Per partition: every sequence 0..expected-1 in the file, and how often. */
export interface SinkTally {
  readonly partition: number;
  readonly expected: number;
  readonly lines: number;
  readonly distinct: number;
  readonly missing: number;
  readonly firstMissing: readonly number[];
  /** Lines beyond the first copy of their sequence. */
  readonly duplicates: number;
  readonly maxCopies: number;
  /** Sequences outside 0..expected-1. */
  readonly unexpected: number;
}

const key = (line: SinkLine) => `${line.p}:${line.seq}`;

/**
 * Reads what the sink appended after each child (the file only grows) and samples the committed offsets;
 * records a problem when an invariant of the module doc breaks.
 */
export class SinkObserver {
  readonly #stack: FaultStack;
  readonly #bundle: SinkBundle;
  readonly #expected: number;
  readonly segments: Segment[] = [];
  /** Every sample of the committed offsets, in order: `<label>=<p0>/<p1>`. */
  readonly samples: string[] = [];
  /** Invariants that broke, each with where. */
  readonly problems: string[] = [];
  /** Lines that are not a whole record (a torn write). */
  readonly corrupt: string[] = [];
  #size = 0;
  /** The start of a line the last read ended in (a write still going on, or torn by a kill). */
  #carry = '';
  /** Per partition: the highest committed offset sampled so far. */
  readonly #highest: (number | undefined)[];
  /** Per partition: the sequences in the file, and the first one missing. */
  readonly #present: Set<number>[];
  readonly #prefix: number[];

  constructor(stack: FaultStack, bundle: SinkBundle, expectedPerPartition: number) {
    this.#stack = stack;
    this.#bundle = bundle;
    this.#expected = expectedPerPartition;
    this.#highest = Array.from({ length: bundle.partitions }, () => undefined);
    this.#present = Array.from({ length: bundle.partitions }, () => new Set<number>());
    this.#prefix = Array.from({ length: bundle.partitions }, () => 0);
  }

  /**
   * After a child (or at a moment of an overlapping group of them): samples the committed offsets, then
   * reads what was appended — in that order, so a record committed by a child still running is in the file
   * by the time it is read — and checks both.
   */
  async observe(label: string, killed = false): Promise<readonly (number | undefined)[]> {
    const committed = await committedSinkOffsets(this.#stack, this.#bundle);
    const lines = this.#readAppended(label);
    this.segments.push({ label, killed, lines, committedAfter: committed });
    this.samples.push(`${label}=${formatOffsets(committed)}`);
    committed.forEach((offset, p) => {
      const highest = this.#highest[p];
      if (highest !== undefined && (offset === undefined || offset < highest)) {
        this.problems.push(
          `${label}: the committed offset of partition ${p} went backwards, ${highest} -> ${offset ?? 'none'}`,
        );
      }
      if (offset !== undefined && (highest === undefined || offset > highest)) this.#highest[p] = offset;
      const inFile = this.#prefix[p]!;
      if (offset !== undefined && offset > inFile) {
        this.problems.push(
          `${label}: partition ${p} committed up to ${offset} but sequence ${inFile} is not in the file`,
        );
      }
    });
    return committed;
  }

  /** Per segment: how many of its lines were written again later (read once the scenario has ended). */
  attribution(): SegmentAttribution[] {
    const lastCopy = new Map<string, { segment: number; line: number }>();
    this.segments.forEach((s, segment) => {
      s.lines.forEach((l, line) => {
        lastCopy.set(key(l), { segment, line });
      });
    });
    return this.segments.map((s, segment) => {
      let uncommitted = 0;
      let redelivered = 0;
      let redeliveredCommitted = 0;
      s.lines.forEach((l, line) => {
        const committed = s.committedAfter[l.p];
        const isCommitted = committed !== undefined && l.seq < committed;
        if (!isCommitted) uncommitted++;
        const last = lastCopy.get(key(l))!;
        if (last.segment === segment && last.line === line) return;
        redelivered++;
        if (isCommitted) redeliveredCommitted++;
      });
      return {
        label: s.label,
        killed: s.killed,
        appended: s.lines.length,
        uncommitted,
        redelivered,
        redeliveredCommitted,
      };
    });
  }

  tally(): SinkTally[] {
    return this.#present.map((_, partition) => {
      const copies = new Map<number, number>();
      let unexpected = 0;
      for (const s of this.segments) {
        for (const l of s.lines) {
          if (l.p !== partition) continue;
          if (l.seq < 0 || l.seq >= this.#expected) unexpected++;
          copies.set(l.seq, (copies.get(l.seq) ?? 0) + 1);
        }
      }
      const firstMissing: number[] = [];
      let missing = 0;
      for (let s = 0; s < this.#expected; s++) {
        if (copies.has(s)) continue;
        missing++;
        if (firstMissing.length < 10) firstMissing.push(s);
      }
      const counts = [...copies.values()];
      const lines = counts.reduce((a, b) => a + b, 0);
      return {
        partition,
        expected: this.#expected,
        lines,
        distinct: copies.size,
        missing,
        firstMissing,
        duplicates: lines - copies.size,
        maxCopies: Math.max(0, ...counts),
        unexpected,
      };
    });
  }

  #readAppended(label: string): SinkLine[] {
    let size: number;
    try {
      size = statSync(this.#bundle.file).size;
    } catch {
      return []; // not created yet (a kill before the task started)
    }
    if (size < this.#size) {
      this.problems.push(`${label}: ${SINK_FILE} shrank from ${this.#size} to ${size} bytes`);
      return [];
    }
    const text = this.#carry + readFileSync(this.#bundle.file).subarray(this.#size, size).toString('utf8');
    this.#size = size;
    const pieces = text.split('\n');
    this.#carry = pieces.pop() ?? '';
    const out: SinkLine[] = [];
    for (const piece of pieces) {
      const line = parseLine(piece);
      if (line === undefined || line.p < 0 || line.p >= this.#bundle.partitions) {
        this.corrupt.push(`${label}: ${JSON.stringify(piece.slice(0, 80))}`);
        continue;
      }
      out.push(line);
      const present = this.#present[line.p]!;
      present.add(line.seq);
      let prefix = this.#prefix[line.p]!;
      while (present.has(prefix)) prefix++;
      this.#prefix[line.p] = prefix;
    }
    return out;
  }
}

function parseLine(text: string): SinkLine | undefined {
  try {
    const value = JSON.parse(text) as { p?: unknown; seq?: unknown };
    if (Number.isInteger(value.p) && Number.isInteger(value.seq)) {
      return { p: value.p as number, seq: value.seq as number };
    }
  } catch {
    // not a record
  }
  return undefined;
}

export function describeSinkTallies(tallies: readonly SinkTally[]): string {
  return tallies
    .map(
      (t) =>
        `partition ${t.partition}: ${t.lines} lines, ${t.distinct}/${t.expected} distinct, missing ${t.missing}` +
        `${t.missing > 0 ? ` (first ${t.firstMissing.join(',')})` : ''}, duplicates ${t.duplicates}` +
        ` (up to ${t.maxCopies} copies)`,
    )
    .join('; ');
}
