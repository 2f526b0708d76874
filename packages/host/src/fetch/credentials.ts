import { readFile } from 'node:fs/promises';

import type { Credential } from '@porthole/shared';

/** A credential with its secret read from the host. */
export interface ResolvedCredential {
  header: string;
  /** The header value: prefix and secret. */
  value: string;
  /** The secret alone, for redaction. */
  secret: string;
  guestHeader: Credential['guestHeader'];
}

/** A secret that cannot be used, with the config field that names it. */
export class CredentialError extends Error {
  constructor(readonly field: string, readonly problem: string) {
    super(`${field}: ${problem}`);
  }
}

/**
 * Reads each credential's secret from the host's environment or a file.
 * Throws an Error naming the config field when one cannot be read; the
 * message never holds a secret.
 */
export async function resolveCredentials(credentials: readonly Credential[], where: string): Promise<ResolvedCredential[]> {
  return Promise.all(credentials.map(async (credential, index) => {
    const field = `${where}.inject[${index}].from`;
    let secret: string | undefined;
    if ('env' in credential.from) {
      secret = process.env[credential.from.env];
      if (secret === undefined || secret === '') {
        throw new CredentialError(`${field}.env`, `environment variable ${credential.from.env} is not set`);
      }
    } else {
      const file = credential.from.file;
      secret = await readFile(file, 'utf8').then((text) => text.trim(), (error: NodeJS.ErrnoException) => {
        throw new CredentialError(`${field}.file`, `${file} cannot be read (${error.code ?? 'error'})`);
      });
      if (secret === '') throw new CredentialError(`${field}.file`, `${file} is empty`);
    }
    if (/[\r\n\0]/.test(secret)) throw new CredentialError(field, 'the secret holds a CR, LF or NUL character');
    return { header: credential.header, value: `${credential.prefix}${secret}`, secret, guestHeader: credential.guestHeader };
  }));
}
