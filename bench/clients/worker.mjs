// The client process: every figure's client side runs here, apart from the
// servers, and answers the driver over IPC.
import { serveCommands } from '../lib/processes.mjs';
import { directFetchBulk, directFetchLatency } from './direct-fetch.mjs';
import { fileWrite } from './file-write.mjs';
import { grpcDown, grpcDownLatency, grpcUnary, grpcUp } from './grpc-echo.mjs';
import * as porthole from './porthole.mjs';
import { rawBulk, rawEcho } from './raw-uds.mjs';

// Latency arrays stay here; the driver gets their summary.
function summarize(result) {
  const { latenciesUs, ...rest } = result;
  if (!latenciesUs) return rest;
  const sorted = Float64Array.from(latenciesUs).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  return { ...rest, p50Us: at(0.5), p99Us: at(0.99) };
}

const wrap = (fn) => async (args) => summarize(await fn(args));

serveCommands({
  rawEcho: wrap(rawEcho),
  rawBulk: wrap(rawBulk),
  grpcUnary: wrap(grpcUnary),
  grpcDown: wrap(grpcDown),
  grpcDownLatency: wrap(grpcDownLatency),
  grpcUp: wrap(grpcUp),
  directFetchLatency: wrap(directFetchLatency),
  directFetchBulk: wrap(directFetchBulk),
  fileWrite: wrap(fileWrite),
  portholeHello: wrap(porthole.portholeHello),
  portholeRead: wrap(porthole.portholeRead),
  portholeReadLatency: wrap(porthole.portholeReadLatency),
  portholeWrite: wrap(porthole.portholeWrite),
  portholeFetchLatency: wrap(porthole.portholeFetchLatency),
  portholeFetchBulk: wrap(porthole.portholeFetchBulk),
  async close() {
    porthole.closeAll();
    return {};
  },
});
