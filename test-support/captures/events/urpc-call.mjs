#!/usr/bin/env node
// One urpc call on a runsc control socket: writes REQUEST verbatim, prints the reply's exact
// bytes (no newline added) once its top-level object closes, or whatever came before a close.
// Usage: node urpc-call.mjs SOCKET REQUEST [TIMEOUT_MS]
import { connect } from 'node:net';

const [socket, request, timeoutMs = '5000'] = process.argv.slice(2);
if (!socket || request === undefined) {
  process.stderr.write('usage: node urpc-call.mjs SOCKET REQUEST [TIMEOUT_MS]\n');
  process.exit(2);
}

/** Offset just past the first complete top-level JSON value (urpc has no framing), or -1. */
function jsonEnd(buf) {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 0x5c) escaped = true;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

const sock = connect(socket);
let got = Buffer.alloc(0);
const done = (code, why) => {
  process.stdout.write(got);
  if (why) process.stderr.write(`urpc-call: ${why}\n`);
  sock.destroy();
  process.exit(code);
};
const timer = setTimeout(() => done(1, 'timeout'), Number(timeoutMs));
sock.on('connect', () => sock.write(request));
sock.on('data', (chunk) => {
  got = Buffer.concat([got, chunk]);
  const end = jsonEnd(got);
  if (end > 0) {
    clearTimeout(timer);
    got = got.subarray(0, end);
    done(0);
  }
});
sock.on('close', () => done(1, 'closed before a complete reply'));
sock.on('error', (e) => done(1, e.code ?? e.message));
