// `npm install` must succeed even when the addon cannot be built; use then reports why.
// Runs the install script on a scratch copy so the real build stays untouched.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('install script', () => {
  it('exits 0 and leaves a reason when node-gyp is unusable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'phvsock-'));
    try {
      for (const f of ['lib', 'scripts', 'src', 'binding.gyp', 'package.json']) cpSync(join(root, f), join(dir, f), { recursive: true });
      const r = spawnSync(process.execPath, ['scripts/install.mjs'], {
        cwd: dir, encoding: 'utf8', timeout: 30_000,
        env: { ...process.env, npm_config_node_gyp: '/nonexistent/node-gyp.js' },
      });
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/native addon not built/);
      expect(existsSync(join(dir, 'build', 'unavailable.txt'))).toBe(true);
      const code = `const m = await import(${JSON.stringify(join(dir, 'lib', 'index.js'))});
        try { m.connect(2, 1); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
      const u = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 10_000 });
      const out = JSON.parse(u.stdout);
      expect(out.code).toBe('VSOCK_UNAVAILABLE');
      expect(out.message).toMatch(/node-gyp not found/);
      expect(readFileSync(join(dir, 'build', 'unavailable.txt'), 'utf8')).toMatch(/node-gyp not found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
