// Host half of the Firecracker-shaped vsock device, speaking Firecracker's UDS contract:
//  - guest dials CID 2 port P  -> we connect to the host Unix socket `${udsPath}_${P}`
//  - host connects to udsPath, sends `CONNECT P\n` -> `OK <n>\n`, then the stream
//    reaches whatever listens on AF_VSOCK port P in the guest.
import net from 'node:net';
import { Mux } from './mux.js';

export function startHostSide({ chPath, udsPath, log, readyTimeoutMs }) {
  const mux = new Mux({
    role: 'host',
    log,
    dial: (port) => new Promise((resolve, reject) => {
      const s = net.connect({ path: `${udsPath}_${port}`, allowHalfOpen: true });
      s.once('connect', () => { s.off('error', reject); resolve(s); });
      s.once('error', reject);
    }),
  });

  // QEMU creates the chardev socket shortly after start; connect before the guest
  // opens the port so nothing the guest says first is lost. Bounded retries.
  const attach = (n = 0) => {
    const s = net.connect(chPath);
    s.once('connect', () => mux.attach(s));
    s.once('error', (e) => {
      if (n < readyTimeoutMs / 10) setTimeout(attach, 10, n + 1);
      else mux.emit('error', new Error(`cannot connect to QEMU chardev ${chPath}: ${e.code}`));
    });
  };
  attach();

  let hostPort = 1 << 30; // Firecracker reports an assigned host-side port; mimic its range
  const server = net.createServer({ allowHalfOpen: true }, (sock) => {
    let line = '';
    const onData = (d) => {
      line += d.toString('latin1');
      const nl = line.indexOf('\n');
      if (nl < 0) { if (line.length > 64) sock.destroy(); return; }
      sock.off('data', onData);
      const m = /^CONNECT (\d+)$/.exec(line.slice(0, nl).trim());
      if (!m) { sock.destroy(); return; }
      const rest = Buffer.from(line.slice(nl + 1), 'latin1');
      if (rest.length) sock.unshift(rest);
      mux.open(Number(m[1]), sock, () => sock.write(`OK ${hostPort++}\n`));
    };
    sock.on('data', onData);
    sock.on('error', () => {});
  });
  server.listen(udsPath);
  return { mux, server };
}
