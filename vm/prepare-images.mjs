// `npm run vm:prepare`: installs what the VM tests need (apt-get, when
// missing), takes the Debian kernel from its package and builds the cached
// initramfs and a first root image, so a failure shows here, with its
// reason, before the tests run. Prints the image paths.
import { fileURLToPath } from 'node:url';

import { prepare, vmUnavailableReason } from './harness/index.js';

const unavailable = vmUnavailableReason({ installable: true });
if (unavailable) {
  console.error(`vm:prepare: VM tests cannot run here: ${unavailable}`);
  process.exit(1);
}
const started = performance.now();
const image = prepare(fileURLToPath(new URL('./test/guest-app', import.meta.url)), { timeoutMs: 900_000 });
console.log(JSON.stringify({ ...image, seconds: +((performance.now() - started) / 1000).toFixed(1) }));
