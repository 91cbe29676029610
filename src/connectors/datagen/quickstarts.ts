/**
 * The quickstart record shapes, after Confluent datagen's `orders`, `users` and `pageviews` schemas (same
 * field names and value styles; values are drawn from the record's own {@link Draws}, so they differ from
 * Confluent's). Every value also carries `task` and `sequence`, which make loss and duplication visible.
 *
 * Keys are strings of Confluent's key fields: orders → `orderid`, users → `userid`,
 * pageviews → `viewtime`.
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

/** A generated record before padding: the key and a value object (fields in a fixed order). */
export interface GeneratedRecord {
  readonly key: string;
  readonly value: Record<string, unknown>;
}

export type QuickstartRecord = (draws: Draws, at: RecordPosition) => GeneratedRecord;

const GENDERS = ['MALE', 'FEMALE', 'OTHER'] as const;

function orders(draws: Draws, at: RecordPosition): GeneratedRecord {
  const orderid = at.sequence * at.taskCount + at.task;
  const value = {
    ordertime: at.timeMs,
    orderid,
    itemid: `Item_${1 + draws.int(999)}`,
    orderunits: 0.1 + draws.unit() * 9.9,
    address: {
      city: `City_${1 + draws.int(99)}`,
      state: `State_${1 + draws.int(99)}`,
      zipcode: 10_000 + draws.int(90_000),
    },
    task: at.task,
    sequence: at.sequence,
  };
  return { key: String(orderid), value };
}

function users(draws: Draws, at: RecordPosition): GeneratedRecord {
  const userid = `User_${1 + draws.int(9)}`;
  const value = {
    registertime: at.timeMs,
    userid,
    regionid: `Region_${1 + draws.int(9)}`,
    gender: GENDERS[draws.int(3)],
    task: at.task,
    sequence: at.sequence,
  };
  return { key: userid, value };
}

function pageviews(draws: Draws, at: RecordPosition): GeneratedRecord {
  const value = {
    viewtime: at.timeMs,
    userid: `User_${1 + draws.int(9)}`,
    pageid: `Page_${1 + draws.int(99)}`,
    task: at.task,
    sequence: at.sequence,
  };
  return { key: String(at.timeMs), value };
}

export const QUICKSTART_RECORDS: Readonly<Record<Quickstart, QuickstartRecord>> = {
  orders,
  users,
  pageviews,
};
