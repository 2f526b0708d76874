import type { Socket } from 'node:net';
import type { EventEmitter } from 'node:events';

export declare const VMADDR_CID_ANY: 0xffffffff;
export declare const VMADDR_CID_HYPERVISOR: 0;
export declare const VMADDR_CID_LOCAL: 1;
export declare const VMADDR_CID_HOST: 2;
export declare const VMADDR_PORT_ANY: 0xffffffff;

export interface VsockAddress { cid: number; port: number }

/** A connected AF_VSOCK stream: a real net.Socket backed by a libuv pipe handle. */
export declare class VsockSocket extends Socket {
  /** Peer CID and port (from getpeername() once connected). */
  readonly remoteCid: number | undefined;
  readonly remotePort: number | undefined;
  readonly localCid: number | undefined;
  readonly localPort?: number;
}

export interface ConnectOptions {
  /** Fail with ETIMEDOUT after this many ms (the kernel also times out, default 2 s). */
  timeout?: number;
  allowHalfOpen?: boolean;
}

/** Like net.connect: returns at once, emits 'connect' or 'error' (ECONNREFUSED, ETIMEDOUT, ...). */
export declare function connect(cid: number, port: number, options?: ConnectOptions, listener?: () => void): VsockSocket;
export declare function connect(cid: number, port: number, listener?: () => void): VsockSocket;
export declare function connectAsync(cid: number, port: number, options?: ConnectOptions): Promise<VsockSocket>;

export interface ListenOptions { cid?: number; backlog?: number; allowHalfOpen?: boolean }

export declare class VsockServer extends EventEmitter {
  listen(port: number, options?: ListenOptions): this;
  address(): VsockAddress | null;
  readonly listening: boolean;
  close(cb?: () => void): this;
  ref(): this;
  unref(): this;
  on(event: 'connection', l: (socket: VsockSocket) => void): this;
  on(event: 'listening' | 'close', l: () => void): this;
  on(event: 'error', l: (err: VsockError) => void): this;
  on(event: string | symbol, l: (...args: any[]) => void): this;
}

export declare function listen(port: number, options?: ListenOptions, onConnection?: (s: VsockSocket) => void): VsockServer;
export declare function createServer(options?: { allowHalfOpen?: boolean }, onConnection?: (s: VsockSocket) => void): VsockServer;

/** System errors carry Node's usual fields. */
export interface VsockError extends Error { code: string; errno: number; syscall: string }

export declare class VsockUnavailableError extends Error {
  readonly code: 'VSOCK_UNAVAILABLE';
  readonly reason: string;
}

export declare function isAvailable(): boolean;
export declare function unavailableReason(): string | undefined;
