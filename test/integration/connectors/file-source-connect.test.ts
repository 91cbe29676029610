/**
 * The file source's offsets against Kafka Connect's own FileStreamSourceTask (connect-file 3.9.2, run by
 * test/java/FileStreamSourceOracle.java): an offset connect-fn wrote, with the file's identity after
 * `position`, is read by Connect's worker and task, and Connect resumes at `position`; and the reverse.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSourceConnector } from '../../../src/connectors/file/source-connector.ts';
import { encodeValue } from '../../../src/offsets/connect-format.ts';
import type { SourceOffset } from '../../../src/spi/records.ts';
import { requireJava, toolEnvironment } from '../../../src/stack/preconditions.ts';
import { resolveOracleClasspath } from '../../support/oracle-classpath.ts';
import { invoke, MemoryOffsets } from '../../unit/connectors/task-harness.ts';

const ORACLE = fileURLToPath(new URL('../../java/FileStreamSourceOracle.java', import.meta.url));
const ORACLE_POM = fileURLToPath(new URL('../../java/file-source-oracle/pom.xml', import.meta.url));
const run = promisify(execFile);

interface ConnectAnswer {
  /** The offset as Connect's offset reader decoded it: each field's Java class and value. */
  readonly offset: Record<string, { type: string; value: unknown }>;
  readonly records: { value: string; sourcePartition: unknown; sourceOffset: unknown }[];
}

let java: string;
let classpath: string;
let dir: string;
beforeAll(async () => {
  java = (await requireJava(toolEnvironment(process.env), ['Kafka'])).javaPath;
  classpath = await resolveOracleClasspath(ORACLE_POM);
  dir = mkdtempSync(join(tmpdir(), 'connect-fn-file-connect-'));
}, 600_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What Connect's FileStreamSourceTask polls from `file`, given the committed `offset` (as stored). */
async function connectPolls(file: string, offset: SourceOffset): Promise<ConnectAnswer> {
  const bytes = Buffer.from(encodeValue(offset) ?? 'null', 'utf8').toString('base64');
  const { stdout } = await run(java, ['-cp', classpath, ORACLE, file, bytes]);
  const answer = JSON.parse(stdout) as ConnectAnswer | { error: string };
  if ('error' in answer) throw new Error(`Connect's FileStreamSourceTask failed: ${answer.error}`);
  return answer;
}

describe("file source offsets and Kafka Connect's FileStreamSourceTask", () => {
  it('Connect resumes at position from an offset connect-fn wrote, ignoring the identity fields; connect-fn resumes from Connect', async () => {
    const file = join(dir, 'in.txt');
    writeFileSync(file, 'a1\nb1\nc1\n');
    const offsets = new MemoryOffsets();
    await invoke(fileSourceConnector(), { file, topic: 'lines', 'batch.size': 2000 }, offsets, {
      maxRecords: 100,
    });
    const ours = offsets.get({ filename: file });
    expect(Object.keys(ours ?? {})).toEqual(['position', 'inode', 'head_bytes', 'head_sha256']);

    appendFileSync(file, 'd1\ne1\n');
    const connect = await connectPolls(file, ours ?? {});
    // The worker's offset reader accepts it (OffsetUtils.validateFormat: primitive values only) ...
    expect(connect.offset).toEqual({
      position: { type: 'java.lang.Long', value: 9 },
      inode: { type: 'java.lang.String', value: ours?.inode },
      head_bytes: { type: 'java.lang.Long', value: 9 },
      head_sha256: { type: 'java.lang.String', value: ours?.head_sha256 },
    });
    // ... and the task seeks to position 9: the next lines, each once, with Connect's own offsets.
    expect(connect.records).toEqual([
      { value: 'd1', sourcePartition: { filename: file }, sourceOffset: { position: 12 } },
      { value: 'e1', sourcePartition: { filename: file }, sourceOffset: { position: 15 } },
    ]);

    // Back to connect-fn: Connect's {"position": 15} is honoured, and the next offset has the identity.
    offsets.set({ filename: file }, { position: 15 });
    appendFileSync(file, 'f1\n');
    const resumed = await invoke(
      fileSourceConnector(),
      { file, topic: 'lines', 'batch.size': 2000 },
      offsets,
      {
        maxRecords: 100,
      },
    );
    expect(resumed.map((r) => r.value)).toEqual(['f1']);
    expect(offsets.get({ filename: file })).toMatchObject({
      position: 18,
      inode: ours?.inode,
      head_bytes: 18,
    });
  }, 120_000);
});
