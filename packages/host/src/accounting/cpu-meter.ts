import { AsyncLocalStorage, createHook } from 'node:async_hooks';

/** What main-thread time spent running one call's code is charged to. */
export interface CpuAccount {
  /** Called after every slice with its length in milliseconds. */
  addCpu(ms: number): void;
}

// async_hooks are process-wide by nature: one hook and one store serve
// every host service in the process. The hook is enabled on first use.
const storage = new AsyncLocalStorage<CpuAccount>();
let enabled = false;
let depth = 0;
let sliceStart = 0;
let sliceAccount: CpuAccount | undefined;

// Every callback the event loop runs on behalf of a call (a resumed await,
// a stream event, a timer) is timed and charged to that call. On one thread
// the wall time of a synchronous slice is the CPU time it used.
function enable(): void {
  if (enabled) return;
  enabled = true;
  createHook({
    before() {
      if (depth++ !== 0) return;
      sliceAccount = storage.getStore();
      if (sliceAccount) sliceStart = performance.now();
    },
    after() {
      depth = Math.max(0, depth - 1);
      if (depth !== 0 || !sliceAccount) return;
      sliceAccount.addCpu(performance.now() - sliceStart);
      sliceAccount = undefined;
    },
  }).enable();
}

/** Runs `fn` with its synchronous part and everything it schedules charged to `account`. */
export function runMetered<T>(account: CpuAccount, fn: () => T): T {
  enable();
  const start = performance.now();
  try {
    return storage.run(account, fn);
  } finally {
    account.addCpu(performance.now() - start);
  }
}
