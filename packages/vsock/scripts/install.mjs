// Build the addon but never fail `npm install`: on hosts without a compiler or
// AF_VSOCK headers the package still installs and reports VSOCK_UNAVAILABLE at use.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const marker = join(root, 'build', 'unavailable.txt');
rmSync(marker, { force: true });

function fail(reason) {
  mkdirSync(join(root, 'build'), { recursive: true });
  writeFileSync(marker, reason + '\n');
  process.stderr.write(`@porthole/vsock: native addon not built (${reason}); vsock calls will throw VSOCK_UNAVAILABLE\n`);
  process.exit(0);
}

if (process.platform !== 'linux') fail(`AF_VSOCK is Linux-only, platform is ${process.platform}`);
// npm sets npm_execpath; node-gyp ships inside npm, so no download is needed for the tool itself.
// Outside npm, fall back to the copy bundled with npm next to this node; never npx (it downloads).
const gyp = process.env.npm_config_node_gyp
  || join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
if (!existsSync(gyp)) fail(`node-gyp not found at ${gyp}`);
// Build against local headers only: without a nodedir node-gyp would try to download them.
const env = { ...process.env };
if (!env.npm_config_nodedir) {
  const prefix = join(dirname(process.execPath), '..');
  if (!existsSync(join(prefix, 'include', 'node', 'node_api.h'))) fail(`no Node headers under ${prefix}/include/node and npm_config_nodedir is unset`);
  env.npm_config_nodedir = prefix;
}
// Logs go to stderr so `npm install` output stays readable.
const r = spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: root, env, stdio: ['ignore', 2, 2] });
if (r.error) fail(`could not run node-gyp: ${r.error.message}`);
if (r.status !== 0) fail(`node-gyp rebuild exited with ${r.status}`);
