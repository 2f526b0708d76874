// A small HTTP API on 127.0.0.1 that plays the upstream service the demo
// agent is allowed to call. Prints {"port": N} on stdout once listening.
import { createServer } from 'node:http';

const thresholds = { temperature: 30, humidity: 80 };
let summaries = 0;

const server = createServer((req, res) => {
  const send = (status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };

  if (req.method === 'GET' && req.url === '/v1/thresholds') return send(200, thresholds);
  if (req.method === 'POST' && req.url === '/v1/summaries') {
    const parts = [];
    req.on('data', (part) => parts.push(part));
    req.on('end', () => {
      const summary = JSON.parse(Buffer.concat(parts).toString() || '{}');
      summaries += 1;
      send(201, { id: `summary-${summaries}`, rows: summary.rows ?? null });
    });
    return undefined;
  }
  // Plays an upstream that tries to bounce the host to the cloud metadata service.
  if (req.url === '/v1/moved') {
    return send(302, undefined, { location: 'http://169.254.169.254/latest/meta-data/iam/' });
  }
  return send(404, { error: `no route ${req.method} ${req.url}` });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
