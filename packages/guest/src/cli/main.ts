import { constants, createWriteStream } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { access, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadable } from 'node:stream/web';
import { parseArgs, type ParseArgsConfig } from 'node:util';

import { parseArgsProblem, PortholeError, REASON_EXIT_CODE } from '@porthole/shared';

import { connect, type Porthole } from '../client.js';
import { SDK_VERSION } from '../version.js';

// Each command's synopsis and what it does; the help lists them in order.
const SYNOPSES: Record<string, [synopsis: string, what: string]> = {
  hello: ['hello', "the host's handshake answer, as JSON"],
  ls: ['ls [--json]', 'list artifacts: name, size'],
  read: ['read NAME [-o FILE] [--offset N] [--length N]', "an artifact's bytes to stdout or FILE"],
  write: ['write NAME [FILE|-] [--content-type T] [--key K]', 'store an output from FILE or stdin'],
  fetch: ["fetch URL [-X METHOD] [-H 'K: V']... [-d DATA|@FILE|@-] [-o FILE] [-i] [-f]", 'an HTTP exchange through the host'],
};

const USAGE = `usage: porthole [--address ADDR] COMMAND ...

${Object.values(SYNOPSES).map(([synopsis, what]) => `  ${synopsis}\n      ${what}`).join('\n')}

ADDR defaults to $PORTHOLE_ADDRESS (unix:PATH or vsock:CID:PORT), or,
when that is unset and /dev/vsock exists, vsock:2:52 (the host seen from
a VM; set PORTHOLE_ADDRESS= to turn that off). Results go to stdout, errors
to stderr. Exit codes: 0 ok, 1 unexpected, 2 usage (a bad command line
or address), 3 fetch -f got an HTTP error status, and one per refusal
reason:
${Object.entries(REASON_EXIT_CODE).map(([r, c]) => `  ${c} ${r}`).join('\n')}`;

const EXIT_USAGE = 2;
const EXIT_HTTP_ERROR = 3;

class UsageError extends Error {}

/** The short form a usage error ends with: the one command, or the list. */
function shortUsage(command: string | undefined): string {
  const known = command === undefined ? undefined : SYNOPSES[command];
  const line = known ? `usage: porthole [--address ADDR] ${known[0]}` : `commands: ${Object.keys(SYNOPSES).join(', ')}`;
  return `${line}\n'porthole --help' explains every command, the address and the exit codes`;
}

type Io = { stdin: Readable; stdout: Writable; stderr: Writable };

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[], io: Io = process): Promise<number> {
  const [first, ...rest] = argv;
  let args = argv;
  let address: string | undefined;
  if (first === '--address' || first?.startsWith('--address=')) {
    address = first.includes('=') ? first.slice('--address='.length) : rest.shift();
    args = rest;
  }
  const [command, ...commandArgs] = args;
  if (command === '--version') {
    io.stdout.write(`porthole ${SDK_VERSION}\n`);
    return 0;
  }
  if (command === undefined || command === '-h' || command === '--help') {
    (command ? io.stdout : io.stderr).write(`${USAGE}\n`);
    return command ? 0 : EXIT_USAGE;
  }

  const run = COMMANDS[command];
  if (run && (commandArgs.includes('-h') || commandArgs.includes('--help'))) {
    const [synopsis, what] = SYNOPSES[command]!;
    io.stdout.write(`usage: porthole [--address ADDR] ${synopsis}\n  ${what}\n`);
    return 0;
  }

  let client: Porthole | undefined;
  try {
    if (!run) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    client = connect(address === undefined ? {} : { address });
    return await run(client, commandArgs, io);
  } catch (error) {
    // The reader of our stdout stopped early (`porthole read X | head`): it
    // has what it wanted, as with any Unix tool.
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') return 0;
    if (error instanceof UsageError || isParseError(error)) {
      const known = run ? `${command}: ` : '';
      io.stderr.write(`porthole: ${known}${parseArgsProblem(error as Error)}\n${shortUsage(run ? command : undefined)}\n`);
      return EXIT_USAGE;
    }
    const failure = PortholeError.from(error);
    // A missing or malformed address is the caller's setup, not a refusal.
    if (failure.code === 'INVALID_ARGUMENT' && failure.field === 'address') {
      const problem = failure.message.startsWith('no address')
        ? 'no address: pass --address ADDR or set PORTHOLE_ADDRESS (unix:PATH or vsock:CID:PORT)'
        : failure.message;
      io.stderr.write(`porthole: ${problem}\n`);
      return EXIT_USAGE;
    }
    const field = failure.field ? ` [${failure.field}]` : '';
    const retry = failure.retryAfterMs === undefined ? '' : ` (retry after ${failure.retryAfterMs} ms)`;
    io.stderr.write(`porthole: ${failure.code}${field}: ${failure.message}${retry}\n`);
    return REASON_EXIT_CODE[failure.code];
  } finally {
    client?.close();
  }
}

type Command = (client: Porthole, args: string[], io: Io) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  async hello(client, args, io) {
    parse(args, {}, []);
    io.stdout.write(`${JSON.stringify(await client.hello(), null, 2)}\n`);
    return 0;
  },

  async ls(client, args, io) {
    const { values } = parse(args, { json: { type: 'boolean' } }, []);
    const artifacts = await client.listArtifacts();
    io.stdout.write(values.json
      ? `${JSON.stringify(artifacts)}\n`
      : artifacts.map((a) => `${a.name}\t${a.size}\n`).join(''));
    return 0;
  },

  async read(client, args, io) {
    const { values, positionals } = parse(args, {
      output: { type: 'string', short: 'o' },
      offset: { type: 'string' },
      length: { type: 'string' },
    }, ['NAME']);
    const range: { offset?: number; length?: number } = {};
    if (values.offset !== undefined) range.offset = wholeNumber('--offset', values.offset);
    if (values.length !== undefined) range.length = wholeNumber('--length', values.length);
    await checkWritable('-o', values.output);
    const stream = await client.readArtifact(positionals[0]!, range);
    await intoDestination(values.output, io, (out) => pipeline(stream, out));
    return 0;
  },

  async write(client, args, io) {
    const { values, positionals } = parse(args, {
      'content-type': { type: 'string' },
      key: { type: 'string' },
    }, ['NAME'], ['FILE']);
    const source = positionals[1] ?? '-';
    const data = source === '-' ? io.stdin : (await openLocal(source, 'r', 'FILE')).createReadStream();
    const stored = await client.writeOutput(positionals[0]!, data as AsyncIterable<Uint8Array>, {
      ...(values['content-type'] === undefined ? {} : { contentType: values['content-type'] }),
      ...(values.key === undefined ? {} : { idempotencyKey: values.key }),
    });
    io.stdout.write(`${JSON.stringify(stored)}\n`);
    return 0;
  },

  async fetch(client, args, io) {
    const { values, positionals } = parse(args, {
      request: { type: 'string', short: 'X' },
      header: { type: 'string', short: 'H', multiple: true },
      data: { type: 'string', short: 'd' },
      output: { type: 'string', short: 'o' },
      include: { type: 'boolean', short: 'i' },
      fail: { type: 'boolean', short: 'f' },
    }, ['URL']);
    const headers = (values.header ?? []).map((line): [string, string] => {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new UsageError(`-H ${JSON.stringify(line)}: expected 'Name: value'`);
      return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
    });
    const body = values.data === undefined ? undefined : await dataArgument(values.data, io.stdin);
    await checkWritable('-o', values.output);
    const method = values.request ?? (body === undefined ? 'GET' : 'POST');

    const response = await client.fetch(positionals[0]!, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    await intoDestination(values.output, io, async (out) => {
      if (values.include) {
        const lines = [`HTTP ${response.status} ${response.statusText}`.trimEnd()];
        for (const [name, value] of response.headers) lines.push(`${name}: ${value}`);
        out.write(`${lines.join('\r\n')}\r\n\r\n`);
      }
      await pipeline(Readable.fromWeb(response.body as WebReadable), out);
    });
    if (values.fail && response.status >= 400) {
      io.stderr.write(`porthole: ${positionals[0]} answered HTTP ${response.status}\n`);
      return EXIT_HTTP_ERROR;
    }
    return 0;
  },
};

/** Parses flags; `needed` and `optional` name the positional arguments. */
function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, needed: string[], optional: string[] = []) {
  const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  const count = parsed.positionals.length;
  if (count < needed.length) throw new UsageError(`missing ${needed.slice(count).join(' ')}`);
  const extra = parsed.positionals.slice(needed.length + optional.length);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  return parsed;
}

function wholeNumber(flag: string, text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${flag} ${JSON.stringify(text)}: expected a whole number of bytes`);
  }
  return Number(text);
}

async function dataArgument(text: string, stdin: Readable): Promise<Buffer> {
  if (text === '@-') return Buffer.concat(await stdin.toArray());
  if (text.startsWith('@')) {
    const handle = await openLocal(text.slice(1), 'r', '-d');
    try {
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }
  return Buffer.from(text);
}

// A file named on the command line that cannot be opened is a bad command
// line (exit 2), found before anything is asked of the host.
async function openLocal(path: string, flags: 'r', what: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, flags);
  } catch (error) {
    throw new UsageError(`${what} ${JSON.stringify(path)}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  // A folder opens for reading and fails only when read, after the request
  // has started; pipes and devices are fine sources.
  if ((await handle.stat()).isDirectory()) {
    await handle.close();
    throw new UsageError(`${what} ${JSON.stringify(path)}: is a folder, not a file`);
  }
  return handle;
}

/** Refuses an output file whose folder cannot be written, before any request. */
async function checkWritable(flag: string, file: string | undefined): Promise<void> {
  if (file === undefined || file === '-') return;
  try {
    await access(dirname(resolve(file)), constants.W_OK);
  } catch (error) {
    throw new UsageError(`${flag} ${JSON.stringify(file)}: its folder cannot be written (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * Runs `fill` on stdout, or on FILE written through a temporary file beside
 * it and renamed once whole: a transfer that fails part way (a refusal for
 * size, a timeout, a lost host) leaves a FILE that was there as it was.
 */
async function intoDestination(file: string | undefined, io: Io, fill: (out: Writable) => Promise<void>): Promise<void> {
  if (file === undefined || file === '-') return fill(stdoutWriter(io));
  const temporary = join(dirname(resolve(file)), `.${basename(file)}.${process.pid}.part`);
  try {
    await fill(createWriteStream(temporary, { flags: 'wx' }));
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

// stdout is not ended by pipeline: other output may follow and the process
// owns it.
function stdoutWriter(io: Io): Writable {
  const { stdout } = io;
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (stdout.write(chunk)) done();
      else stdout.once('drain', () => done());
    },
  });
  const fail = (error: Error): void => {
    out.destroy(error);
  };
  stdout.once('error', fail);
  out.once('close', () => stdout.off('error', fail));
  return out;
}

function isParseError(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? '';
  return code.startsWith('ERR_PARSE_ARGS');
}
