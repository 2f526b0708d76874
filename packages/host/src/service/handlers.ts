import type {
  sendUnaryData,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
} from '@grpc/grpc-js';
import { PortholeError, type wire } from '@porthole/shared';

import { runMetered } from '../accounting/cpu-meter.js';
import type { ActionName, CallScope } from '../actions/call-scope.js';
import { fetchUrl } from '../actions/fetch-url.js';
import { hello } from '../actions/hello.js';
import { listArtifacts } from '../actions/list-artifacts.js';
import { readArtifact } from '../actions/read-artifact.js';
import { writeOutput } from '../actions/write-output.js';
import type { Sandbox } from '../sandbox/sandbox.js';

type Call = ServerUnaryCall<unknown, unknown> | ServerReadableStream<unknown, unknown> | ServerWritableStream<unknown, unknown>;

/** The sandbox in force on a call's connection; undefined is a host fault. */
export type SandboxOf = (call: Call) => Sandbox | undefined;

/**
 * The gRPC handlers of the sandbox sockets. `current` gives the policy in
 * force for the connection a call arrived on: each call takes it once, when
 * it starts, so a reload applies to new calls while calls in progress
 * finish under their own. No handler reads an identity from a message.
 */
export function sandboxHandlers(current: SandboxOf): wire.PortholeHandlers {
  return {
    Hello: reply(current, 'Hello', (sandbox, _scope, call: ServerUnaryCall<wire.HelloRequest, wire.HelloResponse>) => hello(sandbox, call.request)),
    ListArtifacts: reply(current, 'ListArtifacts', (sandbox) => listArtifacts(sandbox)),
    WriteOutput: reply(current, 'WriteOutput', (sandbox, scope, call: ServerReadableStream<wire.WriteOutputRequestOut, wire.WriteOutputResponse>) => writeOutput(sandbox, scope, call)),
    ReadArtifact: stream(current, 'ReadArtifact', (sandbox, scope, call: ServerWritableStream<wire.ReadArtifactRequest, wire.ReadArtifactResponse>) => readArtifact(sandbox, scope, call)),
    FetchUrl: stream(current, 'FetchUrl', (sandbox, scope, call: ServerWritableStream<wire.FetchUrlRequest, wire.FetchUrlResponse>) => fetchUrl(sandbox, scope, call)),
  };
}

/**
 * Runs one call: takes the sandbox's policy in force, admits the call,
 * charges its CPU, and hands the outcome to `done` or `failed`.
 */
function serve<C extends Call, R>(
  current: SandboxOf,
  action: ActionName,
  call: C,
  run: (sandbox: Sandbox, scope: CallScope, call: C) => R | Promise<R>,
  done: (result: R) => void,
  failed: (error: PortholeError) => void,
): void {
  const sandbox = current(call);
  if (!sandbox) {
    failed(new PortholeError('UNAVAILABLE', 'the host could not tell which sandbox this connection belongs to; see the host log'));
    return;
  }
  const scope = sandbox.scope(action);
  const succeed = (result: R): void => {
    scope.succeed();
    done(result);
  };
  const fail = (error: unknown): void => failed(scope.fail(error));
  // An action that answers without I/O (Hello) is answered in this turn:
  // no promise hop between the request and the reply.
  const body = (): void => {
    let result: R | Promise<R>;
    try {
      scope.admit();
      result = run(sandbox, scope, call);
    } catch (error) {
      fail(error);
      return;
    }
    if (result instanceof Promise) result.then(succeed, fail);
    else succeed(result);
  };
  if (sandbox.meterCpu) runMetered(scope, body);
  else body();
  // grpc-js emits 'cancelled' in a later tick, for every call, also one
  // that has ended: a call answered in this turn (Hello) needs no listener.
  if (!scope.ended) (call as NodeJS.EventEmitter).on('cancelled', () => scope.cancel());
}

/** A handler answered by one message: unary and client-streaming calls. */
function reply<C extends Call, R>(
  current: SandboxOf,
  action: ActionName,
  run: (sandbox: Sandbox, scope: CallScope, call: C) => R | Promise<R>,
) {
  return (call: C, callback: sendUnaryData<R>): void =>
    serve(current, action, call, run, (result) => callback(null, result), (error) => callback(error.toServiceError()));
}

/** A handler answered by a stream: the status follows the last message sent. */
function stream<C extends ServerWritableStream<unknown, unknown>>(
  current: SandboxOf,
  action: ActionName,
  run: (sandbox: Sandbox, scope: CallScope, call: C) => Promise<void>,
) {
  return (call: C): void =>
    serve(current, action, call, run, () => call.end(), (error) => call.emit('error', error.toServiceError()));
}
