import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

// The host-config entry alone: the config worker need not load grpc-js.
import { validateHostConfig, type ConfigIssue, type HostConfig } from '@porthole/shared/host-config';
import { parse } from 'yaml';

/** A config that could not be read or is invalid, with every issue found. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly file: string, readonly issues: ConfigIssue[]) {
    super(`${file}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
}

/**
 * Reads a YAML or JSON config, validates it, and resolves its relative
 * paths against the file's folder.
 */
export async function loadConfig(file: string): Promise<HostConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [{ path: '(file)', message: `cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }]);
  }

  let raw: unknown;
  try {
    raw = parse(text, { prettyErrors: true });
  } catch (error) {
    // The parser's message ends its first line with "at line L, column C:"
    // and shows the lines there below it, with a caret.
    const [first = '', ...snippet] = (error as Error).message.split('\n');
    const shown = snippet.filter((line) => line.trim() !== '').slice(0, 4).map((line) => `\n      ${line}`).join('');
    throw new ConfigError(file, [{ path: '(file)', message: `is not valid YAML or JSON: ${shown ? first : first.replace(/:$/, '')}${shown}` }]);
  }

  const result = validateHostConfig(raw);
  if (!result.ok) throw new ConfigError(file, result.issues);
  const config = resolvePaths(result.config, dirname(resolve(file)));
  const missing = await missingFolders(config);
  if (missing.length > 0) throw new ConfigError(file, missing);
  return config;
}

/**
 * Folders the host reads from or writes into but does not create: the
 * artifacts folders and the audit log's folder. Outputs folders and the
 * socket folders are created when missing.
 */
async function missingFolders(config: HostConfig): Promise<ConfigIssue[]> {
  const wanted: [string, string][] = [['audit.path', dirname(config.audit.path)]];
  config.sandboxes.forEach((s, index) => {
    if (s.artifacts !== undefined) wanted.push([`sandboxes[${index}].artifacts`, s.artifacts]);
  });
  const issues: ConfigIssue[] = [];
  for (const [path, folder] of wanted) {
    const info = await stat(folder).catch((error: NodeJS.ErrnoException) => error.code ?? 'error');
    if (typeof info === 'string') issues.push({ path, message: `folder ${folder} cannot be used (${info})` });
    else if (!info.isDirectory()) issues.push({ path, message: `${folder} is not a folder` });
  }
  return issues;
}

/** A copy of the config with every path made absolute against `base`. */
export function resolvePaths(config: HostConfig, base: string): HostConfig {
  const at = (path: string): string => resolve(base, path);
  return {
    ...config,
    audit: { path: at(config.audit.path) },
    sandboxes: config.sandboxes.map((s) => ({
      ...s,
      ...(s.listen === undefined ? {} : { listen: { ...s.listen, udsPath: at(s.listen.udsPath) } }),
      ...(s.artifacts === undefined ? {} : { artifacts: at(s.artifacts) }),
      ...(s.outputs === undefined ? {} : { outputs: { ...s.outputs, dir: at(s.outputs.dir) } }),
      ...(s.fetch === undefined ? {} : {
        fetch: {
          ...s.fetch,
          allow: s.fetch.allow.map((rule) => ({
            ...rule,
            inject: rule.inject.map((c) => ('file' in c.from ? { ...c, from: { file: at(c.from.file) } } : c)),
          })),
        },
      }),
    })),
  };
}
