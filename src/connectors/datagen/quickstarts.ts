/**
 * The quickstart record shapes, after Confluent datagen's `orders`, `users` and `pageviews` schemas (same
 * field names and value styles; values are drawn from the record's own {@link Draws}, so they differ from
 * Confluent's). Every value also carries `task` and `sequence`, which make loss and duplication visible.
 *
 * Keys are strings of Confluent's key fields: orders → `orderid`, users → `userid`,
 * pageviews → `viewtime`.
 *
 * Padding (`record.bytes`): each shape knows the length of its own compact JSON from the lengths of its
 * fields (the constant part is measured once, below), so a padded record costs no serialisation here.
 *
 * @example
 * ```ts
 * const { key, value } = QUICKSTART_RECORDS.users(draws, { task: 0, taskCount: 1, sequence: 7, timeMs });
 * // key 'User_3', value {registertime, userid: 'User_3', regionid: 'Region_5', gender: 'FEMALE', task: 0, sequence: 7}
 * ```
 * @module
 */
import type { Quickstart } from './config.ts';
import type { Draws } from './random.ts';

/** Which record is being generated. */
export interface RecordPosition {
  readonly task: number;
  /** Tasks of the connector: `orderid` interleaves them so ids are unique across tasks. */
  readonly taskCount: number;
  readonly sequence: number;
  /** The simulated clock at this record (epoch ms). */
  readonly timeMs: number;
}

/** A generated record: the key and a value object (fields in a fixed order). */
export interface GeneratedRecord {
  readonly key: string;
  readonly value: Record<string, unknown>;
}

/**
 * The padding of a value whose compact JSON, without a padding field, is `jsonLength` characters long;
 * called after every other draw of the record. Absent when values are not padded.
 */
export type Padding = (jsonLength: number) => string;

/**
 * Generates one record; with `pad`, the value gets a last field `padding` holding `pad(<its JSON length>)`.
 * Draws happen in field order.
 */
export type QuickstartRecord = (draws: Draws, at: RecordPosition, pad?: Padding) => GeneratedRecord;

const GENDERS = ['MALE', 'FEMALE', 'OTHER'] as const;

/** Length of `n` written as JSON (JavaScript's shortest form, as `JSON.stringify`). */
export function numberLength(n: number): number {
  if (!Number.isSafeInteger(n)) return String(n).length;
  let length = n < 0 ? 2 : 1;
  const abs = Math.abs(n);
  for (let power = 10; power <= abs; power *= 10) length++;
  return length;
}

/**
 * The compact JSON length of a value shape without its variable parts: `template` has every number 0 and
 * every string empty, so what remains are the braces, quotes, field names, colons and commas.
 */
function fixedLength(template: object): number {
  let numbers = 0;
  const json = JSON.stringify(template, (_key, value: unknown) => {
    if (typeof value === 'number') numbers++;
    return value;
  });
  return json.length - numbers;
}

// Generated strings are ASCII letters, digits and '_' (no escaping): their JSON length is length + 2.
const ORDERS_FIXED = fixedLength({
  ordertime: 0,
  orderid: 0,
  itemid: '',
  orderunits: 0,
  address: { city: '', state: '', zipcode: 0 },
  task: 0,
  sequence: 0,
});
const USERS_FIXED = fixedLength({
  registertime: 0,
  userid: '',
  regionid: '',
  gender: '',
  task: 0,
  sequence: 0,
});
const PAGEVIEWS_FIXED = fixedLength({ viewtime: 0, userid: '', pageid: '', task: 0, sequence: 0 });

function orders(draws: Draws, at: RecordPosition, pad?: Padding): GeneratedRecord {
  const { task, sequence, timeMs: ordertime } = at;
  const orderid = sequence * at.taskCount + task;
  const itemid = `Item_${1 + draws.int(999)}`;
  const orderunits = 0.1 + draws.unit() * 9.9;
  const address = {
    city: `City_${1 + draws.int(99)}`,
    state: `State_${1 + draws.int(99)}`,
    zipcode: 10_000 + draws.int(90_000),
  };
  const key = String(orderid);
  if (pad === undefined)
    return { key, value: { ordertime, orderid, itemid, orderunits, address, task, sequence } };
  const padding = pad(
    ORDERS_FIXED +
      numberLength(ordertime) +
      key.length +
      itemid.length +
      numberLength(orderunits) +
      address.city.length +
      address.state.length +
      numberLength(address.zipcode) +
      numberLength(task) +
      numberLength(sequence),
  );
  return { key, value: { ordertime, orderid, itemid, orderunits, address, task, sequence, padding } };
}

function users(draws: Draws, at: RecordPosition, pad?: Padding): GeneratedRecord {
  const { task, sequence, timeMs: registertime } = at;
  const userid = `User_${1 + draws.int(9)}`;
  const regionid = `Region_${1 + draws.int(9)}`;
  const gender = GENDERS[draws.int(3)]!;
  if (pad === undefined)
    return { key: userid, value: { registertime, userid, regionid, gender, task, sequence } };
  const padding = pad(
    USERS_FIXED +
      numberLength(registertime) +
      userid.length +
      regionid.length +
      gender.length +
      numberLength(task) +
      numberLength(sequence),
  );
  return { key: userid, value: { registertime, userid, regionid, gender, task, sequence, padding } };
}

function pageviews(draws: Draws, at: RecordPosition, pad?: Padding): GeneratedRecord {
  const { task, sequence, timeMs: viewtime } = at;
  const userid = `User_${1 + draws.int(9)}`;
  const pageid = `Page_${1 + draws.int(99)}`;
  const key = String(viewtime);
  if (pad === undefined) return { key, value: { viewtime, userid, pageid, task, sequence } };
  const padding = pad(
    PAGEVIEWS_FIXED +
      key.length +
      userid.length +
      pageid.length +
      numberLength(task) +
      numberLength(sequence),
  );
  return { key, value: { viewtime, userid, pageid, task, sequence, padding } };
}

export const QUICKSTART_RECORDS: Readonly<Record<Quickstart, QuickstartRecord>> = {
  orders,
  users,
  pageviews,
};
