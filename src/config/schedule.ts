/**
 * EventBridge schedule expressions, checked as EventBridge checks them so a bundle that validates also
 * deploys: `rate(1 minute)` (singular for 1, plural otherwise: `rate(5 minutes)`), or
 * `cron(minutes hours day-of-month month day-of-week year)` with exactly one of day-of-month and
 * day-of-week being `?`.
 * @module
 */

export type Schedule =
  | { readonly kind: 'rate'; readonly expression: string; readonly everyMs: number }
  | { readonly kind: 'cron'; readonly expression: string };

const UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

export const SCHEDULE_EXPECTED =
  'rate(<n> minute|minutes|hour|hours|day|days) or cron(<min> <hour> <day-of-month> <month> <day-of-week> <year>)';

function parseRate(body: string, expression: string): Schedule | undefined {
  const m = /^(\d+) (minute|hour|day)(s?)$/.exec(body);
  if (m === null) return undefined;
  const n = Number(m[1]);
  const plural = m[3] === 's';
  if (n < 1 || (n === 1) === plural) return undefined;
  return { kind: 'rate', expression, everyMs: n * UNIT_MS[m[2] as keyof typeof UNIT_MS] };
}

const CRON_FIELD = /^[\d*?,\-/LW#A-Za-z]+$/;

function parseCron(body: string, expression: string): Schedule | undefined {
  const fields = body.split(/\s+/);
  if (fields.length !== 6 || !fields.every((f) => CRON_FIELD.test(f))) return undefined;
  const [, , dayOfMonth, , dayOfWeek] = fields;
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) return undefined;
  return { kind: 'cron', expression };
}

/** Parses an EventBridge schedule expression; undefined when EventBridge would refuse it. */
export function parseSchedule(raw: string): Schedule | undefined {
  const expression = raw.trim();
  const m = /^(rate|cron)\((.*)\)$/.exec(expression);
  if (m === null) return undefined;
  const body = (m[2] ?? '').trim();
  return m[1] === 'rate' ? parseRate(body, expression) : parseCron(body, expression);
}
