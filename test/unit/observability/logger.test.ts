import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ConfigProviderError, EnvironmentError, Stage } from '../../../src/errors.ts';
import { createLogger, type LoggerOptions } from '../../../src/observability/logger.ts';

const NOW_MS = Date.UTC(2025, 0, 2, 3, 4, 5, 6);

/** A logger writing into an array, with a fixed clock and no environment. */
function capture(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const logger = createLogger({ env: {}, nowMs: () => NOW_MS, sink: (line) => lines.push(line), ...options });
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

describe('line format', () => {
  it('writes one JSON object per line with level, timestamp and message first', () => {
    // Prepare
    const { logger, lines, records } = capture();
    // Act
    logger.info('batch produced', { records: 500 });
    logger.warn('slow broker');
    // Assess
    expect(lines).toHaveLength(2);
    expect(lines.every((line) => line.endsWith('}\n') && line.indexOf('\n') === line.length - 1)).toBe(true);
    expect(records()[0]).toEqual({
      level: 'info',
      timestamp: '2025-01-02T03:04:05.006Z',
      message: 'batch produced',
      records: 500,
    });
    expect(Object.keys(records()[1]!)).toEqual(['level', 'timestamp', 'message']);
  });

  it('puts persistent keys before call fields, and a call field wins over a persistent key', () => {
    const { logger, records } = capture({ fields: { region: 'eu-west-1', phase: 'init' } });
    logger.info('done', { phase: 'flush', durationMs: 12 });
    expect(Object.keys(records()[0]!)).toEqual([
      'level',
      'timestamp',
      'message',
      'region',
      'phase',
      'durationMs',
    ]);
    expect(records()[0]).toMatchObject({ region: 'eu-west-1', phase: 'flush' });
  });

  it('never lets a field replace level, timestamp or message', () => {
    const { logger, records } = capture({ fields: { level: 'debug' } });
    logger.info('real message', { message: 'fake', timestamp: 'yesterday', records: 1 });
    expect(records()[0]).toEqual({
      level: 'info',
      timestamp: '2025-01-02T03:04:05.006Z',
      message: 'real message',
      records: 1,
    });
  });

  it('writes to stdout by default', () => {
    const written: string[] = [];
    const original = process.stdout.write;
    process.stdout.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stdout.write;
    try {
      createLogger({ env: {} }).info('to stdout');
    } finally {
      process.stdout.write = original;
    }
    expect(written).toHaveLength(1);
    expect(JSON.parse(written[0]!)).toMatchObject({ level: 'info', message: 'to stdout' });
  });
});

describe('levels', () => {
  it('defaults to info: debug lines are dropped, info and above are written', () => {
    const { logger, records } = capture();
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(records().map((r) => r.level)).toEqual(['info', 'warn', 'error']);
    expect(logger.level).toBe('info');
  });

  it('takes the level from LOG_LEVEL, case-insensitively', () => {
    const { logger, records } = capture({ env: { LOG_LEVEL: 'WARN' } });
    logger.info('i');
    logger.warn('w');
    expect(records().map((r) => r.message)).toEqual(['w']);
  });

  it('lets the level option win over LOG_LEVEL', () => {
    const { logger, records } = capture({ env: { LOG_LEVEL: 'error' }, level: 'debug' });
    logger.debug('d');
    expect(records().map((r) => r.message)).toEqual(['d']);
  });

  it("follows Lambda's AWS_LAMBDA_LOG_LEVEL when LOG_LEVEL is unset", () => {
    const { logger } = capture({ env: { AWS_LAMBDA_LOG_LEVEL: 'TRACE' } });
    expect(logger.isLevelEnabled('debug')).toBe(true);
  });

  it('falls back to info on an unknown LOG_LEVEL and says so', () => {
    const { logger, records } = capture({ env: { LOG_LEVEL: 'verbose' } });
    expect(logger.level).toBe('info');
    expect(records()).toEqual([
      expect.objectContaining({ level: 'warn', value: 'verbose', known: ['debug', 'info', 'warn', 'error'] }),
    ]);
  });

  it('does not read the fields of a call below the level', () => {
    // Prepare
    const { logger, lines } = capture({ level: 'info' });
    const touched: string[] = [];
    const fields = {
      get offsets() {
        touched.push('getter');
        return [1, 2, 3];
      },
      toJSON() {
        touched.push('toJSON');
        return {};
      },
    };
    // Act
    logger.debug('offsets read', fields);
    logger.child({ component: 'offsets' }).debug('offsets read', fields);
    // Assess
    expect(touched).toEqual([]);
    expect(lines).toEqual([]);
  });
});

describe('persistent context', () => {
  it('gives a child its own fields and keys appended to its parent later', () => {
    const { logger, records } = capture();
    const child = logger.child({ component: 'offsets' });
    logger.appendKeys({ region: 'eu-west-1' });
    child.info('read');
    expect(records()[0]).toMatchObject({ component: 'offsets', region: 'eu-west-1' });
  });

  it("keeps a child's keys out of its parent", () => {
    const { logger, records } = capture();
    const child = logger.child({ component: 'offsets' });
    child.appendKeys({ partitions: 3 });
    logger.info('root');
    expect(records()[0]).not.toHaveProperty('component');
    expect(records()[0]).not.toHaveProperty('partitions');
  });

  it('drops removed keys', () => {
    const { logger, records } = capture({ fields: { a: 1, b: 2 } });
    logger.removeKeys('a');
    logger.info('x');
    expect(records()[0]).not.toHaveProperty('a');
    expect(records()[0]).toHaveProperty('b', 2);
  });
});

describe('invocation context', () => {
  const orders = { connector: 'orders', task: 0, invocationId: 'req-1' } as const;

  it('tags every line of an invocation, children included, with connector, task, invocationId, coldStart', () => {
    const { logger, records } = capture();
    const child = logger.child({ component: 'cycle' });
    logger.startInvocation(orders);
    child.info('polled');
    expect(records()[0]).toEqual({
      level: 'info',
      timestamp: '2025-01-02T03:04:05.006Z',
      message: 'polled',
      connector: 'orders',
      task: 0,
      invocationId: 'req-1',
      coldStart: true,
      component: 'cycle',
    });
  });

  it('marks only the first invocation as a cold start', () => {
    const { logger, records } = capture();
    for (const id of ['req-1', 'req-2', 'req-3']) {
      logger.startInvocation({ ...orders, invocationId: id });
      logger.info('tick');
      logger.endInvocation();
    }
    expect(records().map((r) => r.coldStart)).toEqual([true, false, false]);
  });

  it('leaves nothing of an invocation in the lines after it', () => {
    // Prepare
    const { logger, records } = capture();
    logger.startInvocation(orders);
    logger.appendInvocationKeys({ stopReason: 'deadline', records: 12 });
    logger.info('first');
    logger.endInvocation();
    // Act
    logger.info('between');
    logger.startInvocation({ connector: 'orders', task: 1, invocationId: 'req-2' });
    logger.info('second');
    // Assess
    const [, between, second] = records();
    expect(between).toEqual({ level: 'info', timestamp: '2025-01-02T03:04:05.006Z', message: 'between' });
    expect(second).toMatchObject({ task: 1, invocationId: 'req-2', coldStart: false });
    expect(second).not.toHaveProperty('stopReason');
    expect(second).not.toHaveProperty('records');
  });

  it('ignores invocation keys when no invocation is running', () => {
    const { logger, records } = capture();
    logger.appendInvocationKeys({ stopReason: 'idle' });
    logger.startInvocation(orders);
    logger.info('x');
    expect(records()[0]).not.toHaveProperty('stopReason');
  });

  it('keeps concurrent withInvocation flows apart and ends each when it settles', async () => {
    // Prepare
    const { logger, records } = capture();
    const run = (id: string, delayMs: number) =>
      logger.withInvocation({ connector: 'orders', task: 0, invocationId: id }, async () => {
        logger.appendInvocationKeys({ mine: id });
        await sleep(delayMs);
        logger.info('done');
      });
    // Act
    await Promise.all([run('a', 20), run('b', 1)]);
    logger.info('after');
    // Assess
    expect(records().map((r) => [r.invocationId, r.mine])).toEqual([
      ['b', 'b'],
      ['a', 'a'],
      [undefined, undefined],
    ]);
  });
});

describe('errors', () => {
  it('serialises our errors as name, code, message, retriable, stage and stack', () => {
    // Prepare
    const { logger, records } = capture();
    const err = new ConfigProviderError('cannot read file', { retriable: true, stage: Stage.TASK_START });
    // Act
    logger.error('start failed', { err });
    // Assess
    const logged = records()[0]!.err as Record<string, unknown>;
    expect(Object.keys(logged)).toEqual(['name', 'code', 'message', 'retriable', 'stage', 'stack']);
    expect(logged).toMatchObject({
      name: 'ConfigProviderError',
      code: 'CONNECT_FN_CONFIG_PROVIDER',
      message: 'cannot read file',
      retriable: true,
      stage: 'TASK_START',
    });
    expect(logged.stack).toContain('cannot read file');
  });

  it('logs an Error passed in place of fields under `error`', () => {
    const { logger, records } = capture();
    logger.error('failed', new TypeError('boom'));
    expect(records()[0]!.error).toMatchObject({ name: 'TypeError', message: 'boom' });
  });

  it('follows the cause chain to a bounded depth', () => {
    // Prepare
    let err: Error = new Error('root cause');
    for (let i = 9; i >= 1; i--) err = new EnvironmentError(`level ${i}`, { cause: err });
    const { logger, records } = capture();
    // Act
    logger.error('failed', err);
    // Assess
    const messages: unknown[] = [];
    let node: unknown = records()[0]!.error;
    while (typeof node === 'object' && node !== null) {
      messages.push((node as { message: unknown }).message);
      node = (node as { cause?: unknown }).cause;
    }
    expect(messages).toEqual(['level 1', 'level 2', 'level 3', 'level 4', 'level 5', 'level 6']);
    expect(node).toBe('[cause chain cut]');
  });

  it('stops at an error that is its own cause', () => {
    const { logger, records } = capture();
    const err = new Error('loop');
    err.cause = err;
    logger.error('failed', err);
    expect((records()[0]!.error as { cause: unknown }).cause).toBe('[circular]');
  });
});

describe('values', () => {
  it('makes awkward values printable: bigint, cycles, bytes, maps, sets, dates', () => {
    const { logger, records } = capture();
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    const shared = { n: 1 };
    logger.info('values', {
      offset: 9007199254740993n,
      cyclic,
      both: [shared, shared],
      payload: Buffer.from('record bytes'),
      map: new Map([['p0', 1]]),
      set: new Set([1, 2]),
      at: new Date(NOW_MS),
      nan: Number.NaN,
      skipped: undefined,
    });
    expect(records()[0]).toMatchObject({
      offset: '9007199254740993',
      cyclic: { name: 'a', self: '[circular]' },
      both: [{ n: 1 }, { n: 1 }],
      payload: '[Buffer 12 bytes]',
      map: { p0: 1 },
      set: [1, 2],
      at: '2025-01-02T03:04:05.006Z',
      nan: 'NaN',
    });
    expect(records()[0]).not.toHaveProperty('skipped');
  });

  it('cuts deep nesting and long arrays', () => {
    const { logger, records } = capture();
    let deep: unknown = 'bottom';
    for (let i = 0; i < 20; i++) deep = { deeper: deep };
    logger.info('big', { deep, many: Array.from({ length: 1005 }, (_, i) => i) });
    const line = records()[0]!;
    expect(JSON.stringify(line.deep)).toContain('[depth limit]');
    expect(line.many).toHaveLength(1001);
    expect((line.many as unknown[])[1000]).toBe('[5 more]');
  });

  it('treats __proto__ as an ordinary key', () => {
    const { logger, lines } = capture();
    logger.info('x', JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>);
    expect(lines[0]).toContain('"__proto__":{"polluted":true}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('still writes the line when a field throws, without the fields', () => {
    const { logger, records } = capture();
    const fields = {
      get broken(): never {
        throw new Error('getter failed');
      },
    };
    expect(() => logger.info('still here', fields)).not.toThrow();
    expect(records()[0]).toEqual({
      level: 'info',
      timestamp: '2025-01-02T03:04:05.006Z',
      message: 'still here',
      logError: 'Error',
    });
  });

  it('never throws into the caller when the sink fails', () => {
    const logger = createLogger({
      env: {},
      sink: () => {
        throw new Error('EPIPE');
      },
    });
    expect(() => logger.error('x')).not.toThrow();
  });
});
