import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { cpuProfileDurationMs } from '../../src/profile.js';
import { get } from '../support/http-client.js';
import { startTestServer } from '../support/server.js';

describe('profiling endpoints', () => {
  it('are 404 without --allow-profiling', async () => {
    const s = await startTestServer();
    expect((await get(s.target, '/runsc-metrics/profile-cpu')).status).toBe(404);
    expect((await get(s.target, '/runsc-metrics/profile-heap')).status).toBe(404);
  });

  it('profile-cpu sends 200 at once and a .cpuprofile after `seconds`', async () => {
    const s = await startTestServer({ allowProfiling: true });
    expect(s.log.records().some((r) => String(r.msg).startsWith('Profiling HTTP endpoints are exposed'))).toBe(true);
    const t0 = Date.now();
    const headersAt = await new Promise<number>((resolve, reject) => {
      const req = http.get(
        { host: '127.0.0.1', port: s.target.port, path: '/runsc-metrics/profile-cpu?seconds=1' },
        (res) => {
          const at = Date.now() - t0;
          expect(res.statusCode).toBe(200);
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => {
            const profile = JSON.parse(body) as { nodes: unknown[]; startTime: number; endTime: number };
            expect(Array.isArray(profile.nodes)).toBe(true);
            expect(profile.endTime - profile.startTime).toBeGreaterThanOrEqual(900_000); // microseconds
            resolve(at);
          });
        },
      );
      req.on('error', reject);
    });
    expect(headersAt).toBeLessThan(800);
  });

  it('answers a second concurrent CPU profile with an empty 200', async () => {
    const s = await startTestServer({ allowProfiling: true });
    const first = get(s.target, '/runsc-metrics/profile-cpu?seconds=1');
    await new Promise((r) => setTimeout(r, 200));
    const second = await get(s.target, '/runsc-metrics/profile-cpu?seconds=1');
    expect(second.status).toBe(200);
    expect(second.body).toBe('');
    expect((await first).body.length).toBeGreaterThan(10);
  });

  it('profile-heap streams a V8 heap snapshot', async () => {
    const s = await startTestServer({ allowProfiling: true });
    const res = await get(s.target, '/runsc-metrics/profile-heap');
    expect(res.status).toBe(200);
    const snap = JSON.parse(res.body) as { snapshot: { node_count: number } };
    expect(snap.snapshot.node_count).toBeGreaterThan(0);
  }, 60_000);

  it('computes the duration like Go', () => {
    expect(cpuProfileDurationMs('5')).toBe(5000);
    expect(cpuProfileDurationMs('0')).toBe(0);
    expect(cpuProfileDurationMs('-3')).toBe(0);
    expect(cpuProfileDurationMs('60')).toBe(59_750);
    expect(cpuProfileDurationMs('')).toBe(59_750);
    expect(cpuProfileDurationMs('1.5')).toBe(59_750);
  });
});
