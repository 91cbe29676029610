import { describe, expect, it } from 'vitest';
import * as errors from '../../src/errors.ts';

const concrete = [
  new errors.ConfigInvalidError([{ file: 'f', key: 'k', expected: 'e' }]),
  new errors.ConfigProviderError('x'),
  new errors.EnvironmentError('x'),
  new errors.StackError('x', ['/tmp/a.log']),
  new errors.UsageError('x'),
  new errors.FencedError('x'),
  new errors.SinkTargetError('x'),
  new errors.TopicNotSubscribedError('x'),
  new errors.ConversionError('x', { stage: errors.Stage.VALUE_CONVERTER }),
  new errors.EventDecodeError('x'),
  new errors.RecordTooLargeError('x', { index: 0, sizeBytes: 2, limitBytes: 1 }),
];

describe('errors', () => {
  it('names every error after its class and gives each class a distinct stable code', () => {
    for (const err of concrete) {
      expect(err.name).toBe(err.constructor.name);
      expect(err).toBeInstanceOf(errors.ConnectFnError);
      expect(err.code).toMatch(/^CONNECT_FN_[A-Z_]+$/);
    }
    expect(new Set(concrete.map((e) => e.code)).size).toBe(concrete.length);
  });

  it('carries retriable, stage and cause', () => {
    const cause = new Error('socket closed');
    const err = new errors.StackError('down', [], {
      retriable: true,
      stage: errors.Stage.KAFKA_PRODUCE,
      cause,
    });
    expect(err.retriable).toBe(true);
    expect(err.stage).toBe('KAFKA_PRODUCE');
    expect(err.cause).toBe(cause);
    expect(errors.isRetriable(err)).toBe(true);
    expect(errors.isRetriable(new TypeError('bug'))).toBe(false);
    expect(new errors.UsageError('x').retriable).toBe(false);
  });

  it('formats a problem as file:line: key: expected (got value); suggestion', () => {
    const line = errors.formatProblem({
      file: 'connectors/a.properties',
      line: 3,
      key: 'task.max',
      expected: 'unknown key',
      suggestion: 'tasks.max',
    });
    expect(line).toBe("connectors/a.properties:3: task.max: unknown key; did you mean 'tasks.max'?");
    expect(errors.formatProblem({ file: 'w', key: 'k', expected: 'an integer', got: 'x' })).toBe(
      'w: k: an integer (got x)',
    );
  });

  it('lists every problem in a ConfigInvalidError message', () => {
    const err = new errors.ConfigInvalidError([
      { file: 'a', key: 'x', expected: 'e1' },
      { file: 'b', key: 'y', expected: 'e2' },
    ]);
    expect(err.message).toContain('2 problems');
    expect(err.message).toContain('a: x: e1');
    expect(err.message).toContain('b: y: e2');
    expect(Object.isFrozen(err.problems)).toBe(true);
  });
});
