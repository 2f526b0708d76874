import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ROOT } from '../support/node-child.js';

// The README's first command must keep working: run the demo as it runs.
describe('npm run demo', () => {
  it('runs every step and every refusal, and exits 0', () => {
    const result = spawnSync(process.execPath, [join(ROOT, 'examples/demo/run.mjs')], { encoding: 'utf8', timeout: 120_000 });
    expect(result.stderr).not.toContain('demo failed');
    expect(result.stdout).toContain('agent: wrote report.json');
    expect(result.stdout).toContain('refused as expected: fetch the cloud metadata address -> POLICY_DENIED');
    expect(result.stdout).toContain('refused as expected: write an output named ../escape -> INVALID_ARGUMENT');
    expect(result.stdout).toContain('shell-agent: refused as expected (exit 10)');
    expect(result.stdout).toContain('== demo passed');
    expect(result.status).toBe(0);
  });
});
