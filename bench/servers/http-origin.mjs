// The upstream both direct fetches and Porthole's FetchUrl reach: node:http
// on 127.0.0.1, an ephemeral port, preallocated bodies.
import { createServer } from 'node:http';

const BODIES = {
  '/1k': Buffer.alloc(1024, 'a'),
  '/10m': Buffer.alloc(10 * 1024 * 1024, 'b'),
};

const server = createServer((req, res) => {
  const body = BODIES[req.url];
  if (!body) return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60_000;

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, port: server.address().port })}\n`);
});
process.once('SIGTERM', () => process.exit(0));
