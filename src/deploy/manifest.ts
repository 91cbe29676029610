/**
 * The deployment manifest: what `connect-fn package` writes beside each connector's zip
 * (`<out>/<connector>/manifest.json`) and what both infrastructure-as-code paths (the CDK construct in
 * `infra/`, the Serverless derivation) read. One manifest per connector; nothing in it is secret (`${...}`
 * provider references stay unresolved in the artifact, and the environment variables they need are listed).
 *
 * This module holds the contract only (types and the version); the derivation from a validated bundle lives
 * beside it. IaC code maps the abstract permissions below to ARNs of the account, region and cluster it
 * deploys into.
 * @module
 */

/** Bumped on any incompatible change; readers refuse other versions. */
export const MANIFEST_VERSION = 1 as const;

export type ConnectorKind = 'source' | 'sink';
export type ConnectorTrigger = 'schedule' | 'kafka';
export type OffsetStorage = 'kafka' | 'dynamodb' | 'file';

/** An IAM permission in terms of the bundle's own names; IaC turns each into one statement with ARNs. */
export type Permission =
  /** DynamoDB actions on tables named by the bundle (offsets table, sink targets, the exactly-once offsets table). */
  | {
      readonly service: 'dynamodb';
      readonly actions: readonly string[];
      readonly tables: readonly string[];
      /** Why the function needs it, for reviewers (e.g. "offsets table", "sink target"). */
      readonly reason: string;
    }
  /** DynamoDB Streams actions on the streams of the named tables (`table/<name>/stream/*`). */
  | {
      readonly service: 'dynamodb-streams';
      readonly actions: readonly string[];
      readonly tables: readonly string[];
      readonly reason: string;
    }
  /**
   * MSK IAM (`kafka-cluster:*`) actions, present only when the bundle authenticates with IAM
   * (`sasl.mechanism=AWS_MSK_IAM` or `OAUTHBEARER`). `names` are topic names, group ids or transactional
   * ids, or prefixes ending in `*` where the runtime derives them (e.g. `connect-fn-orders-*` for the
   * transactional ids of every task); empty for `cluster`.
   */
  | {
      readonly service: 'kafka-cluster';
      readonly actions: readonly string[];
      readonly resource: 'cluster' | 'topic' | 'group' | 'transactional-id';
      readonly names: readonly string[];
      readonly reason: string;
    };

/** The Lambda event source mapping of a triggered sink (`trigger=kafka`). */
export interface EventSourceManifest {
  readonly topics: readonly string[];
  /** `connect-<name>`: the group Kafka Connect uses for the sink, so its position moves with it. */
  readonly consumerGroupId: string;
  readonly batchSize: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
}

export interface ConnectorManifest {
  readonly manifestVersion: typeof MANIFEST_VERSION;
  /** The connector's `name`: also names its function, its group `connect-<name>` and its transactional ids. */
  readonly connector: string;
  /** The registry's canonical plugin name (`file-source`, `dynamodb-sink`, ...). */
  readonly plugin: string;
  /** `connector.class` as the bundle wrote it. */
  readonly connectorClass: string;
  readonly kind: ConnectorKind;
  /** Sources are always `schedule`. */
  readonly trigger: ConnectorTrigger;
  /** The EventBridge expression (`rate(1 minute)`, `cron(...)`) when `trigger=schedule`; null otherwise. */
  readonly schedule: string | null;
  /** `tasks.max`: scheduled connectors get one schedule per task, with input `{"task": N}`. */
  readonly tasks: number;
  /** Topics the connector writes (sources, where its config names them) or reads (sinks). */
  readonly topics: readonly string[];
  readonly topicsRegex: string | null;
  readonly function: {
    /** Relative to the unpacked zip, e.g. `index.handler`. */
    readonly handler: string;
    readonly runtime: 'nodejs22.x';
    readonly architecture: 'arm64';
    readonly memoryMb: number;
    readonly timeoutSeconds: number;
    /** Set on the function as they are (`CONNECT_FN_CONNECTOR`, `NODE_OPTIONS`). */
    readonly environment: Readonly<Record<string, string>>;
    /** Variables the bundle's `${env:...}` references read at cold start: the deployment must set them. */
    readonly requiredEnvironment: readonly string[];
  };
  /** The zip beside this manifest. */
  readonly artifact: { readonly file: string; readonly sha256: string; readonly bytes: number };
  readonly kafka: {
    readonly securityProtocol: string;
    readonly saslMechanism: string | null;
    /** MSK IAM: the function role signs (sasl.mechanism AWS_MSK_IAM or OAUTHBEARER). */
    readonly iam: boolean;
    /** TLS with a client certificate (`ssl.keystore.*` set, protocol SSL or SASL_SSL); absent: false. */
    readonly clientCertificate?: boolean;
    /** TLS trusting the CAs of `ssl.truststore.*` (a private CA), not the system's; absent: false. */
    readonly privateCa?: boolean;
  };
  readonly offsets: {
    readonly storage: OffsetStorage;
    /** `offset.storage.topic` (storage=kafka, sources). */
    readonly topic: string | null;
    /** `offset.storage.table` (storage=dynamodb). */
    readonly table: string | null;
  };
  /** Present exactly when `trigger=kafka`. */
  readonly eventSource: EventSourceManifest | null;
  readonly permissions: readonly Permission[];
}
