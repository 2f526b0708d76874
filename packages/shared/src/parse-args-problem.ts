/**
 * What a node:util parseArgs error means to the person who typed the
 * command, for both CLIs. Its own message for an unknown option goes on
 * to explain `--`, which is about positionals, not the typo.
 */
export function parseArgsProblem(error: Error): string {
  const unknown = /^Unknown option '([^']+)'/.exec(error.message);
  if (unknown) return `unknown option ${JSON.stringify(unknown[1])}`;
  // "--offset -1": parseArgs takes -1 for an option, not the value.
  const ambiguous = /^Option '([^']+)' argument is ambiguous/.exec(error.message);
  if (ambiguous) return `${ambiguous[1]} needs a value; one starting with "-" is written ${ambiguous[1]}=VALUE`;
  return error.message;
}
