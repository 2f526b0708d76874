import { Transform } from 'node:stream';

const MARK = '[redacted]';

/**
 * Replaces injected secrets wherever the guest could see them: headers,
 * URLs, messages and body bytes. An upstream that echoes a credential back
 * must not hand it to the guest.
 */
export class Redactor {
  private readonly secrets: string[];
  private readonly needles: Buffer[];

  constructor(secrets: Iterable<string>) {
    this.secrets = [...new Set(secrets)].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
    this.needles = this.secrets.map((s) => Buffer.from(s));
  }

  get active(): boolean {
    return this.secrets.length > 0;
  }

  text(value: string): string {
    let out = value;
    for (const secret of this.secrets) out = out.replaceAll(secret, MARK);
    return out;
  }

  /**
   * A byte stream with every secret replaced, including one split across
   * chunks: the longest secret's length minus one byte is held back.
   */
  stream(): Transform {
    const keep = Math.max(0, ...this.needles.map((n) => n.length - 1));
    let carry: Buffer = Buffer.alloc(0);
    const replace = (data: Buffer): Buffer => {
      let out = data;
      for (const needle of this.needles) out = replaceAll(out, needle);
      return out;
    };
    return new Transform({
      transform(chunk: Buffer, _encoding, done) {
        const data = replace(Buffer.concat([carry, chunk]));
        const cut = Math.max(0, data.length - keep);
        carry = data.subarray(cut);
        done(null, data.subarray(0, cut));
      },
      flush(done) {
        done(null, carry.length > 0 ? replace(carry) : null);
      },
    });
  }
}

function replaceAll(data: Buffer, needle: Buffer): Buffer {
  let at = data.indexOf(needle);
  if (at < 0) return data;
  const parts: Buffer[] = [];
  let from = 0;
  const mark = Buffer.from(MARK);
  while (at >= 0) {
    parts.push(data.subarray(from, at), mark);
    from = at + needle.length;
    at = data.indexOf(needle, from);
  }
  parts.push(data.subarray(from));
  return Buffer.concat(parts);
}
