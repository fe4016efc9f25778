// Plain HTTP sent to the TLS port. Go's net/http (which exporter-toolkit serves
// with) recognises a TLS record header that is really the start of an HTTP
// request and answers with a bare 400 instead of a silent handshake failure, so
// an operator who typed http:// sees why. Node's TLS server would just drop the
// connection; this puts a sniffer in front of it.
//
// The first bytes of each accepted connection are read (never more than a TLS
// record header, 5 bytes, decide), then either answered or pushed back with
// unshift() before the TLS server's own connection listener wraps the socket:
// node's TLSSocket feeds bytes already buffered on the socket into the handshake.

import type net from 'node:net';
import type tls from 'node:tls';

/** Exactly Go's answer (net/http), HTTP/1.0, no headers. */
export const PLAINTEXT_ON_TLS_RESPONSE =
  'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n';

/**
 * The five-byte prefixes Go treats as HTTP (it checks the would-be TLS record
 * header against these and nothing else); other methods get a TLS failure there
 * as here.
 */
const HTTP_PREFIXES = ['GET /', 'HEAD ', 'POST ', 'PUT /', 'OPTIO'].map((p) => Buffer.from(p, 'latin1'));
const RECORD_HEADER_BYTES = 5;

/** After the 400, how long a client that keeps its side open may linger before the socket is destroyed. */
const LINGER_MS = 1000;

export type SniffVerdict = 'tls' | 'http' | 'undecided';

/** Classifies the bytes received so far: TLS (hand over), HTTP (answer 400), or wait for more. */
export function classifyFirstBytes(head: Buffer): SniffVerdict {
  const n = Math.min(head.length, RECORD_HEADER_BYTES);
  if (n === 0) return 'undecided';
  const seen = head.subarray(0, n);
  const candidates = HTTP_PREFIXES.filter((p) => p.subarray(0, n).equals(seen));
  if (candidates.length === 0) return 'tls'; // a handshake (0x16) or garbage the TLS layer will refuse
  return n === RECORD_HEADER_BYTES ? 'http' : 'undecided';
}

export interface SniffOptions {
  /**
   * Bound on the wait for the first bytes (the server's header timeout): a client
   * that connects and sends nothing is closed after it, not kept forever.
   */
  readonly timeoutMs: number;
}

/**
 * Puts the sniffer in front of `server`'s own connection listener(s). Call once,
 * before listen(). Works the same for TCP and unix-socket listeners.
 */
export function guardPlaintextOnTls(
  server: tls.Server & { closeAllConnections?: () => void },
  opts: SniffOptions,
): void {
  const tlsListeners = server.listeners('connection') as Array<(socket: net.Socket) => void>;
  server.removeAllListeners('connection');
  // Sockets still being sniffed: not HTTP connections yet, so node:http's
  // closeAllConnections() would not see them and server.close() would wait for
  // their timeout. Owned by the listener below (adds) and each socket's 'close' (deletes).
  const sniffing = new Set<net.Socket>();
  const closeAll = server.closeAllConnections;
  if (typeof closeAll === 'function') {
    server.closeAllConnections = function closeAllConnections(this: typeof server): void {
      for (const s of sniffing) s.destroy();
      closeAll.call(this);
    };
  }
  server.on('connection', (socket: net.Socket) => {
    sniffing.add(socket);
    sniff(socket, opts.timeoutMs, () => {
      sniffing.delete(socket);
      for (const l of tlsListeners) l.call(server, socket);
    });
    socket.once('close', () => sniffing.delete(socket));
  });
}

/**
 * Reads from `socket` until classifyFirstBytes decides. The state below (the
 * bytes read so far, the timer) is owned by this one socket's listeners and is
 * dropped once a verdict is reached.
 */
function sniff(socket: net.Socket, timeoutMs: number, handOver: () => void): void {
  let head: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  const stop = (): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('error', onError);
    socket.off('close', stop);
  };
  // A peer that resets or half-closes before deciding had no TLS session to lose: just close.
  const onError = (): void => {
    stop();
    socket.destroy();
  };
  const onEnd = (): void => {
    stop();
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    const verdict = classifyFirstBytes(head);
    if (verdict === 'undecided') return;
    stop();
    if (verdict === 'tls') {
      // Stop the flow before the TLS layer takes over; it reads what we push back.
      socket.pause();
      socket.unshift(head);
      handOver();
      return;
    }
    answerPlaintext(socket);
  };
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', onError);
  // Destroyed from outside (shutdown): drop the timer with it.
  socket.on('close', stop);
}

function answerPlaintext(socket: net.Socket): void {
  // Keep draining what the client still sends: closing with unread bytes makes the
  // kernel send a reset, which can destroy the 400 before the client reads it.
  socket.on('data', () => {});
  socket.on('error', () => socket.destroy());
  const linger = setTimeout(() => socket.destroy(), LINGER_MS);
  socket.once('close', () => clearTimeout(linger));
  socket.end(PLAINTEXT_ON_TLS_RESPONSE);
}
