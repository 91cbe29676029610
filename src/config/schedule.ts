/**
 * EventBridge schedule expressions, checked by the rules of AWS's "Schedule types in EventBridge Scheduler"
 * so a bundle that validates also deploys, and a schedule that would not is refused naming the rule and
 * the field it breaks:
 * - `rate(value unit)`: value a whole number >= 1; unit minute, hour or day, singular for 1 and plural
 *   otherwise (`rate(1 minute)`, `rate(5 minutes)`);
 * - `cron(minutes hours day-of-month month day-of-week year)`, six fields:
 *   minutes 0-59 and hours 0-23 (`, - * /`); day-of-month 1-31 (`, - * ? / L W`); month 1-12 or JAN-DEC
 *   (`, - * /`); day-of-week 1-7 or SUN-SAT (`, - * ? L #`); year 1970-2199 (`, - * /`); exactly one of
 *   day-of-month and day-of-week is `?`. `L`, `W` and `#` forms (`L`, `LW`, `15W`, `6L`, `3#2`) stand alone in
 *   their field, as in the Quartz syntax EventBridge follows.
 * @module
 */

export type Schedule =
  | { readonly kind: 'rate'; readonly expression: string; readonly everyMs: number }
  | { readonly kind: 'cron'; readonly expression: string };

import { Rejected } from './keys.ts';

const UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

export const SCHEDULE_EXPECTED =
  'rate(<n> minute|minutes|hour|hours|day|days) or cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>), as EventBridge takes them';

function parseRate(body: string, expression: string): Schedule | Rejected {
  const m = /^(\S+)\s+(\S+)$/.exec(body);
  if (m === null) return new Rejected('rate takes a value and a unit, as rate(5 minutes)');
  const [, value = '', unit = ''] = m;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    return new Rejected(`the rate value must be a whole number >= 1 (got ${value})`);
  const singular = unit.replace(/s$/, '');
  if (!Object.hasOwn(UNIT_MS, singular))
    return new Rejected(`the rate unit must be minute(s), hour(s) or day(s) (got ${unit})`);
  const n = Number(value);
  const plural = unit !== singular;
  if (n === 1 && plural) return new Rejected(`a rate of 1 takes the singular unit: rate(1 ${singular})`);
  if (n !== 1 && !plural)
    return new Rejected(`a rate above 1 takes the plural unit: rate(${n} ${singular}s)`);
  return { kind: 'rate', expression, everyMs: n * UNIT_MS[singular as keyof typeof UNIT_MS] };
}

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names standing for 1, 2, ... (JAN-DEC, SUN-SAT). */
  readonly names?: readonly string[];
  /** The wildcards EventBridge's table allows beyond `, - *`. */
  readonly wildcards: string;
  /** Whole-field forms beyond `?` (L, W, #), with what they mean for the message. */
  readonly special?: RegExp;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const NAME_WORD = new RegExp([...MONTHS, ...DAYS].join('|'), 'g');

const CRON_FIELDS: readonly CronField[] = [
  { name: 'minutes', min: 0, max: 59, wildcards: ', - * /' },
  { name: 'hours', min: 0, max: 23, wildcards: ', - * /' },
  {
    name: 'day-of-month',
    min: 1,
    max: 31,
    wildcards: ', - * ? / L W',
    special: /^(L|LW|(0?[1-9]|[12]\d|3[01])W)$/,
  },
  { name: 'month', min: 1, max: 12, names: MONTHS, wildcards: ', - * /' },
  {
    name: 'day-of-week',
    min: 1,
    max: 7,
    names: DAYS,
    wildcards: ', - * ? L #',
    special: /^(L|([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(L|#[1-5]))$/i,
  },
  { name: 'year', min: 1970, max: 2199, wildcards: ', - * /' },
];

/** The number a field value stands for, or undefined when it is none of the field's. */
function fieldValue(text: string, field: CronField): number | undefined {
  const named = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return named + 1;
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= field.min && n <= field.max ? n : undefined;
}

/** Checks one comma-separated item (`5`, `1-5`, `*`, `0/15`, `MON-FRI`); the reason when it fails. */
function checkItem(item: string, field: CronField): string | undefined {
  const range = `${field.min}-${field.max}${field.names ? ` or ${field.names[0]}-${field.names.at(-1)}` : ''}`;
  const [base = '', step, extra] = item.split('/');
  if (extra !== undefined) return `${item} has more than one /`;
  if (step !== undefined) {
    if (!field.wildcards.includes('/')) return `${item}: the ${field.name} field takes no / (increments)`;
    if (!/^\d+$/.test(step) || Number(step) < 1 || Number(step) > field.max)
      return `${item}: an increment must be a whole number from 1 to ${field.max}`;
  }
  if (base === '*') return undefined;
  const ends = base.split('-');
  if (ends.length > 2 || ends.some((e) => e === '')) return `${item} is not a value or a range of ${range}`;
  const bad = ends.find((e) => fieldValue(e, field) === undefined);
  return bad === undefined ? undefined : `${bad} is not in ${range}`;
}

/** The reason `text` is not a valid value of `field`, or undefined when it is. */
function checkField(text: string, field: CronField): string | undefined {
  if (text === '?' || field.special?.test(text)) {
    if (text === '?' && !field.wildcards.includes('?')) return 'only day-of-month and day-of-week take ?';
    return undefined;
  }
  for (const item of text.split(',')) {
    // Month and day names (JUL, WED) hold L and W: only what is left once they are taken out counts.
    const names = field.names === undefined ? item : item.toUpperCase().replace(NAME_WORD, '');
    if (/[?LW#]/i.test(names)) {
      return `${item}: ?, L, W and # stand alone in their field (L, LW or 15W in day-of-month; L, 6L or 3#2 in day-of-week)`;
    }
    const reason = checkItem(item, field);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

function parseCron(body: string, expression: string): Schedule | Rejected {
  const fields = body.split(/\s+/);
  if (fields.length !== 6)
    return new Rejected(
      `cron takes 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`,
    );
  for (let i = 0; i < 6; i++) {
    const field = CRON_FIELDS[i] as CronField;
    const reason = checkField(fields[i] as string, field);
    if (reason !== undefined)
      return new Rejected(
        `cron ${field.name} field (${field.min}-${field.max}, wildcards ${field.wildcards}): ${reason}`,
      );
  }
  const [, , dayOfMonth, , dayOfWeek] = fields;
  if ((dayOfMonth === '?') === (dayOfWeek === '?'))
    return new Rejected(
      `exactly one of day-of-month and day-of-week must be ? (got ${dayOfMonth} and ${dayOfWeek})`,
    );
  return { kind: 'cron', expression };
}

/** Checks an EventBridge schedule expression: the schedule, or why EventBridge would refuse it. */
export function checkSchedule(raw: string): Schedule | Rejected {
  const expression = raw.trim();
  const m = /^(rate|cron)\((.*)\)$/.exec(expression);
  if (m === null) return new Rejected('it is neither rate(...) nor cron(...)');
  const body = (m[2] ?? '').trim();
  return m[1] === 'rate' ? parseRate(body, expression) : parseCron(body, expression);
}

/** Parses an EventBridge schedule expression; undefined when EventBridge would refuse it. */
export function parseSchedule(raw: string): Schedule | undefined {
  const checked = checkSchedule(raw);
  return checked instanceof Rejected ? undefined : checked;
}
