#!/usr/bin/env -S node --max-semi-space-size=8
// The young generation is capped at 8 MiB per semi-space (V8 grows it to
// 16 here): with a thousand sandboxes connected, the default doubling costs
// ~16 KiB of RSS per sandbox, for scavenges that stay short either way.
// Run as `node porthole-host.js`, pass the flag yourself.
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`porthole-host: ${error?.stack ?? error}\n`);
    process.exitCode = 1;
  },
);
