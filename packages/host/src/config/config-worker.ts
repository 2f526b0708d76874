// The worker thread of loadConfigInWorker: runs loadConfig and posts the
// outcome to the parent.
import { parentPort, workerData } from 'node:worker_threads';

import type { WorkerOutcome } from './load-config-in-worker.js';
import { ConfigError, loadConfig } from './load-config.js';

const post = (outcome: WorkerOutcome): void => parentPort?.postMessage(outcome);

loadConfig(workerData as string).then(
  (config) => post({ config }),
  (error: unknown) => post(error instanceof ConfigError
    ? { issues: error.issues }
    : { failure: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
);
