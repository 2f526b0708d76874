import { describe, expect, it } from 'vitest';

import { formatAddress, hybridVsockPath, parseAddress } from './address.js';

describe('parseAddress', () => {
  it.each([
    ['unix:/run/p.sock', { kind: 'unix', path: '/run/p.sock' }],
    ['unix:///run/p.sock', { kind: 'unix', path: '/run/p.sock' }],
    ['unix:relative.sock', { kind: 'unix', path: 'relative.sock' }],
    ['vsock:2:52', { kind: 'vsock', cid: 2, port: 52 }],
    ['vsock:4294967295:1', { kind: 'vsock', cid: 4294967295, port: 1 }],
  ])('parses %s', (text, expected) => {
    expect(parseAddress(text)).toEqual(expected);
    expect(formatAddress(parseAddress(text))).toBe(text.replace('unix:///', 'unix:/'));
  });

  it.each([
    ['', "address '': expected unix:PATH or vsock:CID:PORT"],
    ['tcp:127.0.0.1:80', "address 'tcp:127.0.0.1:80': expected unix:PATH or vsock:CID:PORT"],
    ['unix:', "address 'unix:': unix: needs a socket path"],
    ['unix:/a\0b', "address 'unix:/a\0b': the path holds a NUL byte"],
    ['vsock:2', "address 'vsock:2': expected vsock:CID:PORT"],
    ['vsock:x:52', "address 'vsock:x:52': expected vsock:CID:PORT"],
    ['vsock:-1:52', "address 'vsock:-1:52': expected vsock:CID:PORT"],
    ['vsock:2:4294967296', "address 'vsock:2:4294967296': port must be 0 to 4294967295"],
  ])('refuses %j', (text, message) => {
    expect(() => parseAddress(text)).toThrow(message);
  });

  it('names the host socket the way Firecracker does', () => {
    expect(hybridVsockPath('/run/vm1/v.sock', 52)).toBe('/run/vm1/v.sock_52');
  });
});
