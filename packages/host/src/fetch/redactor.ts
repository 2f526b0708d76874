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
   * chunks. Only a tail that could be the start of a secret is held back
   * for the next chunk: a stream that pauses after "tick 1" must deliver
   * it then, not a chunk later or never.
   */
  stream(): Transform {
    const needles = this.needles;
    let carry: Buffer = Buffer.alloc(0);
    const replace = (data: Buffer): Buffer => {
      let out = data;
      for (const needle of needles) out = replaceAll(out, needle);
      return out;
    };
    return new Transform({
      transform(chunk: Buffer, _encoding, done) {
        const data = replace(carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk);
        const cut = data.length - secretStartAtEnd(data, needles);
        carry = data.subarray(cut);
        done(null, cut > 0 ? data.subarray(0, cut) : undefined);
      },
      flush(done) {
        done(null, carry.length > 0 ? replace(carry) : null);
      },
    });
  }
}

/** The length of the longest end of `data` that some needle starts with, short of the whole needle. */
function secretStartAtEnd(data: Buffer, needles: Buffer[]): number {
  let longest = 0;
  for (const needle of needles) {
    for (let length = Math.min(needle.length - 1, data.length); length > longest; length--) {
      if (data.compare(needle, 0, length, data.length - length) === 0) {
        longest = length;
        break;
      }
    }
  }
  return longest;
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
