#!/usr/bin/env node
// The README's demo: a fake runsc fleet (20 healthy, 2 stalled, 1 malicious
// sandbox) in a temporary root, the metric server on 127.0.0.1, a curl line and
// an excerpt of /metrics. Ctrl-C (or DEMO_EXIT_AFTER_MS / --once) removes
// everything it created. Runs the built packages (scripts/demo.sh builds them).

import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFleet } from '@org/metricserver-fake-sandbox';
import { createLogger, startMetricServer } from '@org/metricserver-server';

const HEALTHY = 20;
const STALLED = 2;
const MALICIOUS = 1;
const PER_SANDBOX_TIMEOUT_MS = 2000;

const once = process.argv.includes('--once');
const exitAfterMs = once ? 0 : Number(process.env.DEMO_EXIT_AFTER_MS ?? '');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const root = mkdtempSync(join(tmpdir(), 'runsc-demo-'));
const logPath = join(root, 'metric-server.log');
const logFile = createWriteStream(logPath);
let fleet;
let server;
let cleaned = false;

async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  await server?.close('demo over').catch(() => {});
  await fleet?.close().catch(() => {});
  logFile.end();
  rmSync(root, { recursive: true, force: true });
  console.log(`\nRemoved ${root} (fleet, server socket state and logs).`);
}

try {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  console.log(`Starting ${HEALTHY + STALLED + MALICIOUS} fake sandboxes in ${root} ...`);
  fleet = await createFleet({
    root,
    metricServer: address,
    count: HEALTHY + STALLED + MALICIOUS,
    hosts: 4,
    behaviours: [
      { behaviour: 'no-answer', count: STALLED }, // accepts the connection, never answers
      { behaviour: 'unregistered-metric', count: MALICIOUS }, // exports a metric it never registered
    ],
  });
  server = await startMetricServer({
    root,
    metricServer: address,
    perSandboxTimeoutMs: PER_SANDBOX_TIMEOUT_MS,
    logger: createLogger((line) => logFile.write(`${line}\n`)),
  });
  console.log(
    `Metric server on http://${server.address}/ (per-sandbox deadline ${PER_SANDBOX_TIMEOUT_MS} ms; log: ${logPath})`,
  );
  console.log(`\n  curl -s http://${server.address}/metrics | less\n`);
  const t0 = Date.now();
  const body = await (await fetch(`http://${server.address}/metrics`)).text();
  const took = Date.now() - t0;
  const lines = body.split('\n');
  const meta = lines.filter((l) => /^runsc_meta_num_sandboxes_\w+ /.test(l));
  const sample = lines.filter((l) => /^runsc_fs_opens\{/.test(l)).slice(0, 3);
  console.log(
    `First scrape: ${body.length} bytes, ${lines.length} lines in ${took} ms (the stalled sandboxes cost one deadline, in parallel).`,
  );
  console.log('Excerpt:');
  for (const l of [...meta, ...sample]) console.log(`  ${l}`);
  console.log(
    `  ... (${STALLED} stalled + ${MALICIOUS} malicious sandbox counted in num_sandboxes_broken_metrics; the rest served)`,
  );
} catch (err) {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  await cleanup();
  process.exit(1);
}

const finish = async (why) => {
  console.log(`\n${why}: shutting down.`);
  await cleanup();
  process.exit(0);
};
process.once('SIGINT', () => void finish('Ctrl-C'));
process.once('SIGTERM', () => void finish('SIGTERM'));
if (Number.isFinite(exitAfterMs) && (once || exitAfterMs > 0)) {
  setTimeout(() => void finish(once ? '--once' : `DEMO_EXIT_AFTER_MS=${exitAfterMs}`), exitAfterMs);
} else {
  console.log('\nPress Ctrl-C to stop and remove everything.');
}
