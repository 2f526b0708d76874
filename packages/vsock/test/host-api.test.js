// Host-side checks only. AF_VSOCK on this host belongs to the infrastructure, so these
// tests never call connect()/listen() with a loaded addon: real vsock runs in the VM tests.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const lib = fileURLToPath(new URL('../lib/index.js', import.meta.url));

describe('@porthole/vsock on the host', () => {
  it('loads and exposes the API without opening a socket', async () => {
    const m = await import('../lib/index.js');
    for (const f of ['connect', 'connectAsync', 'listen', 'createServer', 'isAvailable', 'unavailableReason']) expect(typeof m[f]).toBe('function');
    expect(m.VMADDR_CID_HOST).toBe(2);
    expect(m.VMADDR_CID_LOCAL).toBe(1);
    expect(m.isAvailable()).toBe(true); // the addon was built by `npm install`
    expect(typeof m.VsockSocket.prototype.setNoDelay).toBe('function'); // a net.Socket subclass
  });

  it('validates arguments before touching the kernel', async () => {
    const m = await import('../lib/index.js');
    expect(() => m.connect(-1, 5)).toThrow(RangeError);
    expect(() => m.connect(3, 2 ** 32)).toThrow(RangeError);
  });

  it('reports VSOCK_UNAVAILABLE with a reason when the addon is missing', () => {
    // A child process, so the missing-addon state does not leak into this one.
    const code = `
      const m = await import(${JSON.stringify(lib)});
      const out = { available: m.isAvailable(), reason: m.unavailableReason() };
      for (const f of [() => m.connect(2, 1234), () => m.listen(1234)]) {
        try { f(); out.threw = false; } catch (e) { out.code = e.code; out.name = e.name; out.message = e.message; }
      }
      console.log(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      env: { ...process.env, PORTHOLE_VSOCK_ADDON: '/nonexistent/porthole_vsock.node' }, encoding: 'utf8', timeout: 10_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.available).toBe(false);
    expect(out.reason).toMatch(/native addon not built/);
    expect(out.code).toBe('VSOCK_UNAVAILABLE');
    expect(out.name).toBe('VsockUnavailableError');
    expect(out.message).toMatch(/AF_VSOCK is unavailable/);
  });
});
