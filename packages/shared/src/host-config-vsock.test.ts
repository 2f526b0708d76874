import { describe, expect, it } from 'vitest';

import { validateHostConfig } from './host-config.js';

const base = { audit: { path: 'audit.jsonl' } };
const issues = (config: Record<string, unknown>): string[] => {
  const result = validateHostConfig({ ...base, ...config });
  return result.ok ? [] : result.issues.map((i) => `${i.path}: ${i.message}`);
};

describe('vsock in the host config', () => {
  it('maps guest CIDs to sandboxes behind a host-level vsock listener', () => {
    const result = validateHostConfig({ ...base, vsock: {}, sandboxes: [{ id: 'a', cid: 3 }, { id: 'b', cid: 4, listen: { udsPath: 'b.sock' } }] });
    expect(result.ok && result.config.vsock).toEqual({ port: 52 });
    expect(result.ok && result.config.sandboxes.map((s) => s.cid)).toEqual([3, 4]);
  });

  it('names every mistake with its path', () => {
    expect(issues({ sandboxes: [{ id: 'a' }] })).toEqual(['sandboxes[0].listen: a sandbox needs listen (a Unix socket), cid (over vsock) or both']);
    expect(issues({ sandboxes: [{ id: 'a', cid: 3 }] })).toEqual(['sandboxes[0].cid: cid needs a host-level vsock listener: add vsock: { port: 52 }']);
    expect(issues({ vsock: {}, sandboxes: [{ id: 'a', cid: 3 }, { id: 'b', cid: 3 }] })).toEqual(['sandboxes[1].cid: cid "3" is already used by sandboxes[0]']);
    expect(issues({ vsock: {}, sandboxes: [{ id: 'a', cid: 2 }] })).toEqual(['sandboxes[0].cid: CID 2 is the host itself, not a guest']);
    expect(issues({ vsock: { port: 52, extra: 1 }, sandboxes: [{ id: 'a', cid: 3 }] })[0]).toMatch(/^vsock: /);
  });
});
