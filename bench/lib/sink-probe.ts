/**
 * Observes the production sink code from outside, without changing it: the methods of the file sink task
 * and of the Kafka sink offsets store are wrapped on their prototypes (while the probe is installed) to
 * note when they are first called and how long their calls take. The wrapper costs one
 * `performance.now()` and one `.finally` per call: a few microseconds against a put of 500 records.
 *
 * - `start`, `put`: the first entry since `reset()` (the first `put` is when the first records reach
 *   the sink);
 * - `session`: when the first offsets session was open (`KafkaGroupOffsetStore.open` resolved);
 * - per method, the total time inside it and the number of calls;
 * - per Kafka request of kafkajs' `Broker` (FindCoordinator, AddOffsetsToTxn, TxnOffsetCommit, EndTxn,
 *   InitProducerId, Fetch, ...), the calls, the time and the error answers by type (for instance
 *   CONCURRENT_TRANSACTIONS, which kafkajs and connect-fn retry after a pause and log at debug level only).
 * @module
 */
import { createRequire } from 'node:module';
import { FileSinkTask } from '../../src/connectors/file/sink-task.ts';
import { KafkaGroupOffsetSession, KafkaGroupOffsetStore } from '../../src/kafka/group-offsets.ts';

export type ProbeMethod = 'start' | 'put' | 'flush' | 'open' | 'commit';

export interface MethodTotals {
  ms: number;
  calls: number;
}

type AnyMethod = (this: unknown, ...args: unknown[]) => Promise<unknown>;

export interface RequestTotals extends MethodTotals {
  /** Error answers by kafkajs error type. */
  readonly errors: Record<string, number>;
}

/** The kafkajs `Broker` methods observed, by the Kafka request each sends. */
const BROKER_REQUESTS: Readonly<Record<string, string>> = {
  findGroupCoordinator: 'FindCoordinator',
  initProducerId: 'InitProducerId',
  addOffsetsToTxn: 'AddOffsetsToTxn',
  txnOffsetCommit: 'TxnOffsetCommit',
  endTxn: 'EndTxn',
  describeGroups: 'DescribeGroups',
  offsetFetch: 'OffsetFetch',
  listOffsets: 'ListOffsets',
  metadata: 'Metadata',
  fetch: 'Fetch',
};

/** kafkajs' internal Broker class (kafkajs 2.2.4's `src/` is frozen), the one kafkajs itself uses. */
function brokerPrototype(): object {
  const broker = createRequire(import.meta.url)('kafkajs/src/broker/index.js') as { prototype?: object };
  if (broker.prototype === undefined) throw new Error('kafkajs/src/broker/index.js is not the Broker class');
  return broker.prototype;
}

export class SinkProbe {
  /** `performance.now()` of the first entry (start, put) or completion (open) since `reset`. */
  first: Partial<Record<ProbeMethod, number>> = {};
  totals: Record<ProbeMethod, MethodTotals> = SinkProbe.#zero();
  /** By Kafka request name (see BROKER_REQUESTS). */
  requests = new Map<string, RequestTotals>();
  readonly #restore: (() => void)[] = [];

  static #zero(): Record<ProbeMethod, MethodTotals> {
    return {
      start: { ms: 0, calls: 0 },
      put: { ms: 0, calls: 0 },
      flush: { ms: 0, calls: 0 },
      open: { ms: 0, calls: 0 },
      commit: { ms: 0, calls: 0 },
    };
  }

  reset(): void {
    this.first = {};
    this.totals = SinkProbe.#zero();
    this.requests = new Map();
  }

  /** `FindCoordinator 4 × 1.2 ms, CONCURRENT_TRANSACTIONS 2`-style lines, most time first. */
  requestLines(): string[] {
    return [...this.requests]
      .sort((a, b) => b[1].ms - a[1].ms)
      .map(([name, t]) => {
        const errors = Object.entries(t.errors).map(([type, count]) => `${type} ×${count}`);
        const each = (t.ms / Math.max(1, t.calls)).toFixed(1);
        const failed = errors.length > 0 ? `; errors: ${errors.join(', ')}` : '';
        return `${name}: ${t.calls} calls, ${t.ms.toFixed(0)} ms (${each} ms each)${failed}`;
      });
  }

  /** Wraps the methods; `uninstall` puts the originals back. */
  install(): this {
    this.#wrap(FileSinkTask.prototype, 'start', 'start', 'entry');
    this.#wrap(FileSinkTask.prototype, 'put', 'put', 'entry');
    this.#wrap(FileSinkTask.prototype, 'flush', 'flush', 'entry');
    this.#wrap(KafkaGroupOffsetStore.prototype, 'open', 'open', 'exit');
    this.#wrap(KafkaGroupOffsetSession.prototype, 'commit', 'commit', 'entry');
    const broker = brokerPrototype();
    for (const [method, request] of Object.entries(BROKER_REQUESTS))
      this.#wrapRequest(broker, method, request);
    return this;
  }

  uninstall(): void {
    for (const restore of this.#restore.splice(0).reverse()) restore();
  }

  #wrap(proto: object, name: string, method: ProbeMethod, firstAt: 'entry' | 'exit'): void {
    const holder = proto as Record<string, AnyMethod>;
    const original = holder[name];
    if (typeof original !== 'function') throw new Error(`no method ${name} to observe`);
    const probe = this;
    holder[name] = function (this: unknown, ...args: unknown[]) {
      const startedMs = performance.now();
      if (firstAt === 'entry') probe.first[method] ??= startedMs;
      return original.apply(this, args).finally(() => {
        const endedMs = performance.now();
        if (firstAt === 'exit') probe.first[method] ??= endedMs;
        probe.totals[method].ms += endedMs - startedMs;
        probe.totals[method].calls += 1;
      });
    };
    this.#restore.push(() => {
      holder[name] = original;
    });
  }

  #wrapRequest(proto: object, name: string, request: string): void {
    const holder = proto as Record<string, AnyMethod>;
    const original = holder[name];
    if (typeof original !== 'function') throw new Error(`kafkajs' Broker has no method ${name}`);
    const record = (startedMs: number, err?: unknown) => {
      const totals = this.requests.get(request) ?? { ms: 0, calls: 0, errors: {} };
      this.requests.set(request, totals);
      totals.ms += performance.now() - startedMs;
      totals.calls += 1;
      if (err === undefined) return;
      const type = (err as { type?: unknown }).type;
      const key = typeof type === 'string' ? type : err instanceof Error ? err.name : 'unknown';
      totals.errors[key] = (totals.errors[key] ?? 0) + 1;
    };
    holder[name] = function (this: unknown, ...args: unknown[]) {
      const startedMs = performance.now();
      return original.apply(this, args).then(
        (value) => {
          record(startedMs);
          return value;
        },
        (err: unknown) => {
          record(startedMs, err ?? 'unknown');
          throw err;
        },
      );
    };
    this.#restore.push(() => {
      holder[name] = original;
    });
  }
}
