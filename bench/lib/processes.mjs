// Child processes of the bench: started here, stopped here, by pid only.
import { spawn, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/**
 * Starts `node [nodeArgs] script [args]` and resolves with the child and
 * the first JSON line it prints on stdout (its "ready" report).
 */
export async function startNode(script, args = [], { nodeArgs = [], env, stderr = 'inherit' } = {}) {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    stdio: ['ignore', 'pipe', stderr],
    env: { ...process.env, ...env },
  });
  const lines = createInterface({ input: child.stdout });
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} not ready after ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`${script} printed ${JSON.stringify(line)} instead of a ready line`));
      }
    });
  });
  // Later lines (a final report, say) are kept for the caller.
  const output = [];
  lines.on('line', (line) => output.push(line));
  return { child, ready, output };
}

/** Sends SIGTERM to one child by its pid and waits, then SIGKILL if it hangs. */
export async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  }, STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** Resident set size of a process, in bytes, from /proc. */
export function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

/**
 * A forked worker answering { id, cmd, args } messages with { id, result }
 * or { id, error }. Every request has a deadline.
 */
export function startWorker(script, { nodeArgs = [] } = {}) {
  const child = fork(script, [], { execArgv: nodeArgs, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map();
  let nextId = 0;
  child.on('message', ({ id, result, error }) => {
    const entry = pending.get(id);
    if (!entry) return;
    pending.delete(id);
    clearTimeout(entry.timer);
    if (error) entry.reject(new Error(error));
    else entry.resolve(result);
  });
  child.on('exit', (code) => {
    for (const entry of pending.values()) entry.reject(new Error(`worker exited with ${code}`));
    pending.clear();
  });
  return {
    child,
    call(cmd, args = {}, timeoutMs = 60_000) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${cmd} took more than ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        child.send({ id, cmd, args });
      });
    },
  };
}

/** The worker side: serves commands from a table of async functions. */
export function serveCommands(commands) {
  process.on('message', async ({ id, cmd, args }) => {
    try {
      const run = commands[cmd];
      if (!run) throw new Error(`unknown command ${cmd}`);
      process.send({ id, result: await run(args) });
    } catch (error) {
      process.send({ id, error: error?.stack ?? String(error) });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

// Clock ticks per second of /proc/<pid>/stat times; 100 on Linux.
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSecondsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}
