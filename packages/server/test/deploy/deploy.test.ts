// deploy/ checked for real: the Kubernetes manifests parsed (multi-document),
// validated strictly against the Kubernetes OpenAPI schema (support/k8s-schema.ts)
// and with their cross-references (selectors, mounts, ports, flags parsed by the
// server's own CLI parser), the web config example loaded by the server's own
// loader, the Prometheus config through `promtool check config`, and every
// Grafana query through `promtool check rules` and against the metric names a
// real /metrics body (core backend + a fake fleet on the real registration) has.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFleet } from '@org/metricserver-fake-sandbox';
import bcrypt from 'bcryptjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { readCapture } from '../../../../test-support/captures.js';
import { makePki } from '../../../../test-support/tls-pki.js';
import { parseArgs } from '../../src/args.js';
import { configFromFlags } from '../../src/config.js';
import { startMetricServer } from '../../src/index.js';
import { memoryLogger } from '../../src/log.js';
import { loadWebConfig, WebConfigError } from '../../src/web-config.js';
import { get } from '../support/http-client.js';
import { K8S_SCHEMA, k8sSchemaErrors } from '../support/k8s-schema.js';
import { expectPromtoolAccepts } from '../support/promtool.js';
import { onCleanup, tempDir } from '../support/server.js';

const deploy = fileURLToPath(new URL('../../../../deploy/', import.meta.url));
const read = (rel: string): string => readFileSync(join(deploy, rel), 'utf8');

type Obj = Record<string, any>;

function promtool(args: string[]): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`promtool is needed by this test (apt-get install prometheus): ${r.error.message}`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('deploy/kubernetes/runsc-metric-server.yaml', () => {
  const docs = parseAllDocuments(read('kubernetes/runsc-metric-server.yaml'), { strict: true, uniqueKeys: true });
  const objects = docs.map((d) => {
    expect(d.errors.map((e) => e.message)).toEqual([]);
    return d.toJS() as Obj;
  });
  const byKind = (kind: string): Obj => {
    const found = objects.filter((o) => o.kind === kind);
    expect(found, kind).toHaveLength(1);
    return found[0] as Obj;
  };
  const ds = byKind('DaemonSet');
  const pod = ds.spec?.template?.spec as Obj;
  const container = pod?.containers?.[0] as Obj;

  it('every document has apiVersion, kind and metadata.name; namespaced ones live in the Namespace it creates', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(['DaemonSet', 'Namespace', 'Service']);
    const ns = byKind('Namespace').metadata.name;
    for (const o of objects) {
      expect(typeof o.apiVersion, JSON.stringify(o.metadata)).toBe('string');
      expect(typeof o.metadata?.name).toBe('string');
      if (o.kind !== 'Namespace') expect(o.metadata.namespace).toBe(ns);
    }
    expect(ds.apiVersion).toBe('apps/v1');
  });

  it(`every document validates against the ${K8S_SCHEMA} OpenAPI schema, strictly`, async () => {
    const checked = await Promise.all(
      objects.map(async (o) => ({ doc: `${o.kind} ${o.metadata?.name}`, errors: await k8sSchemaErrors(o) })),
    );
    expect(checked.filter((c) => c.errors.length > 0)).toEqual([]);
  });

  it('the schema check fails on an invented or misspelled field and on a wrong type', async () => {
    // A deep copy of one document, edited: the broken variants never reach `objects` or the repo.
    const edited = (kind: string, edit: (o: Obj) => void): Obj => {
      const copy = structuredClone(byKind(kind));
      edit(copy);
      return copy;
    };
    const c0 = '/spec/template/spec/containers/0';
    const invented = edited('DaemonSet', (o) => {
      o.spec.template.spec.containers[0].imagePullPolicyy = 'Always';
    });
    expect(await k8sSchemaErrors(invented)).toEqual([`${c0}/imagePullPolicyy: unknown field`]);
    const portAsString = edited('DaemonSet', (o) => {
      o.spec.template.spec.containers[0].ports[0].containerPort = '9800';
    });
    expect(await k8sSchemaErrors(portAsString)).toEqual([`${c0}/ports/0/containerPort: must be integer`]);
    const hostPidAsString = edited('DaemonSet', (o) => {
      o.spec.template.spec.hostPID = 'yes';
    });
    expect(await k8sSchemaErrors(hostPidAsString)).toEqual(['/spec/template/spec/hostPID: must be boolean']);
    const inventedSpecField = edited('DaemonSet', (o) => {
      o.spec.minReadySecondz = 5;
    });
    expect(await k8sSchemaErrors(inventedSpecField)).toEqual(['/spec/minReadySecondz: unknown field']);
    const misspelledService = edited('Service', (o) => {
      o.spec.clusterIp = o.spec.clusterIP;
      delete o.spec.clusterIP;
    });
    expect(await k8sSchemaErrors(misspelledService)).toEqual(['/spec/clusterIp: unknown field']);
    // Maps take any key, but their values are still checked.
    const labelNotString = edited('Namespace', (o) => {
      o.metadata.labels['example.com/any-key'] = 1;
    });
    expect(await k8sSchemaErrors(labelNotString)).toEqual(['/metadata/labels/example.com~1any-key: must be string']);
  });

  it('an apiVersion/kind without a schema is reported as such, not passed', async () => {
    const meta = { metadata: { name: 'x' } };
    for (const [apiVersion, kind] of [
      ['apps/v1', 'DaemonSett'],
      ['example.com/v1', 'Widget'],
      ['v1', 'ContainerPort'], // a type of the schema, but not an object of its own
      ['../../v1', 'Service'], // names that are not an apiVersion never reach a module path
    ]) {
      expect(await k8sSchemaErrors({ apiVersion, kind, ...meta })).toEqual([
        `/: no schema for apiVersion ${apiVersion} kind ${kind} in ${K8S_SCHEMA}`,
      ]);
    }
    expect(await k8sSchemaErrors({ kind: 'Service', ...meta })).toEqual([
      `/: no schema for apiVersion undefined kind Service in ${K8S_SCHEMA}`,
    ]);
  });

  it('the DaemonSet selector matches its template labels, and so does the Service selector', () => {
    const labels = ds.spec.template.metadata.labels as Obj;
    const match = ds.spec.selector.matchLabels as Obj;
    expect(Object.keys(match).length).toBeGreaterThan(0);
    for (const [k, v] of Object.entries(match)) expect(labels[k], k).toBe(v);
    const svc = byKind('Service');
    for (const [k, v] of Object.entries(svc.spec.selector as Obj)) expect(labels[k], k).toBe(v);
    expect(svc.spec.clusterIP).toBe('None');
    const portNames = (container.ports as Obj[]).map((p) => p.name);
    for (const p of svc.spec.ports as Obj[]) expect(portNames).toContain(p.targetPort);
  });

  it('the container args are a valid server command line with --root and --metric-server', () => {
    expect(typeof container.image).toBe('string');
    const args = container.args as string[];
    expect(args.some((a) => a.startsWith('--root='))).toBe(true);
    expect(args.some((a) => a.startsWith('--metric-server='))).toBe(true);
    const parsed = parseArgs(args); // the server's own parser: unknown or malformed flags throw
    expect(parsed.kind).toBe('run');
    if (parsed.kind !== 'run') return;
    expect(parsed.ignored).toEqual([]);
    const config = configFromFlags(parsed.flags, {});
    expect(config.root).toBe('/run/containerd/runsc/k8s.io');
    // The port served is the container/host port declared.
    const port = Number(config.metricServer.split(':').at(-1));
    expect(container.ports).toContainEqual(
      expect.objectContaining({ containerPort: port, hostPort: port, name: 'metrics' }),
    );
    expect(container.readinessProbe.tcpSocket.port).toBe(port);
    // The web config lives in the mounted Secret.
    const webMount = (container.volumeMounts as Obj[]).find((m) => config.webConfigFile?.startsWith(`${m.mountPath}/`));
    expect(webMount).toBeDefined();
    expect((pod.volumes as Obj[]).find((v) => v.name === webMount?.name)?.secret?.secretName).toBe(
      'runsc-metric-server-web',
    );
  });

  it('every volume mount names a volume; the root dir is a hostPath mounted at the same path, read-write', () => {
    const volumes = new Map((pod.volumes as Obj[]).map((v) => [v.name as string, v]));
    for (const m of container.volumeMounts as Obj[]) expect(volumes.has(m.name), m.name).toBe(true);
    const parsed = parseArgs(container.args as string[]);
    const root = parsed.kind === 'run' ? String(parsed.flags.get('root')) : '';
    const rootMount = (container.volumeMounts as Obj[]).find(
      (m) => root.startsWith(`${m.mountPath}/`) || root === m.mountPath,
    ) as Obj;
    expect(rootMount).toBeDefined();
    expect(rootMount.readOnly ?? false).toBe(false); // lock files are created next to the state files
    expect(volumes.get(rootMount.name)?.hostPath?.path).toBe(rootMount.mountPath);
  });

  it('runs in the host PID namespace as root with CAP_KILL (kill(pid, 0) on sandbox PIDs)', () => {
    expect(pod.hostPID).toBe(true);
    expect(pod.hostNetwork).toBe(true);
    const sc = container.securityContext as Obj;
    expect(sc.runAsUser).toBe(0);
    expect(sc.privileged).toBe(false);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.capabilities.drop).toEqual(['ALL']);
    expect(sc.capabilities.add).toContain('KILL');
  });
});

describe('deploy/kubernetes/web-config.example.yml', () => {
  it('loads with the server once a real hash is filled in, and refuses the placeholder loudly', () => {
    const dir = tempDir('ms-deploy-web-');
    const pki = makePki(dir);
    writeFileSync(join(dir, 'tls.crt'), readFileSync(pki.serverCert));
    writeFileSync(join(dir, 'tls.key'), readFileSync(pki.serverKey));
    const example = read('kubernetes/web-config.example.yml');
    const placeholder = '"<bcrypt hash from htpasswd>"';
    expect(example).toContain(placeholder);
    const asIs = join(dir, 'as-is.yml');
    writeFileSync(asIs, example);
    expect(() => loadWebConfig(asIs)).toThrow(WebConfigError);
    const filled = join(dir, 'web-config.yml');
    writeFileSync(filled, example.replace(placeholder, `'${bcrypt.hashSync('pw', 4).replace('$2b$', '$2y$')}'`));
    const c = loadWebConfig(filled);
    expect(c.tls?.minVersion).toBe('TLSv1.2');
    expect([...c.basicAuthUsers.keys()]).toEqual(['prometheus']);
  });
});

describe('deploy/prometheus/prometheus.yml', () => {
  it('passes promtool check config (and promtool does reject a broken one)', () => {
    const ok = promtool(['check', 'config', join(deploy, 'prometheus/prometheus.yml')]);
    expect(ok.out).toContain('SUCCESS');
    expect(ok.status).toBe(0);
    const dir = tempDir('ms-deploy-prom-');
    const broken = join(dir, 'prometheus.yml');
    writeFileSync(
      broken,
      read('prometheus/prometheus.yml').replace('scheme: https', 'scheme: https\n    not_a_field: 1'),
    );
    expect(promtool(['check', 'config', broken]).status).not.toBe(0);
  });

  it('discovers the Service of the manifests on the DaemonSet port, over https with basic auth', () => {
    const job = (parseAllDocuments(read('prometheus/prometheus.yml'))[0]!.toJS() as Obj).scrape_configs[0] as Obj;
    const svc = parseAllDocuments(read('kubernetes/runsc-metric-server.yaml'))
      .map((d) => d.toJS() as Obj)
      .find((o) => o.kind === 'Service') as Obj;
    expect(job.dns_sd_configs[0].names).toEqual([`${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`]);
    expect(job.dns_sd_configs[0].port).toBe(svc.spec.ports[0].port);
    expect(job.scheme).toBe('https');
    expect(job.basic_auth.username).toBe('prometheus');
  });
});

describe('deploy/grafana/runsc-metric-server.json', () => {
  const dashboard = JSON.parse(read('grafana/runsc-metric-server.json')) as Obj;
  const panels = (dashboard.panels as Obj[]).filter((p) => p.type !== 'row');
  const exprs = panels.flatMap((p) =>
    (p.targets as Obj[]).map((t) => ({ panel: p.title as string, expr: t.expr as string })),
  );
  // Grafana's variables, replaced by what they expand to for the checks.
  const concrete = (e: string): string => e.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*');

  let served: Set<string>;
  beforeAll(async () => {
    // A real body: core backend + fake sandboxes on the real runsc registration, one of them
    // stalled and one lying, so the per-sandbox health series (timeouts, failures) are there too.
    const root = tempDir('ms-deploy-fleet-');
    const address = `${root}/metrics.sock`;
    const fleet = await createFleet({
      root,
      metricServer: address,
      count: 4,
      hosts: 2,
      behaviours: [
        { behaviour: 'no-answer', count: 1 },
        { behaviour: 'unregistered-metric', count: 1 },
      ],
    });
    onCleanup(() => fleet.close());
    const handle = await startMetricServer({
      root,
      metricServer: address,
      logger: memoryLogger(),
      perSandboxTimeoutMs: 300,
      // The dashboard's resource panels need the runsc_container_* families.
      resourceMetrics: true,
    });
    onCleanup(() => handle.close('test over'));
    let body = '';
    for (let i = 0; i < 2; i++) {
      const res = await get({ socketPath: handle.address }, '/metrics');
      expect(res.status).toBe(200);
      body = res.body;
    }
    expectPromtoolAccepts(body);
    served = new Set();
    for (const m of body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      const [, name = '', type] = m;
      served.add(name);
      if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) served.add(name + s);
    }
  }, 60_000);

  it('is a dashboard with unique panel ids, a Prometheus datasource variable and a query in every panel', () => {
    expect(typeof dashboard.title).toBe('string');
    expect(typeof dashboard.uid).toBe('string');
    const ids = (dashboard.panels as Obj[]).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect((dashboard.templating.list as Obj[]).find((v) => v.type === 'datasource')?.query).toBe('prometheus');
    expect(panels.length).toBeGreaterThanOrEqual(10);
    for (const p of panels) {
      expect((p.targets as Obj[]).length, p.title).toBeGreaterThan(0);
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's own variable syntax
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
    }
  });

  it('every query is valid PromQL (promtool check rules)', () => {
    const dir = tempDir('ms-deploy-rules-');
    const file = join(dir, 'rules.yml');
    const rules = exprs.map((e, i) => ({ record: `dashboard:query_${i}`, expr: concrete(e.expr) }));
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
    const r = promtool(['check', 'rules', file]);
    expect(r.out).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(r.status).toBe(0);
  });

  it('every metric a query names is one the server serves (or Prometheus adds per target)', () => {
    const synthetic = new Set(['up', 'scrape_duration_seconds']);
    // A fake sandbox exports a random subset of the registration (zero counters are omitted, as
    // runsc does), so sandbox metrics are also checked against what real runsc registers.
    const registered = registeredNames('runsc_');
    // runsc_container_* are the server's own (--resource-metrics), like runsc_meta_*.
    const own = (n: string) => n.startsWith('runsc_meta_') || n.startsWith('runsc_container_');
    const bodySandboxNames = [...served].filter((n) => n.startsWith('runsc_') && !own(n));
    expect([...served].filter((n) => n.startsWith('runsc_container_')).length).toBeGreaterThanOrEqual(12);
    expect(bodySandboxNames.length).toBeGreaterThan(10);
    for (const n of bodySandboxNames) expect(registered.has(n), n).toBe(true); // same naming rule in both sources
    for (const n of registered) served.add(n);
    const used = new Map<string, string>();
    for (const { panel, expr } of exprs) {
      for (const name of metricNames(concrete(expr))) used.set(name, panel);
    }
    const unknown = [...used].filter(([n]) => !served.has(n) && !synthetic.has(n));
    expect(unknown).toEqual([]);
    // The panels the deployment promises are there.
    for (const n of [
      'runsc_meta_num_sandboxes_running',
      'runsc_meta_num_sandboxes_broken_metrics',
      'runsc_meta_num_sandboxes_total',
      'runsc_meta_sandbox_last_export_duration_seconds',
      'runsc_meta_sandbox_export_failures',
      'runsc_meta_sandbox_export_timeouts',
      'runsc_fs_opens',
      'runsc_fs_reads',
      'runsc_unimplemented_syscalls',
      'runsc_container_cpu_usage_seconds_total',
      'runsc_container_memory_usage_bytes',
      'runsc_container_network_receive_bytes_total',
      'runsc_container_network_transmit_bytes_total',
    ]) {
      expect(used.has(n), n).toBe(true);
    }
  });

  it('metricNames finds metric names and nothing else', () => {
    expect(
      metricNames('topk(10, sum by (namespace_name, pod_name) (rate(runsc_fs_opens{instance=~".*",x="up"}[5m])))'),
    ).toEqual(['runsc_fs_opens']);
    expect(metricNames('min(time() - process_start_time_seconds{job="runsc"}) + up')).toEqual([
      'process_start_time_seconds',
      'up',
    ]);
  });
});

/** `<prefix><prometheus_name>` of every metric in the real runsc registration (histograms expanded). */
function registeredNames(prefix: string): Set<string> {
  const reg = (
    JSON.parse(readCapture('registered-metrics.wire.json')) as {
      result: { RegisteredMetrics: { metrics: { prometheus_name: string; type?: number }[] } };
    }
  ).result.RegisteredMetrics;
  const names = new Set<string>();
  for (const m of reg.metrics) {
    const n = prefix + m.prometheus_name;
    names.add(n);
    if (m.type === 1) for (const s of ['_bucket', '_sum', '_count']) names.add(n + s); // 1 = distribution
  }
  return names;
}

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
]);

/** Metric names in a PromQL expression: identifiers left once strings, matchers, ranges, groupings and calls are out. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?/g)) {
    const [token, call] = m;
    if (call !== undefined) continue; // a function or aggregation
    const id = token.trim();
    if (!PROMQL_WORDS.has(id)) names.push(id);
  }
  return names;
}
