import { AsyncLocalStorage, createHook } from 'node:async_hooks';

/** What the host CPU time used by one call's code is charged to. */
export interface CpuAccount {
  /** Called after every slice with its length in milliseconds. */
  addCpu(ms: number): void;
}

// async_hooks are process-wide by nature: one hook and one store serve
// every host service in the process. The hook is enabled on first use.
const storage = new AsyncLocalStorage<CpuAccount>();
let enabled = false;
let depth = 0;
let sliceStart: NodeJS.CpuUsage | undefined;
let sliceAccount: CpuAccount | undefined;

// Every callback the event loop runs on behalf of a call (a resumed await,
// a stream event, a timer) is charged the CPU time the process used while
// it ran. CPU time, not wall time: a host descheduled by a busy machine
// must not bill its guests for the wait.
function enable(): void {
  if (enabled) return;
  enabled = true;
  createHook({
    before() {
      if (depth++ !== 0) return;
      sliceAccount = storage.getStore();
      if (sliceAccount) sliceStart = process.cpuUsage();
    },
    after() {
      depth = Math.max(0, depth - 1);
      if (depth !== 0 || !sliceAccount) return;
      sliceAccount.addCpu(cpuMsSince(sliceStart));
      sliceAccount = undefined;
    },
  }).enable();
}

/** Runs `fn` with its synchronous part and everything it schedules charged to `account`. */
export function runMetered<T>(account: CpuAccount, fn: () => T): T {
  enable();
  const start = process.cpuUsage();
  try {
    return storage.run(account, fn);
  } finally {
    account.addCpu(cpuMsSince(start));
  }
}

function cpuMsSince(start: NodeJS.CpuUsage | undefined): number {
  if (!start) return 0;
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1000;
}
