import { createRequire } from 'node:module';

/** This package's version, reported to guests in Hello. */
export const HOST_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
