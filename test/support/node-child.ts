import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root: children resolve @porthole/* from its node_modules (built dist). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Runs an ES module given as source in a separate Node process, the way a
 * real agent runs: it sees only the built packages and its environment.
 */
export function nodeChild(source: string, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--input-type=module', '-e', source], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Resolves with the child's next stdout line parsed as JSON, or rejects after `ms`. */
export async function nextJsonLine(child: ChildProcess, ms = 20_000): Promise<Record<string, unknown>> {
  const lines = createInterface({ input: child.stdout! });
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  let stderr = '';
  child.stderr?.on('data', (part: Buffer) => {
    stderr += part.toString();
  });
  try {
    for await (const line of lines) return JSON.parse(line) as Record<string, unknown>;
  } finally {
    clearTimeout(timer);
    lines.close();
  }
  throw new Error(`child exited without a result line; stderr: ${stderr}`);
}

/** Waits for a child to exit, killing it after `ms`; resolves to its exit code or signal. */
export async function exitOf(child: ChildProcess, ms = 20_000): Promise<number | NodeJS.Signals> {
  if (child.exitCode !== null) return child.exitCode;
  if (child.signalCode !== null) return child.signalCode;
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return code ?? signal ?? 'SIGKILL';
}

/** Polls `probe` every 25 ms until it returns true, failing after `ms`. */
export async function eventually(probe: () => Promise<boolean>, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out after ${ms} ms waiting until ${what}`);
}
