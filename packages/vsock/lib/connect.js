// Non-blocking connect: the fd sits in a paused pipe handle while a uv_poll waits for
// writability, so the returned socket behaves like net.connect()'s (writes queue until
// 'connect', errors arrive as 'error').
import { constants as osConstants } from 'node:os';
import { binding } from './binding.js';
import { fromNative, systemError, VsockUnavailableError } from './errors.js';
import { VsockSocket, pipeForFd, describe, kPoll } from './socket.js';

const E = osConstants.errno;

export function checkU32(name, v) {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${name} must be a uint32, got ${v}`);
}

// socket() failing with EAFNOSUPPORT means the kernel has no vsock transport at all.
export function openSocket() {
  const b = binding();
  try {
    return b.socket();
  } catch (e) {
    if (e.errno === -E.EAFNOSUPPORT) throw new VsockUnavailableError('the kernel has no AF_VSOCK support (socket() -> EAFNOSUPPORT; load vsock modules)', fromNative(e));
    throw fromNative(e);
  }
}

export function connect(cid, port, options = {}, listener) {
  if (typeof options === 'function') { listener = options; options = {}; }
  checkU32('cid', cid);
  checkU32('port', port);
  const b = binding();
  const fd = openSocket();
  let handle;
  try { handle = pipeForFd(fd); } catch (e) { b.close(fd); throw e; }

  const sock = new VsockSocket({ handle, manualStart: true, allowHalfOpen: options.allowHalfOpen, remoteCid: cid, remotePort: port });
  sock.connecting = true; // makes net.Socket queue writes and reads until 'connect'
  if (listener) sock.once('connect', listener);
  const where = `vsock:${cid}:${port}`;

  const finish = (errno) => {
    if (sock[kPoll]) { b.pollStop(sock[kPoll]); sock[kPoll] = undefined; }
    clearTimeout(sock._vsockTimer);
    if (sock.destroyed) return;
    if (errno) {
      // vsock answers a connect to a port nobody listens on with a transport RST,
      // which the kernel reports as ECONNRESET; callers expect ECONNREFUSED.
      const code = errno === E.ECONNRESET ? E.ECONNREFUSED : errno;
      sock.destroy(systemError(-code, 'connect', where));
      return;
    }
    try { Object.assign(sock, describe(fd)); } catch { /* peer may already be gone; reads will say so */ }
    sock.connecting = false;
    sock.emit('connect');
    sock.emit('ready');
    if (!sock.isPaused()) sock.read(0); // same as net's afterConnect: start the read side
  };

  let now;
  try { now = b.connect(fd, cid, port); } catch (e) {
    const err = fromNative(e, where);
    process.nextTick(() => finish(-err.errno));
    return sock;
  }
  if (now) { process.nextTick(finish, 0); return sock; }

  sock[kPoll] = b.pollStart(fd, b.UV_WRITABLE | b.UV_DISCONNECT, (status, events) => {
    // libuv reports EPOLLERR as UV_EBADF; the real reason is in SO_ERROR.
    const soErr = b.soError(fd);
    if (status < 0) return finish(soErr || -status);
    if (soErr) return finish(soErr);
    if (events & b.UV_WRITABLE) finish(0);
  });
  if (options.timeout > 0) sock._vsockTimer = setTimeout(finish, options.timeout, E.ETIMEDOUT);
  return sock;
}

// Promise form: resolves with the connected socket.
export function connectAsync(cid, port, options = {}) {
  return new Promise((resolve, reject) => {
    const s = connect(cid, port, options);
    const onErr = (e) => reject(e);
    s.once('error', onErr);
    s.once('connect', () => { s.off('error', onErr); resolve(s); });
  });
}
