/**
 * The task a scheduled invocation runs, from its event (`taskOf`), and the real handler entry refusing a
 * bad event before any cycle runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventDecodeError } from '../../../src/errors.ts';
import { localContext, taskOf } from '../../../src/lambda/lambda-context.ts';
import { writeBundle } from '../../support/bundle-fixture.ts';
import { testEnv } from '../../support/cli.ts';

/** The scheduled event an EventBridge rule without input sends (AWS documentation's example). */
const RULE_EVENT = {
  version: '0',
  id: '89d1a02d-5ec7-412e-82f5-13505f849b41',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2016-12-30T18:44:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/SampleRule'],
  detail: {},
};

function refusal(event: unknown, tasks: number): EventDecodeError {
  try {
    taskOf(event, tasks, 'orders');
  } catch (err) {
    expect(err).toBeInstanceOf(EventDecodeError);
    return err as EventDecodeError;
  }
  throw new Error(`taskOf accepted ${JSON.stringify(event)}`);
}

describe('taskOf: the task of a scheduled invocation', () => {
  it('accepts an EventBridge Scheduler input {task: N} for every task, whatever else the input holds', () => {
    expect(taskOf({ task: 0 }, 2, 'orders')).toBe(0);
    expect(taskOf({ task: 1 }, 2, 'orders')).toBe(1);
    expect(taskOf({ task: 3, note: 'schedule 3' }, 4, 'orders')).toBe(3);
  });

  it("runs task 0 of a one-task connector for an event that names no task: {} or an EventBridge rule's event", () => {
    expect(taskOf({}, 1, 'orders')).toBe(0);
    expect(taskOf(RULE_EVENT, 1, 'orders')).toBe(0);
  });

  it('refuses an event that names no task when the connector has more tasks: task 0 alone would run', () => {
    for (const event of [{}, RULE_EVENT]) {
      const err = refusal(event, 2);
      expect(err.message).toContain('{"task": N} with N an integer from 0 to 1 (orders runs 2 tasks');
    }
  });

  it.each([
    ['a string', 'hello', 'got "hello"'],
    ['null', null, 'got null'],
    ['a number', 42, 'got 42'],
    ['an array', [{ task: 0 }], 'got an array [{"task":0}]'],
    ['a task that is a string', { task: '1' }, 'got {"task":"1"}'],
    ['a negative task', { task: -1 }, 'got {"task":-1}'],
    ['a fractional task', { task: 1.5 }, 'got {"task":1.5}'],
    ['a task = tasks', { task: 2 }, 'got {"task":2}'],
    ['a task > tasks', { task: 9 }, 'got {"task":9}'],
    [
      'a Kafka event sent to the scheduled function',
      { eventSource: 'aws:kafka', records: {} },
      'got {"eventSource"',
    ],
    ['undefined (no event at all)', undefined, 'got no event'],
  ])('refuses %s, naming the connector, what it got and what it expects', (_what, event, got) => {
    const err = refusal(event, 2);
    expect(err.code).toBe('CONNECT_FN_EVENT');
    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(
      /^orders: a scheduled invocation's event must be an EventBridge Scheduler input \{"task": N\} with N an integer from 0 to 1/,
    );
    expect(err.message).toContain(got);
  });

  it('shows a bounded part of a large event', () => {
    const err = refusal({ task: 'x'.repeat(100_000) }, 2);
    expect(err.message.length).toBeLessThan(600);
    expect(err.message).toContain('chars cut]');
  });
});

describe('the source function refuses a bad event without running a cycle', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.resetModules();
  });

  it('handlers/source.ts throws CONNECT_FN_EVENT for "hello", null and a task out of range; nothing is read or committed', async () => {
    // A file source with file offsets: a cycle would read in.txt and write the offsets file. The broker
    // address is unreachable: no test here may touch the network, and none is needed to refuse an event.
    const dir = writeBundle({
      'worker.properties':
        'bootstrap.servers=127.0.0.1:1\noffset.storage=file\noffset.storage.file.filename=offsets.json\n',
      'connectors/src.properties': 'name=src\nconnector.class=FileStreamSource\nfile=in.txt\ntopic=t\n',
      'in.txt': 'a\nb\n',
    });
    testEnv({ CONNECT_FN_BUNDLE: dir, CONNECT_FN_CONNECTOR: 'src' });
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const { handler } = await import('../../../handlers/source.ts');
    for (const event of ['hello', null, { task: 1 }, [0]]) {
      const outcome = await handler(event, localContext('src', 5_000)).then(
        (summary) => ({ summary }),
        (err: unknown) => ({ err }),
      );
      expect(outcome).toMatchObject({ err: { code: 'CONNECT_FN_EVENT', retriable: false } });
    }
    expect(existsSync(join(dir, 'offsets.json'))).toBe(false);
    expect(lines.join('')).not.toContain('invocation finished');
    expect(readFileSync(join(dir, 'in.txt'), 'utf8')).toBe('a\nb\n');
  });
});
