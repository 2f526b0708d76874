// listen(): bind natively, then let libuv's pipe server do listen()+accept4() on the
// event loop; each accepted fd arrives already wrapped in a pipe handle.
import { EventEmitter } from 'node:events';
import { binding } from './binding.js';
import { fromNative, systemError } from './errors.js';
import { VsockSocket, pipeForFd, describe } from './socket.js';
import { openSocket, checkU32 } from './connect.js';

export class VsockServer extends EventEmitter {
  constructor(options = {}, connectionListener) {
    super();
    this._options = options;
    this._handle = null;
    this._address = null;
    if (connectionListener) this.on('connection', connectionListener);
  }

  listen(port, options = {}) {
    const cid = options.cid ?? binding().CID_ANY;
    checkU32('port', port);
    checkU32('cid', cid);
    const b = binding();
    const fd = openSocket();
    const where = `vsock:${cid}:${port}`;
    try { b.bind(fd, cid, port); } catch (e) {
      b.close(fd);
      process.nextTick(() => this.emit('error', fromNative(e, where)));
      return this;
    }
    let handle;
    try { handle = pipeForFd(fd); } catch (e) { b.close(fd); throw e; }
    handle.onconnection = (status, client) => this._onConnection(status, client);
    const err = handle.listen(options.backlog ?? 511);
    if (err) {
      handle.close();
      process.nextTick(() => this.emit('error', systemError(err, 'listen', where)));
      return this;
    }
    this._handle = handle;
    const local = b.getsockname(fd);
    this._address = { cid: local.cid, port: local.port };
    process.nextTick(() => this.emit('listening'));
    return this;
  }

  _onConnection(status, client) {
    if (status < 0) { this.emit('error', systemError(status, 'accept')); return; }
    let info;
    try { info = describe(client.fd); } catch (e) {
      client.close(); // peer vanished between accept and getpeername
      this.emit('error', fromNative(e));
      return;
    }
    const sock = new VsockSocket({ handle: client, allowHalfOpen: this._options.allowHalfOpen, ...info });
    sock.server = this;
    this.emit('connection', sock);
  }

  address() { return this._address; }
  get listening() { return this._handle !== null; }

  close(cb) {
    if (cb) this.once('close', cb);
    if (!this._handle) { process.nextTick(() => this.emit('close')); return this; }
    const h = this._handle;
    this._handle = null;
    h.close(() => this.emit('close'));
    return this;
  }

  ref() { this._handle?.ref(); return this; }
  unref() { this._handle?.unref(); return this; }
}

export function listen(port, options = {}, connectionListener) {
  if (typeof options === 'function') { connectionListener = options; options = {}; }
  return new VsockServer(options, connectionListener).listen(port, options);
}

export function createServer(options = {}, connectionListener) {
  if (typeof options === 'function') { connectionListener = options; options = {}; }
  return new VsockServer(options, connectionListener);
}
