/**
 * Child process of file-store.test.ts: commits ever larger positions (with a few hundred other partitions,
 * so each write takes a while) to the offsets file named by argv[2], printing each position once its
 * commit resolved, until it is killed.
 */
import { FileOffsetStore } from '../../../src/offsets/file-store.ts';

const filename = process.argv[2];
if (filename === undefined) throw new Error('usage: file-store-crash-writer.ts <offsets file>');
const session = await new FileOffsetStore({ filename }).open('c', 0);
const padding = Array.from({ length: 300 }, (_, i) => ({
  partition: { filename: `/pad/${i}` },
  offset: { position: i },
}));
for (let position = 1; ; position++) {
  await session.commit([...padding, { partition: { filename: '/data/in.txt' }, offset: { position } }]);
  process.stdout.write(`${position}\n`);
}
