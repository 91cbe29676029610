// Preloaded into each `connect-fn run` child of the fault tests (`node --import <this> bin/connect-fn.mjs`):
// watches the process's own Kafka and DynamoDB traffic and its file writes and syncs, without changing
// them, so a test can tell in which phase of the cycle a `kill -9` landed. Product code is not touched;
// this only wraps `net.Socket`, `http.ClientRequest` and `fs/promises` FileHandle methods and passes every
// call through.
//
// FAULT_PROBE_FILE=<path>: one line per event, written synchronously (so it is on disk before a kill):
//   `<epoch ms> start` | `connect` | `kreq <Api>` | `kres <Api>` | `hreq <Operation>` | `hres <Operation>` | `exit`
// where kreq/kres are Kafka requests written / responses received (by API name) and hreq/hres are DynamoDB
// requests written / responses received (by X-Amz-Target operation). A transactional Kafka request's line
// ends in JSON: what the broker checks — `{"txn","pid","epoch"}` (InitProducerId: `{"txn"}`, null for an
// idempotent producer) — and its answer's line in the same plus the broker's error code `"err"` (0 =
// accepted; InitProducerId's answer: the `pid`/`epoch` granted). So a test can tell from the broker's own
// answers which epoch was fenced, instead of from time stamps of two processes on a loaded machine.
//
// Local file I/O through `fs/promises` file handles (what the file sink does) is watched too:
//   `fwrite <file>` (a FileHandle write issued) | `fwritten <file>` (it completed) | `fsync <file>` (a
//   datasync/sync issued) | `fsynced <file>` (it completed), where <file> is the file's base name.
// The file sink appends each put with one write and runs one fdatasync per flush, so the n-th `fwrite` of
// its file is the n-th put and the n-th `fsync` the n-th flush.
//
// FAULT_KILL_AT=<before|after>:<kind>:<Name>:<n> makes the process SIGKILL itself right before or right
// after its n-th such event: a kill at an exact point of the cycle (e.g. `before:kreq:Produce:3` = after
// the 3rd poll, before its records are sent). Requests (kreq/hreq) can be `before` or `after` the write
// (of the whole request: a DynamoDB request's body goes out after its head); responses (kres/hres) fire
// when they arrive, before the client sees them. File calls (fwrite/fsync) can be `before` the call or
// `after` it was issued (handed to the thread pool: the system call may be running, e.g. inside the
// fdatasync); their completions (fwritten/fsynced) fire before the caller sees them. FAULT_STOP_AT (same
// syntax) SIGSTOPs the process there instead: a zombie, frozen at a known point until the test sends SIGCONT.
//
// FAULT_TXN_FILE=<path> (optional) records the child's DynamoDB transactions, appended synchronously as JSON
// lines (so they are on disk before a kill): for every TransactWriteItems request the SDK hands to Node's
// http, `{"id","ev":"sent","puts":[<item>...],"deletes":[<key>...],"updates":[{"table","sk","expected",
// "next"}]}` (items and keys flattened to their S/N values; `expected`/`next` are the conditional update's
// `:expected`/`:next`, null when absent), written before its bytes go out; and when its answer arrives,
// before the client sees it (and before an `after:hres` kill fires), `{"id","ev":"answered","status"}`. A
// request with status 200 was committed; one with no answer (the child died first) may or may not have been.
import { openSync, readlinkSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { devNull } from 'node:os';
import { basename } from 'node:path';

const file = process.env.FAULT_PROBE_FILE;
const txnFile = process.env.FAULT_TXN_FILE;
const triggers = [
  parseTrigger('kill', process.env.FAULT_KILL_AT),
  parseTrigger('stop', process.env.FAULT_STOP_AT),
].filter((t) => t !== undefined);

const KAFKA_APIS = {
  0: 'Produce',
  1: 'Fetch',
  2: 'ListOffsets',
  3: 'Metadata',
  8: 'OffsetCommit',
  9: 'OffsetFetch',
  10: 'FindCoordinator',
  15: 'DescribeGroups',
  17: 'SaslHandshake',
  18: 'ApiVersions',
  19: 'CreateTopics',
  22: 'InitProducerId',
  24: 'AddPartitionsToTxn',
  25: 'AddOffsetsToTxn',
  26: 'EndTxn',
  28: 'TxnOffsetCommit',
  32: 'DescribeConfigs',
  36: 'SaslAuthenticate',
  60: 'DescribeCluster',
};

/** Reads a Kafka frame's fields in order (non-flexible versions: what kafkajs sends). */
class Fields {
  constructor(buffer, at) {
    this.b = buffer;
    this.at = at;
  }
  int16() {
    const v = this.b.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  int32() {
    const v = this.b.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  int64() {
    const v = this.b.readBigInt64BE(this.at);
    this.at += 8;
    return v.toString();
  }
  string() {
    const length = this.int16();
    if (length < 0) return null;
    const v = this.b.toString('utf8', this.at, this.at + length);
    this.at += length;
    return v;
  }
  bytes() {
    const length = this.int32();
    const v = length < 0 ? undefined : this.b.subarray(this.at, this.at + length);
    this.at += Math.max(0, length);
    return v;
  }
  /** The first non-zero error code of `[topic [partition error ...rest]]` (0 when none). */
  partitionErrors(restBytes) {
    let error = 0;
    for (let t = this.int32(); t > 0; t--) {
      this.string();
      for (let p = this.int32(); p > 0; p--) {
        this.int32();
        const e = this.int16();
        if (error === 0) error = e;
        this.at += restBytes;
      }
    }
    return error;
  }
}

/**
 * The producer id and epoch a transactional request carries — what the broker checks against the
 * transactional id's current epoch (InitProducerId bumps it). Undefined for other requests, or when the
 * frame cannot be read.
 */
function requestDetail(api, frame) {
  try {
    const f = new Fields(frame, 12);
    f.string(); // client id
    switch (api) {
      case 'InitProducerId':
        return { txn: f.string() };
      case 'EndTxn': {
        const txn = f.string();
        return { txn, pid: f.int64(), epoch: f.int16(), commit: f.b.readInt8(f.at) === 1 };
      }
      case 'AddOffsetsToTxn':
      case 'AddPartitionsToTxn': {
        const txn = f.string();
        return { txn, pid: f.int64(), epoch: f.int16() };
      }
      case 'TxnOffsetCommit': {
        const txn = f.string();
        f.string(); // group
        return { txn, pid: f.int64(), epoch: f.int16() };
      }
      case 'Produce': {
        const txn = f.string();
        if (txn === null) return undefined;
        f.int16(); // acks
        f.int32(); // timeout
        f.int32(); // topics
        f.string();
        f.int32(); // partitions
        f.int32();
        const batch = f.bytes();
        // RecordBatch v2: producerId at byte 43, producerEpoch at 51.
        if (batch === undefined || batch.length < 53) return { txn };
        return { txn, pid: batch.readBigInt64BE(43).toString(), epoch: batch.readInt16BE(51) };
      }
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/**
 * The broker's answer to a transactional request: its (first) error code, with the transactional id and
 * epoch the request carried; for InitProducerId, the producer id and epoch granted instead.
 */
function responseDetail(sent, body) {
  const answer = answerOf(sent, body);
  if (answer === undefined || sent.detail === undefined) return answer;
  return sent.api === 'InitProducerId' ? { txn: sent.detail.txn, ...answer } : { ...sent.detail, ...answer };
}

function answerOf({ api, version }, body) {
  try {
    const f = new Fields(body, 0);
    switch (api) {
      case 'InitProducerId': {
        f.int32(); // throttle
        return { err: f.int16(), pid: f.int64(), epoch: f.int16() };
      }
      case 'EndTxn':
      case 'AddOffsetsToTxn':
        f.int32();
        return { err: f.int16() };
      case 'AddPartitionsToTxn':
      case 'TxnOffsetCommit':
        f.int32();
        return { err: f.partitionErrors(0) };
      case 'Produce':
        // partition error base_offset [log_append_time (v2+)] [log_start_offset (v5+)]
        return { err: f.partitionErrors(8 + (version >= 2 ? 8 : 0) + (version >= 5 ? 8 : 0)) };
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

function parseTrigger(action, spec) {
  if (!spec) return undefined;
  const [when, kind, name, n] = spec.split(':');
  return { action, when, kind, name, n: Number(n), seen: 0 };
}

if (file !== undefined || txnFile !== undefined || triggers.length > 0) {
  const fd = file === undefined ? undefined : openSync(file, 'a');
  const emit = (event) => {
    if (fd !== undefined) writeSync(fd, `${Date.now()} ${event}\n`);
  };
  emit('start');
  process.on('exit', () => emit('exit'));

  /** Counts an event; returns the triggers whose point it is. */
  const due = (kind, name) => {
    const hits = [];
    for (const t of triggers) {
      if (t.kind !== kind || t.name !== name) continue;
      t.seen += 1;
      if (t.seen === t.n) hits.push(t);
    }
    return hits;
  };
  /** Fires the triggers of `hits` that are due `when` (a stop returns once the process is continued). */
  const fire = (hits, when, what) => {
    for (const t of hits) {
      if (t.when !== when) continue;
      emit(`${t.action} ${when} ${what}`);
      process.kill(process.pid, t.action === 'kill' ? 'SIGKILL' : 'SIGSTOP');
      if (t.action === 'stop') emit(`continued ${what}`);
    }
  };

  const pending = new WeakMap(); // socket -> Map<correlationId, api>
  const inbound = new WeakMap(); // socket -> Buffer (partial Kafka responses)

  const asBuffer = (chunk, encoding) => {
    if (Buffer.isBuffer(chunk)) return chunk;
    if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (typeof chunk === 'string')
      return Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8');
    return undefined;
  };

  /** What a write is: a Kafka request frame or a DynamoDB HTTP request head. */
  const classify = (socket, buffer) => {
    if (buffer.length >= 12 && buffer.readInt32BE(0) === buffer.length - 4) {
      const apiKey = buffer.readInt16BE(4);
      const correlationId = buffer.readInt32BE(8);
      const api = KAFKA_APIS[apiKey] ?? `api${apiKey}`;
      let map = pending.get(socket);
      if (map === undefined) {
        map = new Map();
        pending.set(socket, map);
      }
      const detail = requestDetail(api, buffer);
      map.set(correlationId, { api, version: buffer.readInt16BE(6), detail });
      return { kind: 'kreq', name: api, detail };
    }
    if (buffer.length >= 5 && buffer.toString('latin1', 0, 5) === 'POST ') {
      const head = buffer.toString('latin1', 0, Math.min(buffer.length, 4096));
      const match = /x-amz-target:\s*DynamoDB_\d+\.(\w+)/i.exec(head);
      if (!match) return undefined;
      // Node writes the head and the body separately: the request is complete once the body is out.
      const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      const headEnd = head.indexOf('\r\n\r\n');
      const bodyLeft = length - (headEnd < 0 ? 0 : buffer.length - (headEnd + 4));
      return { kind: 'hreq', name: match[1], bodyLeft };
    }
    return undefined;
  };

  const httpBodies = new WeakMap(); // socket -> { what, left, hits }: a DynamoDB request's body still to go
  const write = net.Socket.prototype.write;
  net.Socket.prototype.write = function probedWrite(chunk, encoding, callback) {
    const buffer = asBuffer(chunk, encoding);
    const request = buffer === undefined ? undefined : classify(this, buffer);
    if (request === undefined) {
      const body = httpBodies.get(this);
      const result = write.call(this, chunk, encoding, callback);
      if (body !== undefined && buffer !== undefined) {
        body.left -= buffer.length;
        if (body.left <= 0) {
          httpBodies.delete(this);
          // Node's http corks the socket until the next tick: fire once the bytes have really gone out.
          setImmediate(() => fire(body.hits, 'after', body.what));
        }
      }
      return result;
    }
    const what = `${request.kind} ${request.name}`;
    const hits = due(request.kind, request.name);
    fire(hits, 'before', what);
    emit(request.detail === undefined ? what : `${what} ${JSON.stringify(request.detail)}`);
    const result = write.call(this, chunk, encoding, callback);
    if (request.kind === 'kreq') fire(hits, 'after', what);
    else if (request.bodyLeft > 0) httpBodies.set(this, { what, left: request.bodyLeft, hits });
    else setImmediate(() => fire(hits, 'after', what));
    return result;
  };

  const socketEmit = net.Socket.prototype.emit;
  net.Socket.prototype.emit = function probedEmit(event, ...args) {
    if (event === 'connect') emit('connect');
    if (event === 'data' && pending.has(this)) onKafkaData(this, args[0]);
    return socketEmit.call(this, event, ...args);
  };

  const onKafkaData = (socket, chunk) => {
    const data = asBuffer(chunk);
    if (data === undefined) return;
    let buffer = inbound.has(socket) ? Buffer.concat([inbound.get(socket), data]) : data;
    const map = pending.get(socket);
    while (buffer.length >= 8) {
      const size = buffer.readInt32BE(0);
      if (buffer.length < size + 4) break;
      const correlationId = buffer.readInt32BE(4);
      const sent = map.get(correlationId);
      if (sent !== undefined) {
        const { api } = sent;
        map.delete(correlationId);
        const detail = responseDetail(sent, buffer.subarray(8, size + 4));
        emit(detail === undefined ? `kres ${api}` : `kres ${api} ${JSON.stringify(detail)}`);
        fire(due('kres', api), 'after', `kres ${api}`);
      }
      buffer = buffer.subarray(size + 4);
    }
    if (buffer.length > 0) inbound.set(socket, Buffer.from(buffer));
    else inbound.delete(socket);
  };

  // FAULT_TXN_FILE: the TransactWriteItems requests' bodies, and their answers (see the header).
  const txnFd = txnFile === undefined ? undefined : openSync(txnFile, 'a');
  const txnIds = new WeakMap(); // ClientRequest -> its id in the txn file
  const txnBodies = new WeakMap(); // ClientRequest -> body chunks so far
  let txnCount = 0;
  const isTransact = (request) =>
    /DynamoDB_\d+\.TransactWriteItems$/.test(String(request.getHeader('x-amz-target') ?? ''));
  const flat = (item) =>
    Object.fromEntries(
      Object.entries(item ?? {}).map(([k, v]) => [k, v.N !== undefined ? Number(v.N) : (v.S ?? null)]),
    );
  const txnLine = (record) => writeSync(txnFd, `${JSON.stringify(record)}\n`);
  const recordSent = (request) => {
    const chunks = txnBodies.get(request) ?? [];
    txnBodies.delete(request);
    const id = `${process.pid}-${++txnCount}`;
    txnIds.set(request, id);
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      txnLine({ id, ev: 'sent', unparsed: true });
      return;
    }
    const puts = [];
    const deletes = [];
    const updates = [];
    for (const action of body.TransactItems ?? []) {
      if (action.Put) puts.push({ table: action.Put.TableName, ...flat(action.Put.Item) });
      if (action.Delete) deletes.push({ table: action.Delete.TableName, ...flat(action.Delete.Key) });
      if (action.Update) {
        const values = action.Update.ExpressionAttributeValues ?? {};
        updates.push({
          table: action.Update.TableName,
          sk: action.Update.Key?.sk?.S ?? null,
          expected: values[':expected']?.N === undefined ? null : Number(values[':expected'].N),
          next: values[':next']?.N === undefined ? null : Number(values[':next'].N),
        });
      }
    }
    txnLine({ id, ev: 'sent', puts, deletes, updates });
  };
  if (txnFd !== undefined) {
    const requestWrite = http.ClientRequest.prototype.write;
    http.ClientRequest.prototype.write = function txnWrite(chunk, encoding, callback) {
      if (isTransact(this)) {
        const buffer = asBuffer(chunk, encoding);
        if (buffer !== undefined) txnBodies.set(this, [...(txnBodies.get(this) ?? []), Buffer.from(buffer)]);
      }
      return requestWrite.call(this, chunk, encoding, callback);
    };
    const requestEnd = http.ClientRequest.prototype.end;
    http.ClientRequest.prototype.end = function txnEnd(chunk, encoding, callback) {
      if (isTransact(this) && !txnIds.has(this)) {
        const buffer = typeof chunk === 'function' ? undefined : asBuffer(chunk, encoding);
        if (buffer !== undefined) txnBodies.set(this, [...(txnBodies.get(this) ?? []), Buffer.from(buffer)]);
        recordSent(this);
      }
      return requestEnd.call(this, chunk, encoding, callback);
    };
  }

  const requestEmit = http.ClientRequest.prototype.emit;
  http.ClientRequest.prototype.emit = function probedRequestEmit(event, ...args) {
    if (event === 'response') {
      const target = String(this.getHeader('x-amz-target') ?? '');
      const match = /DynamoDB_\d+\.(\w+)/.exec(target);
      if (match) {
        const id = txnIds.get(this);
        if (txnFd !== undefined && id !== undefined) {
          txnLine({ id, ev: 'answered', status: args[0]?.statusCode ?? null });
        }
        emit(`hres ${match[1]}`);
        fire(due('hres', match[1]), 'after', `hres ${match[1]}`);
      }
    }
    return requestEmit.call(this, event, ...args);
  };

  // File handles: FileHandle is not exported, so its prototype is taken from a handle of our own.
  const probeHandle = await open(devNull, 'r');
  const fileHandleProto = Object.getPrototypeOf(probeHandle);
  await probeHandle.close();
  const names = new WeakMap(); // handle -> the file's base name
  const nameOf = (handle) => {
    let name = names.get(handle);
    if (name === undefined) {
      try {
        name = basename(readlinkSync(`/proc/self/fd/${handle.fd}`));
      } catch {
        name = `fd${handle.fd}`;
      }
      names.set(handle, name);
    }
    return name;
  };
  /** Wraps a FileHandle method: `<issued> <file>` around the call, `<completed> <file>` when it resolves. */
  const probeFileCall = (method, issued, completed) => {
    const original = fileHandleProto[method];
    fileHandleProto[method] = function probedFileCall(...args) {
      const name = nameOf(this);
      const hits = due(issued, name);
      fire(hits, 'before', `${issued} ${name}`);
      emit(`${issued} ${name}`);
      const result = original.apply(this, args);
      fire(hits, 'after', `${issued} ${name}`);
      return result.then((value) => {
        emit(`${completed} ${name}`);
        fire(due(completed, name), 'after', `${completed} ${name}`);
        return value;
      });
    };
  };
  probeFileCall('write', 'fwrite', 'fwritten');
  probeFileCall('datasync', 'fsync', 'fsynced');
  probeFileCall('sync', 'fsync', 'fsynced');
}
