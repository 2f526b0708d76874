import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';

import { hybridVsockPath, type ConfigIssue, type HostConfig } from '@porthole/shared';

import { CredentialError, resolveCredentials } from '../fetch/credentials.js';
import { checkOwnFolder } from '../outputs/output-store.js';

/**
 * What `serve` would refuse in a config the schema accepts: secrets it
 * cannot read, outputs folders that are not the host's alone, and folders
 * (for outputs or sockets) that a file stands in the way of. Reads only; a
 * folder serve would create is fine if it does not exist yet.
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
    if (dir !== undefined) {
      const problem = await folderProblem(dir);
      if (problem) issues.push({ path: `${where}.outputs.dir`, message: problem });
      // A folder that does not exist yet is made by serve, as the host's own.
      else await checkOwnFolder(dir).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') issues.push({ path: `${where}.outputs.dir`, message: error.message });
      });
    }
    if (sandbox.listen) {
      const socket = hybridVsockPath(sandbox.listen.udsPath, sandbox.listen.port);
      const problem = await folderProblem(dirname(socket));
      if (problem) issues.push({ path: `${where}.listen.udsPath`, message: `the socket ${socket} cannot be made: ${problem}` });
    }
  }
  return issues;
}

/**
 * Why serve could not make or use the folder `dir`, or undefined: the
 * nearest part of it that exists must be a folder.
 */
async function folderProblem(dir: string): Promise<string | undefined> {
  for (let path = dir; ; path = dirname(path)) {
    const info = await stat(path).catch(() => undefined);
    if (info) return info.isDirectory() ? undefined : `${path} is not a folder`;
    if (dirname(path) === path) return undefined;
  }
}
