import { createRequire } from 'node:module';

/** This SDK's version, sent to the host in Hello. */
export const SDK_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
