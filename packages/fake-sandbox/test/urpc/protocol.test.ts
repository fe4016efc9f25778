import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../../../test-support/captures.js';
import { createFleet, type FakeSandbox, type Fleet } from '../../src/index.js';
import { call, EXPORT_ALL, exportReq, openSocket, readReply, shortRoot } from '../support/client.js';
import { shapeDiff } from '../support/shape.js';

const fixture = (name: string): string => readCapture(name);

/** The exact request/response pairs of urpc-calls.txt. */
function capturedCalls(): { request: string; response: string }[] {
  const lines = fixture('urpc-calls.txt').split('\n');
  const out: { request: string; response: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (/^## call \d+ request/.test(lines[i] ?? ''))
      out.push({ request: lines[i + 1] ?? '', response: lines[i + 3] ?? '' });
  }
  return out;
}

let fleet: Fleet;
let sb: FakeSandbox;
beforeAll(async () => {
  fleet = await createFleet({ root: shortRoot(), metricServer: '/run/ms.sock', seed: 7 });
  sb = await fleet.add();
});
afterAll(() => fleet.close());

describe('urpc replies compared with the real sandbox', () => {
  it('Metrics.Export has the real reply shape, entry by entry', async () => {
    const real = JSON.parse(fixture('export-metrics.wire.json'));
    const r = await call(sb.socketPath, EXPORT_ALL);
    expect(r.end).toBe('complete');
    const fake = JSON.parse(r.bytes.toString());
    expect(Object.keys(fake)).toEqual(['success', 'err', 'result']);
    expect(Object.keys(fake.result)).toEqual(['snapshot']);
    expect(Object.keys(fake.result.snapshot)).toEqual(['when', 'data']);
    expect(fake.result.snapshot.when).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    const realCounter = real.result.snapshot.data.find(
      (d: { metric: { name: string } }) => d.metric.name === 'fs_opens',
    );
    const realLabelled = real.result.snapshot.data.find((d: { labels?: unknown }) => d.labels);
    const realGauge = real.result.snapshot.data.find((d: { metric: { type: number } }) => d.metric.type === 1);
    for (const d of fake.result.snapshot.data) {
      const model = d.metric.type === 1 ? realGauge : d.labels ? realLabelled : realCounter;
      expect(shapeDiff(model, d, `${d.metric.name}`, new Set([`${d.metric.name}.val`]))).toEqual([]);
      expect(Object.keys(d.val).every((k) => k === 'int')).toBe(true);
    }
    // Gauges always present (zero is {}), counters only when non-zero.
    const names = fake.result.snapshot.data.map((d: { metric: { name: string } }) => d.metric.name);
    expect(names).toContain('netstack_tcp_current_open');
    expect(names).toContain('netstack_tcp_current_established');
    for (const d of fake.result.snapshot.data) if (d.metric.type === 2) expect(d.val.int).toBeGreaterThan(0);
    // A realistic amount of data.
    expect(names.length).toBeGreaterThanOrEqual(30);
    expect(names.length).toBeLessThanOrEqual(180);
  });

  it('names, types and help texts come from the registration', async () => {
    const reg = JSON.parse(fixture('registered-metrics.wire.json')).result.RegisteredMetrics.metrics as {
      prometheus_name: string;
      description: string;
      cumulative?: boolean;
      fields?: { field_name: string; allowed_values: string[] }[];
    }[];
    const byName = new Map(reg.map((m) => [m.prometheus_name, m]));
    const fake = JSON.parse((await call(sb.socketPath, EXPORT_ALL)).bytes.toString());
    const seen = new Set<string>();
    for (const d of fake.result.snapshot.data) {
      const m = byName.get(d.metric.name);
      expect(m, d.metric.name).toBeDefined();
      expect(d.metric.help).toBe(m?.description);
      expect(d.metric.type).toBe(m?.cumulative ? 2 : 1);
      const key = `${d.metric.name}${JSON.stringify(d.labels ?? {})}`;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
      if (m?.fields) {
        const f = m.fields[0];
        expect(Object.keys(d.labels)).toEqual([f?.field_name]);
        expect(f?.allowed_values).toContain(d.labels[f?.field_name ?? '']);
      } else expect(d.labels).toBeUndefined();
    }
  });

  it('answers the captured error calls byte for byte', async () => {
    const calls = capturedCalls();
    expect(calls).toHaveLength(5);
    for (const c of calls.filter((x) => x.response.startsWith('{"success":false'))) {
      expect((await call(sb.socketPath, c.request)).bytes.toString()).toBe(c.response);
    }
  });

  it('GetRegisteredMetrics returns the registration stored in the state file', async () => {
    const r = await call(sb.socketPath, '{"method":"Metrics.GetRegisteredMetrics","arg":null}');
    const text = r.bytes.toString();
    expect(text.startsWith('{"success":true,"err":"","result":{"RegisteredMetrics":{"metrics":[')).toBe(true);
    const state = JSON.parse(readFileSync(sb.statePath, 'utf8'));
    expect(JSON.parse(text).result.RegisteredMetrics).toEqual(state.sandbox.registeredMetrics);
    // Same length as the real reply: same metrics, only the order differs.
    expect(r.bytes.length).toBe(Buffer.byteLength(fixture('registered-metrics.wire.json')));
  });

  it('honours only_metrics unanchored, and leaves out data when nothing matches', async () => {
    const fs = JSON.parse((await call(sb.socketPath, exportReq('^fs_'))).bytes.toString());
    for (const d of fs.result.snapshot.data ?? []) expect(d.metric.name).toMatch(/^fs_/);
    const mid = JSON.parse((await call(sb.socketPath, exportReq('tcp_current'))).bytes.toString());
    expect(mid.result.snapshot.data.map((d: { metric: { name: string } }) => d.metric.name).sort()).toEqual([
      'netstack_tcp_current_established',
      'netstack_tcp_current_open',
    ]);
    const none = JSON.parse((await call(sb.socketPath, exportReq('^no_such_metric$'))).bytes.toString());
    expect(Object.keys(none.result.snapshot)).toEqual(['when']);
  });

  it('accepts arg null, {} and unknown keys as "all"; rejects wrong types the Go way', async () => {
    const all = (await call(sb.socketPath, '{"method":"Metrics.Export","arg":null}')).bytes.toString();
    expect(JSON.parse(all).success).toBe(true);
    expect(
      JSON.parse((await call(sb.socketPath, '{"method":"Metrics.Export","arg":{"x":1}}')).bytes.toString()).success,
    ).toBe(true);
    expect((await call(sb.socketPath, '{"method":"Metrics.Export","arg":"x"}')).bytes.toString()).toBe(
      '{"success":false,"err":"json: cannot unmarshal string into Go value of type control.MetricsExportOpts","result":null}',
    );
    expect((await call(sb.socketPath, '{"method":"Metrics.Export"}')).bytes.toString()).toBe(
      '{"success":false,"err":"unexpected end of JSON input","result":null}',
    );
    expect((await call(sb.socketPath, exportReq('(?=x)'))).bytes.toString()).toBe(
      '{"success":false,"err":"cannot compile regexp \\"(?=x)\\": error parsing regexp: invalid or unsupported Perl syntax: `(?=`","result":null}',
    );
  });

  it('closes without a reply on malformed JSON', async () => {
    for (const bad of ['hello', '[1,2]', '{"method":']) {
      const sock = await openSocket(sb.socketPath);
      sock.write(bad);
      if (bad === '{"method":') sock.end(); // incomplete until EOF: nothing is answered
      const r = await readReply(sock, 1000);
      sock.destroy();
      expect(r.bytes.length, bad).toBe(0);
      expect(r.end === 'closed' || r.end === 'timeout', bad).toBe(true);
      if (bad !== '{"method":') expect(r.end).toBe('closed');
    }
  });

  it('serves several sequential calls on one connection, split writes and whitespace included', async () => {
    const sock = await openSocket(sb.socketPath);
    try {
      sock.write(' \n{"method":"Metrics.Ex');
      await new Promise((r) => setTimeout(r, 50));
      sock.write('port", "arg" : {"only_metrics":"^fs_"} }');
      const a = await readReply(sock, 2000);
      expect(JSON.parse(a.bytes.toString()).success).toBe(true);
      sock.write('{"method":"Metrics.NoSuch","arg":null}');
      const b = await readReply(sock, 2000);
      expect(b.bytes.toString()).toBe('{"success":false,"err":"unknown method","result":null}');
    } finally {
      sock.destroy();
    }
  });

  it("swallows a second request pipelined in the same write, like Go's buffered decoder", async () => {
    const sock = await openSocket(sb.socketPath);
    try {
      sock.write('{"method":"Metrics.NoSuch","arg":null}{"method":"Metrics.NoSuch","arg":null}');
      const r = await readReply(sock, 500);
      expect(r.bytes.toString()).toBe('{"success":false,"err":"unknown method","result":null}');
      const more = await readReply(sock, 300);
      expect(more.bytes.length).toBe(0);
    } finally {
      sock.destroy();
    }
  });

  it('escapes <, > and & as Go does', async () => {
    const r = await call(sb.socketPath, exportReq('<&>('));
    expect(r.bytes.toString()).toContain('\\u003c\\u0026\\u003e');
  });
});
