import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

import type { ConfigIssue, HostConfig } from '@porthole/shared/host-config';

import { ConfigError } from './load-config.js';

/** What the worker (config-worker.ts) posts back. */
export type WorkerOutcome = { config: HostConfig } | { issues: ConfigIssue[] } | { failure: string };

/**
 * loadConfig in a worker thread. Parsing and validating a large config
 * allocates many times its size (a 1000-sandbox file: about 60 MiB); in
 * the host's heap that space would stay committed long after, while a
 * worker's heap is handed back when it exits. Only the validated config is
 * copied back.
 */
export async function loadConfigInWorker(file: string): Promise<HostConfig> {
  const worker = new Worker(new URL('./config-worker.js', import.meta.url), { workerData: file });
  const exited = once(worker, 'exit');
  const outcome = await new Promise<WorkerOutcome>((resolve, reject) => {
    worker.once('message', resolve);
    // An error thrown in the worker outside loadConfig.
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the config reader stopped with code ${code} before it answered`)));
  });
  // The caller builds sandboxes next: the worker's heap goes first.
  await exited.catch(() => undefined);
  if ('config' in outcome) return outcome.config;
  if ('issues' in outcome) throw new ConfigError(file, outcome.issues);
  throw new Error(`reading ${file} failed: ${outcome.failure}`);
}
