// What one round measures, and how rounds become ratios against goals.
// Each pair puts a baseline next to the Porthole figure it is compared
// with; odd rounds run a pair in reverse order so drift hits both sides.
import { BIG_ARTIFACT } from './session.mjs';
import { MiB } from './fixtures.mjs';
import { SDK_CHANNEL_OPTIONS } from '../clients/porthole.mjs';

export const STREAM_BYTES = 256 * MiB;
export const FETCH_BULK_BYTES = 10 * MiB;
const FETCH_BULK_TIMES = 8;

/** The steps of one round, grouped in pairs; `scale` shortens timed loops. */
export function roundPairs(s, scale = 1) {
  const ms = (n) => Math.round(n * scale);
  return [
    [
      ['rawEcho', 'rawEcho', { path: s.raw.echo, measureMs: ms(1000) }],
      ['grpcUnary1', 'grpcUnary', { path: s.grpcSocket, measureMs: ms(1500) }],
      ['hello1', 'portholeHello', { path: s.portholeSocket, measureMs: ms(1500) }],
    ],
    [
      ['grpcUnary32', 'grpcUnary', { path: s.grpcSocket, concurrency: 32, measureMs: ms(1500) }],
      ['hello32', 'portholeHello', { path: s.portholeSocket, concurrency: 32, measureMs: ms(1500) }],
    ],
    [
      ['rawBulk', 'rawBulk', { path: s.raw.bulk, bytes: STREAM_BYTES }],
      ['grpcDownStock', 'grpcDown', { path: s.grpcSocket, bytes: STREAM_BYTES }],
      ['grpcDownSdk', 'grpcDown', { path: s.grpcSocket, bytes: STREAM_BYTES, options: SDK_CHANNEL_OPTIONS }],
      ['read', 'portholeRead', { path: s.portholeSocket, name: BIG_ARTIFACT, bytes: STREAM_BYTES }],
    ],
    [
      ['grpcUp', 'grpcUp', { path: s.grpcSocket, bytes: STREAM_BYTES, options: SDK_CHANNEL_OPTIONS }],
      ['fileWrite', 'fileWrite', { dir: s.fileDir, bytes: STREAM_BYTES }],
      ['grpcUpFile', 'grpcUp', { path: s.grpcSocket, bytes: STREAM_BYTES, toFile: true, options: SDK_CHANNEL_OPTIONS }],
      ['write', 'portholeWrite', { path: s.portholeSocket, name: 'bench-output.bin', bytes: STREAM_BYTES }],
    ],
    [
      ['direct1k', 'directFetchLatency', { url: `${s.originUrl}/1k`, measureMs: ms(1000) }],
      ['fetch1k', 'portholeFetchLatency', { path: s.portholeSocket, url: `${s.originUrl}/1k`, measureMs: ms(1000) }],
    ],
    [
      ['direct10m', 'directFetchBulk', { url: `${s.originUrl}/10m`, bytes: FETCH_BULK_BYTES, times: FETCH_BULK_TIMES }],
      ['fetch10m', 'portholeFetchBulk', { path: s.portholeSocket, url: `${s.originUrl}/10m`, bytes: FETCH_BULK_BYTES, times: FETCH_BULK_TIMES }],
    ],
  ];
}

const us = (v) => `${v.toFixed(0)} µs`;
const rps = (v) => `${Math.round(v).toLocaleString('en-US')}/s`;
const mbs = (v) => `${v.toFixed(0)} MB/s`;

/**
 * The rows of the table. `base` and `porthole` read a round's results;
 * `ratio` is computed per round; `goal` judges the median ratio.
 */
export const ROWS = [
  {
    figure: 'Hello round trip p50 (conc 1)', baseline: 'bare grpc-js unary',
    base: (r) => r.grpcUnary1.p50Us, porthole: (r) => r.hello1.p50Us, show: us,
    ratio: (r) => r.grpcUnary1.p50Us / r.hello1.p50Us, goal: '≥ 0.85 ×', ok: (x) => x >= 0.85,
  },
  {
    figure: 'Hello round trip p99 (conc 1)', baseline: 'bare grpc-js unary',
    base: (r) => r.grpcUnary1.p99Us, porthole: (r) => r.hello1.p99Us, show: us,
    ratio: (r) => r.grpcUnary1.p99Us / r.hello1.p99Us, goal: '≥ 0.85 ×', ok: (x) => x >= 0.85,
  },
  {
    figure: 'Hello calls/s, concurrency 1', baseline: 'bare grpc-js unary',
    base: (r) => r.grpcUnary1.perSecond, porthole: (r) => r.hello1.perSecond, show: rps,
    ratio: (r) => r.hello1.perSecond / r.grpcUnary1.perSecond, goal: '≥ 0.85 ×', ok: (x) => x >= 0.85,
  },
  {
    figure: 'Hello calls/s, concurrency 32', baseline: 'bare grpc-js unary',
    base: (r) => r.grpcUnary32.perSecond, porthole: (r) => r.hello32.perSecond, show: rps,
    ratio: (r) => r.hello32.perSecond / r.grpcUnary32.perSecond, goal: '≥ 0.85 ×', ok: (x) => x >= 0.85,
  },
  {
    figure: 'ReadArtifact 256 MiB', baseline: 'bare grpc-js server streaming, SDK channel options',
    base: (r) => r.grpcDownSdk.mbPerSecond, porthole: (r) => r.read.mbPerSecond, show: mbs,
    ratio: (r) => r.read.mbPerSecond / r.grpcDownSdk.mbPerSecond, goal: '≥ 0.9 ×', ok: (x) => x >= 0.9,
  },
  {
    figure: 'ReadArtifact 256 MiB', baseline: 'bare grpc-js server streaming, stock options',
    base: (r) => r.grpcDownStock.mbPerSecond, porthole: (r) => r.read.mbPerSecond, show: mbs,
    ratio: (r) => r.read.mbPerSecond / r.grpcDownStock.mbPerSecond, goal: '≥ 0.9 ×', ok: (x) => x >= 0.9,
  },
  {
    figure: 'ReadArtifact 256 MiB (stretch)', baseline: 'raw UDS one-way bulk',
    base: (r) => r.rawBulk.mbPerSecond, porthole: (r) => r.read.mbPerSecond, show: mbs,
    ratio: (r) => r.read.mbPerSecond / r.rawBulk.mbPerSecond, goal: '≥ 0.25 ×', ok: (x) => x >= 0.25,
  },
  {
    figure: 'WriteOutput 256 MiB, durable', baseline: 'bare grpc-js client streaming into write + fsync + rename',
    base: (r) => r.grpcUpFile.mbPerSecond, porthole: (r) => r.write.mbPerSecond, show: mbs,
    ratio: (r) => r.write.mbPerSecond / r.grpcUpFile.mbPerSecond, goal: '≥ 0.8 ×', ok: (x) => x >= 0.8,
  },
  {
    figure: 'FetchUrl 1 KiB p50, Porthole overhead', baseline: 'bare grpc-js unary p50 + direct undici.request p50',
    base: (r) => r.grpcUnary1.p50Us + r.direct1k.p50Us, porthole: (r) => r.fetch1k.p50Us, show: us,
    ratio: (r) => r.fetch1k.p50Us - r.grpcUnary1.p50Us - r.direct1k.p50Us, showRatio: (x) => `+${x.toFixed(0)} µs`,
    goal: '≤ +50 µs', ok: (x) => x <= 50,
  },
  {
    figure: 'FetchUrl 10 MiB throughput', baseline: 'direct undici.request',
    base: (r) => r.direct10m.mbPerSecond, porthole: (r) => r.fetch10m.mbPerSecond, show: mbs,
    ratio: (r) => r.fetch10m.mbPerSecond / r.direct10m.mbPerSecond, goal: '≥ 0.5 ×', ok: (x) => x >= 0.5,
  },
];

// CPU seconds a server process (all its threads) spent per call over the
// step, warm-up included: steadier than latency on a shared machine.
const cpuPerCall = (result, field) => (result[field] / result.allOps) * 1e6;

/** Context rows: baselines against each other, no goal. */
export const CONTEXT = [
  { name: 'raw UDS 64 B echo p50, conc 1', value: (r) => r.rawEcho.p50Us, show: (v) => `${v.toFixed(1)} µs` },
  { name: 'raw UDS 64 B echo round trips/s, conc 1', value: (r) => r.rawEcho.perSecond, show: rps },
  { name: 'bare grpc-js unary p50 ÷ raw UDS echo p50', value: (r) => r.grpcUnary1.p50Us / r.rawEcho.p50Us, show: (v) => `${v.toFixed(1)} ×` },
  { name: 'raw UDS one-way bulk', value: (r) => r.rawBulk.mbPerSecond, show: mbs },
  { name: 'bare grpc-js client streaming, bytes dropped', value: (r) => r.grpcUp.mbPerSecond, show: mbs },
  { name: 'raw write + fsync + rename + folder fsync, no network', value: (r) => r.fileWrite.mbPerSecond, show: mbs },
  { name: 'server CPU per small call, conc 1: bare grpc-js unary', value: (r) => cpuPerCall(r.grpcUnary1, 'grpcCpuS'), show: us },
  { name: 'server CPU per small call, conc 1: porthole-host Hello', value: (r) => cpuPerCall(r.hello1, 'hostCpuS'), show: us },
  { name: 'server CPU per small call, conc 32: bare grpc-js unary', value: (r) => cpuPerCall(r.grpcUnary32, 'grpcCpuS'), show: us },
  { name: 'server CPU per small call, conc 32: porthole-host Hello', value: (r) => cpuPerCall(r.hello32, 'hostCpuS'), show: us },
  { name: 'porthole-host CPU per FetchUrl 1 KiB', value: (r) => cpuPerCall(r.fetch1k, 'hostCpuS'), show: us },
  { name: 'direct undici.request 1 KiB p50', value: (r) => r.direct1k.p50Us, show: us },
  { name: 'Porthole FetchUrl 1 KiB p50', value: (r) => r.fetch1k.p50Us, show: us },
];
