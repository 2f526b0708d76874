// Guest half of the harness's stand-in for Firecracker's vsock device.
// Guest programs dial AF_VSOCK CID 2 (the host) as under Firecracker; with only
// vsock_loopback loaded the kernel routes CID 2 to the loopback transport, so this
// relay, bound to VMADDR_CID_ANY on each relayed port, accepts those connections and
// carries them over the virtio-serial port. Host-initiated connections arrive as OPEN
// frames and are dialled to CID 1 (loopback) on the requested port.
// Usage: node relay.mjs /dev/vportNpM "1024,1025"
import fs from 'node:fs';
import net from 'node:net';
import { listen, connectAsync, VMADDR_CID_LOCAL, VMADDR_CID_ANY } from '@porthole/vsock';
import { Mux } from './mux.js';

const [portPath, portList = '', readyFile = '/tmp/.porthole-relay-ready'] = process.argv.slice(2);
const log = (m) => process.stderr.write(`porthole-relay: ${m}\n`);
// libuv cannot classify a char device as a stream, so wrap the fd in a pipe handle
// (same trick as @porthole/vsock): epoll-driven, non-blocking, with backpressure.
const { Pipe, constants } = process.binding('pipe_wrap');

const mux = new Mux({
  role: 'guest',
  log,
  dial: (port) => connectAsync(VMADDR_CID_LOCAL, port, { allowHalfOpen: true, timeout: 5000 }),
});

function openPort(attempt = 0) {
  let sock;
  try {
    const fd = fs.openSync(portPath, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
    const h = new Pipe(constants.SOCKET);
    h.open(fd);
    sock = new net.Socket({ handle: h });
  } catch (e) {
    log(`open ${portPath}: ${e.message}`);
    if (attempt < 600) setTimeout(openPort, 100, attempt + 1); // bounded: one minute
    return;
  }
  // The host end closing shows up as EOF; reopen so a new host session can say hello.
  sock.on('close', () => { if (attempt < 600) setTimeout(openPort, 100, attempt + 1); });
  mux.attach(sock);
}

const listening = portList.split(',').filter(Boolean).map(Number).map((p) => new Promise((resolve) => {
  listen(p, { cid: VMADDR_CID_ANY, allowHalfOpen: true }, (s) => mux.open(p, s))
    .on('listening', resolve)
    .on('error', (e) => { log(`listen ${p}: ${e.code} ${e.message}`); resolve(); });
}));
const ready = new Promise((resolve) => mux.once('ready', resolve));
// /init starts the agent only once this file exists, so the agent's first dial to
// CID 2 finds both the listener and a live host session.
Promise.all([...listening, ready]).then(() => {
  log(`session ${mux.session} ready, peer ${mux.peerSession}`);
  fs.writeFileSync(readyFile, '');
});
if (portPath) openPort(); else { log('no virtio-serial port: relay idle'); fs.writeFileSync(readyFile, ''); }
