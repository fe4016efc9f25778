// Typed failures of one urpc call. Every error names the method and the
// socket so an operator can tell which sandbox misbehaved and how.

import { ExpectedError } from '../errors/index.js';

export type UrpcErrorKind = 'timeout' | 'too-large' | 'remote' | 'protocol' | 'connect' | 'closed';

export abstract class UrpcError extends ExpectedError {
  abstract readonly kind: UrpcErrorKind;
  constructor(
    readonly method: string,
    readonly socketPath: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`urpc ${method} on ${socketPath}: ${message}`, options);
  }
}

/** The call's deadline passed (or its AbortSignal fired); the socket was destroyed. */
export class UrpcTimeout extends UrpcError {
  override readonly name = 'UrpcTimeout';
  readonly kind = 'timeout' as const;
}

/** The response grew beyond `maxResponseBytes`; the socket was destroyed. */
export class UrpcTooLarge extends UrpcError {
  override readonly name = 'UrpcTooLarge';
  readonly kind = 'too-large' as const;
  constructor(
    method: string,
    socketPath: string,
    readonly limit: number,
  ) {
    super(method, socketPath, `response exceeds the limit of ${limit} bytes; connection closed`);
  }
}

/** The sandbox answered `success:false`; `remoteMessage` is its `err` verbatim. */
export class UrpcRemoteError extends UrpcError {
  override readonly name = 'UrpcRemoteError';
  readonly kind = 'remote' as const;
  constructor(
    method: string,
    socketPath: string,
    readonly remoteMessage: string,
  ) {
    super(method, socketPath, `sandbox returned an error: ${remoteMessage}`);
  }
}

/** The bytes received are not a well-formed urpc response (or its result is not what the method returns). */
export class UrpcProtocolError extends UrpcError {
  override readonly name = 'UrpcProtocolError';
  readonly kind = 'protocol' as const;
}

/** Could not connect (ENOENT, ECONNREFUSED, EAGAIN on a full backlog, EACCES...). Never retried here. */
export class UrpcConnectError extends UrpcError {
  override readonly name = 'UrpcConnectError';
  readonly kind = 'connect' as const;
  constructor(
    method: string,
    socketPath: string,
    readonly code: string | undefined,
    cause: unknown,
  ) {
    super(
      method,
      socketPath,
      `cannot connect to the control socket (${code ?? 'unknown error'}): ${errorText(cause)}`,
      {
        cause,
      },
    );
  }
}

/** The sandbox closed (or reset) the connection before a complete response arrived. */
export class UrpcClosedError extends UrpcError {
  override readonly name = 'UrpcClosedError';
  readonly kind = 'closed' as const;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
