import type { Check } from '../check.js';
import { artifactChecks } from './artifacts.js';
import { fetchChecks } from './fetch.js';
import { handshakeChecks } from './handshake.js';
import { lifecycleChecks } from './lifecycle.js';
import { isolationChecks, limitChecks } from './limits.js';
import { outputChecks } from './outputs.js';

/**
 * Every check, in the order they run. Order matters twice: the outputs
 * quota checks fill the quota, so they come last among writes; the request
 * rate check drains the other sandbox's bucket, so it follows isolation.
 */
export const ALL_CHECKS: readonly Check[] = [
  ...handshakeChecks,
  ...artifactChecks,
  ...fetchChecks,
  ...outputChecks,
  ...lifecycleChecks,
  ...isolationChecks,
  ...limitChecks,
];
