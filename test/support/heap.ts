import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A full collection without starting node with --expose-gc: the flag
// exposes gc() to contexts made after it is set.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** Bytes of live JavaScript heap, after a full collection. */
export async function liveHeapBytes(): Promise<number> {
  // Twice, with a turn between: weak callbacks and finalizers free more.
  collect();
  await new Promise((resolve) => setImmediate(resolve));
  collect();
  return process.memoryUsage().heapUsed;
}
