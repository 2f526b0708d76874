// The direct fetch baseline: undici.request from the client process to the
// 127.0.0.1 origin, bodies read fully.
import { request } from 'undici';

import { closedLoop, timeTransfer } from '../lib/closed-loop.mjs';

async function fetchAll(url) {
  const { body } = await request(url);
  let got = 0;
  for await (const part of body) got += part.length;
  return got;
}

export function directFetchLatency({ url, measureMs }) {
  return closedLoop({ op: () => fetchAll(url), measureMs });
}

/** `times` sequential fetches of a `bytes` body, timed together. */
export function directFetchBulk({ url, bytes, times = 1 }) {
  return timeTransfer(bytes * times, async () => {
    let got = 0;
    for (let i = 0; i < times; i++) got += await fetchAll(url);
    return got;
  });
}
