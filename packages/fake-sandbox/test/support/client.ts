// A minimal urpc client for tests: sends raw bytes, collects what comes back
// until the socket closes, a complete JSON object arrived, or a deadline.

import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RawResult {
  readonly bytes: Buffer;
  /** Why collecting ended. */
  readonly end: 'complete' | 'closed' | 'timeout' | 'error';
  readonly error?: string;
  readonly ms: number;
}

/** Byte offset just past the first complete top-level JSON object, or -1. */
export function jsonEnd(buf: Buffer): number {
  let depth = 0;
  let inStr = false;
  let esc = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i] as number;
    if (inStr) {
      if (esc) esc = false;
      else if (c === 0x5c) esc = true;
      else if (c === 0x22) inStr = false;
    } else if (c === 0x22) inStr = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

export function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Reads from an open socket until one JSON object, close, or `timeoutMs`. */
export function readReply(sock: Socket, timeoutMs: number, maxBytes = 1 << 30): Promise<RawResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let len = 0;
    const finish = (end: RawResult['end'], error?: string): void => {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('close', onClose);
      sock.off('error', onError);
      resolve({ bytes: Buffer.concat(chunks), end, ms: Date.now() - t0, ...(error ? { error } : {}) });
    };
    const onData = (c: Buffer): void => {
      chunks.push(c);
      len += c.length;
      if (len > maxBytes) {
        finish('complete');
        return;
      }
      if (jsonEnd(Buffer.concat(chunks)) > 0) finish('complete');
    };
    const onClose = (): void => finish('closed');
    const onError = (e: NodeJS.ErrnoException): void => finish('error', e.code ?? e.message);
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    sock.on('data', onData);
    sock.on('close', onClose);
    sock.on('error', onError);
  });
}

/** One call on a fresh connection. */
export async function call(path: string, request: string, timeoutMs = 2000): Promise<RawResult> {
  const sock = await openSocket(path);
  try {
    sock.write(request);
    return await readReply(sock, timeoutMs);
  } finally {
    sock.destroy();
  }
}

export const EXPORT_ALL = '{"method":"Metrics.Export","arg":{"only_metrics":""}}';
export const exportReq = (filter: string): string =>
  `{"method":"Metrics.Export","arg":{"only_metrics":${JSON.stringify(filter)}}}`;

/** A fresh, not yet existing, short root (socket paths must stay under 108 bytes); the fleet creates and removes it. */
export function shortRoot(): string {
  return join(tmpdir(), `fsb-${randomBytes(6).toString('hex')}`);
}
