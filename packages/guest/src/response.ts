import { PortholeError, type wire } from '@porthole/shared';

/**
 * The answer to `fetch`, shaped like the WHATWG Response: status and
 * headers are known when it resolves; the body streams as it is read.
 */
export class PortholeResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  /** The URL of the last hop, after redirects the host followed. */
  readonly url: string;
  readonly redirected: boolean;
  readonly body: ReadableStream<Uint8Array>;
  private used = false;

  constructor(head: wire.FetchHead, body: ReadableStream<Uint8Array>) {
    this.status = head.status;
    this.statusText = head.statusText;
    this.headers = new Headers();
    for (const { name, value } of head.headers) this.headers.append(name ?? '', value ?? '');
    this.url = head.finalUrl;
    this.redirected = head.redirects > 0;
    this.body = body;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status <= 299;
  }

  get bodyUsed(): boolean {
    return this.used;
  }

  async bytes(): Promise<Uint8Array> {
    if (this.used) throw new TypeError('the body was already read');
    this.used = true;
    const parts: Uint8Array[] = [];
    let total = 0;
    for await (const part of this.body) {
      parts.push(part);
      total += part.length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.bytes();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }

  async json(): Promise<unknown> {
    const text = await this.text();
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new PortholeError('UPSTREAM_ERROR', `the body of ${this.url} is not JSON: ${(error as Error).message}`, { cause: error });
    }
  }
}
