/**
 * The rule that decides whether a sink's group `connect-<name>` is proven empty (src/kafka/group-members.ts),
 * over faked answers of DescribeGroups, ListGroups and ConsumerGroupDescribe. The broker's side, with a
 * real KIP-848 member on Kafka 4.x, is test/integration/kafka/kip848-group.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { GroupInUseError } from '../../../src/kafka/errors.ts';
import {
  type ClassicDescription,
  type ConsumerGroupAnswer,
  type ListedGroup,
  refuseGroupMembers,
} from '../../../src/kafka/group-members.ts';

const GROUP = 'connect-s3-sink';

function queries(classic: ClassicDescription, listed: ListedGroup[] = [], kip848?: ConsumerGroupAnswer) {
  return {
    describeClassic: vi.fn(async () => classic),
    listGroups: vi.fn(async () => listed),
    describeConsumerGroup: vi.fn(async () => kip848 ?? { kind: 'unknown' as const, reason: 'not asked' }),
  };
}

async function outcome(q: ReturnType<typeof queries>): Promise<unknown> {
  return refuseGroupMembers(q, 's3-sink', GROUP).then(
    () => 'empty',
    (err: unknown) => err,
  );
}

describe('refuseGroupMembers', () => {
  it('takes an Empty classic group as empty, with one request', async () => {
    const q = queries({ state: 'Empty', members: 0 });
    expect(await outcome(q)).toBe('empty');
    expect(q.listGroups).not.toHaveBeenCalled();
  });

  it('refuses a classic group with members, naming the group and the count', async () => {
    const err = await outcome(queries({ state: 'Stable', members: 2 }));
    expect(err).toBeInstanceOf(GroupInUseError);
    expect((err as GroupInUseError).code).toBe('CONNECT_FN_KAFKA_GROUP_IN_USE');
    expect((err as GroupInUseError).retriable).toBe(false);
    expect(String(err)).toMatch(/consumer group connect-s3-sink has 2 members \(state Stable\)/);
  });

  it('takes a group that is Dead and not listed as not existing: a new sink', async () => {
    const q = queries({ state: 'Dead', members: 0 }, [{ groupId: 'other', protocolType: 'consumer' }]);
    expect(await outcome(q)).toBe('empty');
    expect(q.describeConsumerGroup).not.toHaveBeenCalled();
  });

  it('asks ConsumerGroupDescribe about a listed KIP-848 group that DescribeGroups calls Dead', async () => {
    const listed = [{ groupId: GROUP, protocolType: 'consumer' }];
    const live = await outcome(queries({ state: 'Dead', members: 0 }, listed, described('Stable', 1)));
    const idle = await outcome(queries({ state: 'Dead', members: 0 }, listed, described('Empty', 0)));
    expect(String(live)).toMatch(/connect-s3-sink has 1 member \(a KIP-848 consumer group, state Stable\)/);
    expect(idle).toBe('empty');
  });

  it('refuses when members cannot be known: no ConsumerGroupDescribe, another protocol type, or an odd state', async () => {
    const dead = { state: 'Dead', members: 0 };
    const cases = [
      queries(dead, [{ groupId: GROUP, protocolType: 'consumer' }], {
        kind: 'unknown',
        reason: 'the broker does not support ConsumerGroupDescribe',
      }),
      queries(dead, [{ groupId: GROUP, protocolType: 'share' }]),
      queries({ state: 'PreparingRebalance', members: 0 }),
    ];
    const errors = await Promise.all(cases.map(outcome));
    for (const err of errors) {
      expect(err).toBeInstanceOf(GroupInUseError);
      expect(String(err)).toMatch(/cannot tell whether consumer group connect-s3-sink has members/);
    }
    expect(String(errors[0])).toMatch(/protocol type 'consumer' .*does not support ConsumerGroupDescribe/);
    expect(String(errors[1])).toMatch(/protocol type 'share' and DescribeGroups says Dead/);
    expect(String(errors[2])).toMatch(/does not list it and DescribeGroups says PreparingRebalance/);
  });
});

function described(state: string, members: number): ConsumerGroupAnswer {
  return { kind: 'described', state, members };
}
