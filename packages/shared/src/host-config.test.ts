import { describe, expect, it } from 'vitest';

import { sizeSchema } from './host-config.js';

describe('sizes in the host config', () => {
  it.each([
    [1024, 1024],
    ['0', 0],
    ['512B', 512],
    ['64KiB', 65536],
    ['10MB', 10_000_000],
    ['1.5MiB', 1572864],
    [' 2 GiB ', 2 * 1024 ** 3],
  ])('reads %j as %d bytes', (input, bytes) => {
    expect(sizeSchema.parse(input)).toBe(bytes);
  });

  it.each([['ten'], ['10 parsecs'], [-1], [1.5], ['1.3B'], [2 ** 60]])('refuses %j', (input) => {
    const result = sizeSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe(`expected a size in bytes such as 1048576 or "1MiB", got ${JSON.stringify(input)}`);
  });
});
