import { PortholeError, type wire } from '@porthole/shared';

import type { Sandbox } from '../sandbox/sandbox.js';

export async function listArtifacts(sandbox: Sandbox): Promise<wire.ListArtifactsResponse> {
  if (!sandbox.artifacts) {
    throw new PortholeError('POLICY_DENIED', `artifacts are not enabled for sandbox ${sandbox.id}`);
  }
  const entries = await sandbox.artifacts.list();
  return { artifacts: entries };
}
