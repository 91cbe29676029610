/**
 * Whether anyone is a member of a sink's consumer group `connect-<name>` — the guard that keeps connect-fn
 * from committing over a Kafka Connect that still runs the connector (./group-offsets.ts says why).
 *
 * DescribeGroups (what kafkajs' `describeGroups` sends) only sees groups of the classic protocol. A group
 * of KIP-848's protocol (`group.protocol=consumer`, the default of no client yet but a setting of Kafka
 * Connect 4.x's consumers) is described by Kafka 4.x as `Dead` with no members and no error, while
 * ListGroups lists it with protocol type `consumer`. So the rule is: **a group is taken as empty only when
 * it is proven empty**, otherwise the session refuses to open:
 *
 * 1. DescribeGroups shows members → refuse (naming how many).
 * 2. DescribeGroups says `Empty` → empty (a classic group with committed offsets and nobody in it).
 * 3. Otherwise (`Dead`, or any other state): ListGroups. Not listed, and `Dead` → the group does not
 *    exist: empty (a new sink).
 * 4. Listed with protocol type `consumer` → ConsumerGroupDescribe (API 69, sent through kafkajs'
 *    connection, ./flexible-protocol.ts): members → refuse; none → empty.
 * 5. Anything else — another protocol type (`share`, `streams`, ...), a broker without API 69, an error of
 *    ConsumerGroupDescribe — members unknown → refuse, naming the group, its protocol type and state.
 *
 * Steps 3-5 cost one or two requests more, and only for a group DescribeGroups cannot vouch for: after
 * connect-fn's first commit the group exists as an `Empty` classic group and step 2 answers.
 * @module
 */
import { GroupInUseError } from './errors.ts';
import { CompactWriter, KafkaErrorCode, maxVersionOf, sendFlexible } from './flexible-protocol.ts';
import type { RawCluster } from './raw-cluster.ts';

/** What DescribeGroups said about the group. */
export interface ClassicDescription {
  readonly state: string;
  readonly members: number;
}

/** A group as ListGroups lists it. */
export interface ListedGroup {
  readonly groupId: string;
  readonly protocolType: string;
}

/** What ConsumerGroupDescribe said, or why it could not say. */
export type ConsumerGroupAnswer =
  | { readonly kind: 'described'; readonly state: string; readonly members: number }
  | { readonly kind: 'unknown'; readonly reason: string };

/** The three questions the rule asks; each a request to the cluster. */
export interface GroupQueries {
  describeClassic(groupId: string): Promise<ClassicDescription>;
  listGroups(): Promise<readonly ListedGroup[]>;
  describeConsumerGroup(groupId: string): Promise<ConsumerGroupAnswer>;
}

/** KIP-848's protocol type in ListGroups. */
const CONSUMER_PROTOCOL = 'consumer';
const CONSUMER_GROUP_DESCRIBE = 69;

/**
 * Resolves when `groupId` is proven to have no members; throws `GroupInUseError` (not retriable: someone
 * must stop the other consumer first) otherwise.
 */
export async function refuseGroupMembers(
  queries: GroupQueries,
  connector: string,
  groupId: string,
): Promise<void> {
  const classic = await queries.describeClassic(groupId);
  if (classic.members > 0) throw stillRunning(connector, groupId, classic.members, `state ${classic.state}`);
  if (classic.state === 'Empty') return;
  const listed = (await queries.listGroups()).find((g) => g.groupId === groupId);
  if (listed === undefined && classic.state === 'Dead') return;
  const seen =
    listed === undefined
      ? `the broker does not list it and DescribeGroups says ${classic.state}`
      : `the broker lists it with protocol type '${listed.protocolType}' and DescribeGroups says ${classic.state}`;
  if (listed?.protocolType === CONSUMER_PROTOCOL) {
    const answer = await queries.describeConsumerGroup(groupId);
    if (answer.kind === 'described') {
      if (answer.members === 0) return;
      throw stillRunning(
        connector,
        groupId,
        answer.members,
        `a KIP-848 consumer group, state ${answer.state}`,
      );
    }
    throw membersUnknown(connector, groupId, `${seen}; ${answer.reason}`);
  }
  throw membersUnknown(connector, groupId, seen);
}

function stillRunning(connector: string, groupId: string, members: number, what: string): GroupInUseError {
  return new GroupInUseError(
    groupId,
    `connector ${connector} still runs in Kafka Connect: its consumer group ${groupId} has ` +
      `${members} member${members === 1 ? '' : 's'} (${what}). Stop or delete it in Connect first: both ` +
      "would commit the group's offsets over each other. A crashed Connect worker's members leave at their " +
      'session timeout',
  );
}

function membersUnknown(connector: string, groupId: string, seen: string): GroupInUseError {
  return new GroupInUseError(
    groupId,
    `connector ${connector}: cannot tell whether consumer group ${groupId} has members, so nothing is ` +
      `committed to it: ${seen}. A consumer of that group (e.g. a Kafka Connect 4.x sink with ` +
      'group.protocol=consumer) may still run: stop it (or delete the group with kafka-consumer-groups.sh ' +
      '--delete --group, which refuses while it has members) before this connector commits to the group',
  );
}

/**
 * ConsumerGroupDescribe v0 of one group at its coordinator. Only the group's error, state and number of
 * members are read.
 */
export async function describeConsumerGroup(raw: RawCluster, groupId: string): Promise<ConsumerGroupAnswer> {
  const coordinator = await raw.groupCoordinator(groupId);
  if ((await maxVersionOf(coordinator, CONSUMER_GROUP_DESCRIBE)) === undefined) {
    return { kind: 'unknown', reason: 'the broker does not support ConsumerGroupDescribe' };
  }
  const body = new CompactWriter()
    .compactArray([groupId], (w, id) => w.compactString(id))
    .bool(false) // IncludeAuthorizedOperations
    .noTaggedFields()
    .bytes();
  return sendFlexible(coordinator, {
    apiKey: CONSUMER_GROUP_DESCRIBE,
    apiVersion: 0,
    apiName: 'ConsumerGroupDescribe',
    body,
    parse: (reader): ConsumerGroupAnswer => {
      reader.int32(); // ThrottleTimeMs
      if (reader.compactArrayLength() < 1)
        return { kind: 'unknown', reason: 'ConsumerGroupDescribe: no group' };
      const errorCode = reader.int16();
      const errorMessage = reader.compactNullableString();
      reader.compactString(); // GroupId
      const state = reader.compactString();
      if (errorCode !== KafkaErrorCode.NONE) {
        const why = errorMessage === null ? '' : `: ${errorMessage.slice(0, 200)}`;
        return { kind: 'unknown', reason: `ConsumerGroupDescribe answered error ${errorCode}${why}` };
      }
      reader.int32(); // GroupEpoch
      reader.int32(); // AssignmentEpoch
      reader.compactString(); // AssignorName
      return { kind: 'described', state, members: reader.compactArrayLength() };
    },
  });
}
