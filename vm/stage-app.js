// stageApp(): the folder a test VM mounts at /mnt/app: agent files plus a
// node_modules holding @porthole/guest (and optionally @porthole/host) with
// everything they import, as symlinks into the repository's node_modules.
// vm/prepare copies it with `cp -rL`, so the image holds real files.
// Needs built packages (`npm run build`): Node in the guest loads dist/.
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const modules = join(root, 'node_modules');

/** Package names `entry` needs at run time, itself included. */
function closure(entries) {
  const seen = new Set();
  const visit = (name) => {
    if (seen.has(name)) return;
    const manifest = join(modules, name, 'package.json');
    if (!existsSync(manifest)) throw new Error(`stageApp: ${name} is not installed in ${modules}`);
    seen.add(name);
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      if (existsSync(join(modules, dep, 'package.json'))) visit(dep);
    }
  };
  entries.forEach(visit);
  return [...seen].sort();
}

/**
 * @param {string} name   folder name under vm/.cache/apps
 * @param {string[]} files agent files copied to the app's top level
 * @param {{ host?: boolean }} [options] also stage @porthole/host (a host service inside the guest)
 * @returns {string} the app folder
 */
export function stageApp(name, files, { host = false } = {}) {
  for (const pkg of ['guest', 'shared', ...(host ? ['host'] : [])]) {
    if (!existsSync(join(root, 'packages', pkg, 'dist', 'index.js'))) {
      throw new Error(`stageApp: packages/${pkg} is not built; run \`npm run build\``);
    }
  }
  const dir = join(root, 'vm', '.cache', 'apps', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  for (const pkg of closure(['@porthole/guest', ...(host ? ['@porthole/host'] : [])])) {
    const target = join(dir, 'node_modules', pkg);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(join(modules, pkg), target);
  }
  // @porthole/shared reads the contract from ../../../proto of its dist/,
  // which is the repository's proto/ in a checkout and this one here.
  symlinkSync(join(root, 'proto'), join(dir, 'node_modules', 'proto'));
  for (const file of files) copyFileSync(file, join(dir, basename(file)));
  return dir;
}
