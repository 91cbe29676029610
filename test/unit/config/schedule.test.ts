import { describe, expect, it } from 'vitest';
import { inspectBundle } from '../../../src/config/bundle.ts';
import { Rejected } from '../../../src/config/keys.ts';
import { checkSchedule, parseSchedule, SCHEDULE_EXPECTED } from '../../../src/config/schedule.ts';
import { builtinRegistry } from '../../../src/connectors/builtins.ts';
import { formatProblem } from '../../../src/errors.ts';
import { sourceProps, writeBundle } from '../../support/bundle-fixture.ts';

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

describe('checkSchedule: what EventBridge refuses, with the rule and the field', () => {
  const refused: readonly (readonly [string, string])[] = [
    ['cron(99 * * * ? *)', 'cron minutes field (0-59, wildcards , - * /): 99 is not in 0-59'],
    ['cron(0 24 * * ? *)', 'cron hours field (0-23, wildcards , - * /): 24 is not in 0-23'],
    ['cron(0 0 32 * ? *)', 'cron day-of-month field (1-31, wildcards , - * ? / L W): 32 is not in 1-31'],
    ['cron(0 0 * 13 ? *)', 'cron month field (1-12, wildcards , - * /): 13 is not in 1-12 or JAN-DEC'],
    ['cron(0 0 ? * 8 *)', 'cron day-of-week field (1-7, wildcards , - * ? L #): 8 is not in 1-7 or SUN-SAT'],
    ['cron(0 0 * * ? 2200)', 'cron year field (1970-2199, wildcards , - * /): 2200 is not in 1970-2199'],
    [
      'cron(0/0 * * * ? *)',
      'cron minutes field (0-59, wildcards , - * /): 0/0: an increment must be a whole number from 1 to 59',
    ],
    [
      'cron(0 0 ? * MON/2 *)',
      'cron day-of-week field (1-7, wildcards , - * ? L #): MON/2: the day-of-week field takes no / (increments)',
    ],
    [
      'cron(0 ? * * ? *)',
      'cron hours field (0-23, wildcards , - * /): only day-of-month and day-of-week take ?',
    ],
    ['cron(0 0 * * * *)', 'exactly one of day-of-month and day-of-week must be ? (got * and *)'],
    ['cron(0 0 ? * ? *)', 'exactly one of day-of-month and day-of-week must be ? (got ? and ?)'],
    ['cron(*/5 * * * *)', 'cron takes 6 fields (minutes hours day-of-month month day-of-week year), got 5'],
    ['rate(1 minutes)', 'a rate of 1 takes the singular unit: rate(1 minute)'],
    ['rate(5 minute)', 'a rate above 1 takes the plural unit: rate(5 minutes)'],
    ['rate(0 minutes)', 'the rate value must be a whole number >= 1 (got 0)'],
    ['rate(5 seconds)', 'the rate unit must be minute(s), hour(s) or day(s) (got seconds)'],
  ];
  it.each(refused)('refuses %s', (expression, reason) => {
    expect(checkSchedule(expression)).toEqual(new Rejected(reason));
  });

  it.each([
    'cron(0/15 * * * ? *)',
    'cron(15 10 ? * 6L *)',
    'cron(0 0 L * ? *)',
    'cron(0 0 LW * ? *)',
    'cron(0 0 15W * ? *)',
    'cron(0 9 ? * 3#2 *)',
    'cron(0 0 ? JUL-DEC WED *)',
    'cron(0,15,30,45 8-18 * * ? 2026-2030)',
  ])('accepts %s', (expression) => {
    expect(checkSchedule(expression)).toEqual({ kind: 'cron', expression });
  });

  it('names the rule in the problem of a connector whose schedule breaks it', () => {
    const dir = writeBundle({ 'connectors/a.properties': sourceProps('schedule=cron(99 * * * ? *)\n') });
    expect(inspectBundle(dir, { registry: builtinRegistry() }).problems.map(formatProblem)).toEqual([
      `connectors/a.properties:5: schedule: ${SCHEDULE_EXPECTED}: cron minutes field (0-59, wildcards , - * /): 99 is not in 0-59 (got cron(99 * * * ? *))`,
    ]);
  });
});
