// A vsock connection is a real net.Socket over a libuv pipe handle: libuv does the
// epoll, reads, writes and backpressure, exactly as for TCP or Unix sockets.
import net from 'node:net';
import { binding } from './binding.js';
import { fromNative, systemError } from './errors.js';

// pipe_wrap is the only way to get a libuv stream for an fd family libuv does not
// recognise; net.Socket({fd}) rejects AF_VSOCK because uv_guess_handle says UNKNOWN.
const { Pipe, constants: PipeConstants } = process.binding('pipe_wrap');

export const kPoll = Symbol('vsockPoll');

export function pipeForFd(fd) {
  const handle = new Pipe(PipeConstants.SOCKET);
  try {
    const err = handle.open(fd);
    if (typeof err === 'number' && err < 0) throw systemError(err, 'uv_pipe_open');
  } catch (e) {
    handle.close();
    throw e;
  }
  return handle;
}

export class VsockSocket extends net.Socket {
  constructor(options = {}) {
    super(options);
    // net.Socket's remotePort/localPort are getters over TCP-only handle calls;
    // instance data properties shadow them with the vsock address.
    for (const k of ['remoteCid', 'remotePort', 'localCid', 'localPort']) {
      Object.defineProperty(this, k, { value: options[k], writable: true, enumerable: true, configurable: true });
    }
  }

  _destroy(err, cb) {
    // The uv_poll watching a pending connect must go before the pipe closes the fd.
    if (this[kPoll]) { binding().pollStop(this[kPoll]); this[kPoll] = undefined; }
    clearTimeout(this._vsockTimer);
    super._destroy(err, cb);
  }
}

export function describe(fd) {
  const b = binding();
  const peer = b.getpeername(fd);
  const local = b.getsockname(fd);
  return { remoteCid: peer.cid, remotePort: peer.port, localCid: local.cid, localPort: local.port };
}
