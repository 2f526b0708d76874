import type { EventEmitter } from 'node:events';
import type { Server } from 'node:net';
import type { Duplex } from 'node:stream';

export interface VmImage { kernel: string; initrd: string; rootfs: string; tscKhz: number }

export interface BootOptions {
  /** Shell command run by /init in /mnt/app inside the guest (<= ~1100 bytes). */
  agentCommand: string;
  /** Folder copied to /mnt/app (agent code + node_modules); used when `image` is absent. */
  appDir?: string;
  image?: VmImage;
  /** vsock ports a guest program may dial on CID 2; each maps to `${udsPath}_${port}`. */
  guestPorts?: number[];
  /** Firecracker-style uds_path; host-initiated connections use `CONNECT <port>\n` on it. */
  udsPath?: string;
  memory?: string;
  /** Hard bound on QEMU's life (enforced by coreutils `timeout`). */
  lifetimeMs?: number;
  readyTimeoutMs?: number;
  /** Copy the guest console to stderr (also PORTHOLE_VM_CONSOLE=1). */
  echoConsole?: boolean;
}

export interface ExitInfo { agentExit: number | null; qemu: { code: number | null; signal: string | null }; output: string }

export interface Vm {
  /** ms from QEMU spawn to the guest relay's completed hello. */
  readonly readyMs: number;
  readonly udsPath: string;
  readonly dir: string;
  readonly mux: Mux;
  readonly output: string;
  readonly pid: number;
  stop(): Promise<{ code: number | null; signal: string | null }>;
  waitExit(timeoutMs?: number): Promise<ExitInfo>;
  results(prefix?: string): any[];
}

export declare function bootVm(o: BootOptions): Promise<Vm>;
export declare function prepare(appDir: string, o?: { timeoutMs?: number }): VmImage;
export declare function vmUnavailableReason(o?: { installable?: boolean }): string | null;

export declare class Mux extends EventEmitter {
  constructor(o: { role: 'host' | 'guest'; dial: (port: number) => Promise<Duplex>; log?: (m: string) => void });
  readonly session: string;
  readonly isReady: boolean;
  attach(pipe: Duplex): void;
  detach(err?: Error): void;
  open(port: number, sock: Duplex, onOk?: () => void): void;
}
export declare function startHostSide(o: { chPath: string; udsPath: string; log: (m: string) => void; readyTimeoutMs: number }): { mux: Mux; server: Server };
