// Writing to a client that may be slow or gone: waits for 'drain' (backpressure)
// and gives up as soon as the socket is closed.
import type { Socket } from 'node:net';

export function waitWritable(sock: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      sock.off('drain', done);
      sock.off('close', done);
      resolve();
    };
    sock.on('drain', done);
    sock.on('close', done);
  });
}

/** Writes `chunk` repeatedly until `totalBytes` (Infinity: until the client goes away), then `tail`. */
export async function streamRepeated(
  sock: Socket,
  head: string,
  chunk: Buffer,
  totalBytes: number,
  tail: string,
): Promise<void> {
  let sent = Buffer.byteLength(head);
  if (!sock.write(head)) await waitWritable(sock);
  const tailBytes = Buffer.byteLength(tail);
  while (!sock.destroyed && sent + chunk.length + tailBytes <= totalBytes) {
    sent += chunk.length;
    if (!sock.write(chunk)) await waitWritable(sock);
  }
  if (!sock.destroyed) sock.write(tail);
}
