#!/usr/bin/env node
// Generates packages/shared/src/gen from proto/. With --check, generates into
// a temporary folder and fails when the committed files differ, so types can
// never drift from the contract.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const committed = join(root, 'packages/shared/src/gen');
const check = process.argv.includes('--check');
const outDir = check ? mkdtempSync(join(tmpdir(), 'porthole-gen-')) : committed;

// These options must match LOADER_OPTIONS in packages/shared/src/contract.ts.
const bin = join(root, 'node_modules/.bin/proto-loader-gen-types');
execFileSync(bin, [
  '--longs=Number', '--enums=String', '--defaults', '--oneofs',
  '--includeComments', '--grpcLib=@grpc/grpc-js',
  '--importFileExtension=.js', '-I', 'proto',
  '-O', outDir, 'porthole/v1/porthole.proto',
], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });

if (!check) process.exit(0);

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const fresh = new Map(files(outDir).map((f) => [relative(outDir, f), f]));
const old = new Map(files(committed).map((f) => [relative(committed, f), f]));
const stale = [...new Set([...fresh.keys(), ...old.keys()])].filter((name) => {
  const a = fresh.get(name), b = old.get(name);
  return !a || !b || !readFileSync(a).equals(readFileSync(b));
});
rmSync(outDir, { recursive: true, force: true });

if (stale.length > 0) {
  console.error(`generated types are stale against proto/: ${stale.join(', ')}`);
  console.error('run `npm run gen` and commit the result');
  process.exit(1);
}
console.error('generated types match proto/');
