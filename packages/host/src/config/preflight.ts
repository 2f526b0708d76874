import { stat } from 'node:fs/promises';

import type { ConfigIssue, HostConfig } from '@porthole/shared';

import { CredentialError, resolveCredentials } from '../fetch/credentials.js';
import { checkOwnFolder } from '../outputs/output-store.js';

/**
 * What `serve` would refuse in a config the schema accepts: secrets it
 * cannot read, and outputs folders that are not the host's alone. Reads
 * only; a folder serve would create is fine if it does not exist yet.
 */
export async function preflight(config: HostConfig): Promise<ConfigIssue[]> {
  const issues: ConfigIssue[] = [];
  for (const [index, sandbox] of config.sandboxes.entries()) {
    const where = `sandboxes[${index}]`;
    for (const [ruleIndex, rule] of (sandbox.fetch?.allow ?? []).entries()) {
      await resolveCredentials(rule.inject, `${where}.fetch.allow[${ruleIndex}]`).catch((error: unknown) => {
        if (!(error instanceof CredentialError)) throw error;
        issues.push({ path: error.field, message: error.problem });
      });
    }
    const dir = sandbox.outputs?.dir;
    if (dir !== undefined && (await stat(dir).catch(() => undefined))) {
      await checkOwnFolder(dir).catch((error: Error) => issues.push({ path: `${where}.outputs.dir`, message: error.message }));
    }
  }
  return issues;
}
