// Reads a V8 .cpuprofile (node --cpu-prof) and ranks functions by self
// time and by total time (self plus callees), as a share of all samples.
import { readFile } from 'node:fs/promises';

function where(frame) {
  const url = frame.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '').replace(/^.*\/packages\//, 'packages/');
  return url ? `${url}:${frame.lineNumber + 1}` : '(native)';
}

export async function summarizeProfile(file, top = 20) {
  const profile = JSON.parse(await readFile(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const total = profile.samples.length;
  const self = new Map();
  const inclusive = new Map();
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);

  for (const [id, hits] of counts) {
    const node = byId.get(id);
    const key = `${node.callFrame.functionName || '(anonymous)'} ${where(node.callFrame)}`;
    self.set(key, (self.get(key) ?? 0) + hits);
    // Every distinct function on the stack gets the hits once.
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at).callFrame;
      const k = `${frame.functionName || '(anonymous)'} ${where(frame)}`;
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + hits);
    }
  }

  const rank = (map) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, hits]) => ({ share: `${((hits / total) * 100).toFixed(1)}%`, name }));
  const idle = self.get('(idle) (native)') ?? 0;
  return { samples: total, busy: `${(((total - idle) / total) * 100).toFixed(1)}%`, self: rank(self), total: rank(inclusive) };
}
