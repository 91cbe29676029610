/**
 * One task's stream of generated records: record `n` is a pure function of (seed, task, quickstart,
 * settings, n). That is what makes resuming exact: the offset only has to hold the next sequence number.
 *
 * @example
 * ```ts
 * const stream = new DatagenStream({ topic: 'orders', quickstart: 'orders', seed: 42, task: 0, taskCount: 1,
 *   maxIntervalMs: 500, recordBytes: 1024 });
 * stream.record(0).sourceOffset; // {sequence: 1}
 * stream.record(0); // deep-equal to itself in any later run
 * ```
 * @module
 */
import type { SourcePartition, SourceRecord } from '../../spi/records.ts';
import type { Quickstart } from './config.ts';
import { type Padding, QUICKSTART_RECORDS, type QuickstartRecord } from './quickstarts.ts';
import { Draws, streamSeed } from './random.ts';

/** Where the simulated clock starts: 2024-01-01T00:00:00Z. */
export const SIMULATED_EPOCH_MS = Date.UTC(2024, 0, 1);

/** `,"padding":""`: what the padding field adds to the JSON besides its content. */
const PADDING_OVERHEAD = 13;
const PADDING_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export interface DatagenSettings {
  readonly topic: string;
  readonly quickstart: Quickstart;
  readonly seed: number;
  readonly task: number;
  readonly taskCount: number;
  /** Largest step of the simulated clock between two records of the task. */
  readonly maxIntervalMs: number;
  /** Pad values to about this many bytes of schemaless JSON; 0 for no padding. */
  readonly recordBytes: number;
}

/** Random letters and digits, drawn once per stream, that padding is cut from (not all one character, so compression does not flatter benchmarks). */
function paddingPool(draws: Draws, length: number): string {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = PADDING_ALPHABET.charCodeAt(draws.int(PADDING_ALPHABET.length));
  return bytes.toString('latin1');
}

/** The source partition of task `task`. */
export function datagenPartition(task: number): SourcePartition {
  return { task };
}

export class DatagenStream {
  readonly partition: SourcePartition;
  readonly #settings: DatagenSettings;
  readonly #stream: number;
  readonly #make: QuickstartRecord;
  readonly #draws = new Draws();
  readonly #pool: string;
  /** Cuts a value's padding from the pool; undefined without `record.bytes`. */
  readonly #pad: Padding | undefined;

  constructor(settings: DatagenSettings) {
    this.#settings = settings;
    this.partition = datagenPartition(settings.task);
    this.#stream = streamSeed(settings.seed, settings.task);
    this.#make = QUICKSTART_RECORDS[settings.quickstart];
    const poolDraws = new Draws();
    poolDraws.reset(this.#stream, -1);
    this.#pool =
      settings.recordBytes > 0 ? paddingPool(poolDraws, Math.max(65_536, 2 * settings.recordBytes)) : '';
    this.#pad = settings.recordBytes > 0 ? (jsonLength) => this.#padding(jsonLength) : undefined;
  }

  /** Padding that brings a value of `jsonLength` characters of JSON to `record.bytes` (none if it is longer). */
  #padding(jsonLength: number): string {
    const length = Math.max(0, this.#settings.recordBytes - jsonLength - PADDING_OVERHEAD);
    const start = this.#draws.int(this.#pool.length - length + 1);
    return this.#pool.slice(start, start + length);
  }

  /**
   * The simulated clock at `sequence`: steps of [0, max.interval] ms, max.interval/2 on average, never
   * backwards, computed without the records before it.
   */
  #timeMs(sequence: number): number {
    const half = this.#settings.maxIntervalMs / 2;
    return SIMULATED_EPOCH_MS + Math.floor(sequence * half) + Math.floor(this.#draws.unit() * half);
  }

  /** Record `sequence` (0-based) of this task; its offset is `{sequence: sequence + 1}`. */
  record(sequence: number): SourceRecord {
    const { task, taskCount, topic } = this.#settings;
    this.#draws.reset(this.#stream, sequence);
    const timeMs = this.#timeMs(sequence);
    const { key, value } = this.#make(this.#draws, { task, taskCount, sequence, timeMs }, this.#pad);
    return { sourcePartition: this.partition, sourceOffset: { sequence: sequence + 1 }, topic, key, value };
  }
}
