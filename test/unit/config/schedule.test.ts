import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../../src/config/schedule.ts';

describe('parseSchedule', () => {
  it('accepts EventBridge rate expressions with the right singular or plural', () => {
    expect(parseSchedule('rate(1 minute)')).toEqual({
      kind: 'rate',
      expression: 'rate(1 minute)',
      everyMs: 60_000,
    });
    expect(parseSchedule('rate(5 minutes)')).toMatchObject({ everyMs: 300_000 });
    expect(parseSchedule('rate(2 hours)')).toMatchObject({ everyMs: 7_200_000 });
    expect(parseSchedule('rate(1 minutes)')).toBeUndefined();
    expect(parseSchedule('rate(5 minute)')).toBeUndefined();
    expect(parseSchedule('rate(0 minutes)')).toBeUndefined();
    expect(parseSchedule('rate(5 seconds)')).toBeUndefined();
  });

  it('accepts six-field cron expressions with one of day-of-month and day-of-week as ?', () => {
    expect(parseSchedule('cron(0/5 * * * ? *)')).toEqual({ kind: 'cron', expression: 'cron(0/5 * * * ? *)' });
    expect(parseSchedule('cron(0 12 ? * MON-FRI *)')).toMatchObject({ kind: 'cron' });
    expect(parseSchedule('cron(0 12 * * * *)')).toBeUndefined();
    expect(parseSchedule('cron(*/5 * * * *)')).toBeUndefined();
    expect(parseSchedule('every 5 minutes')).toBeUndefined();
  });
});
