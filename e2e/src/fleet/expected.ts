// What the server must serve for an honest fake sandbox: its own exported
// series, prefixed, with the identity labels computed here independently.
import { type Exposition, seriesKey } from '../exposition.js';
import { expectedIteration } from '../iteration.js';
import { probeExport } from './urpc-probe.js';

export interface SandboxIdentity {
  id: string;
  createdAt: string;
  socketPath: string;
  pod?: { name: string; namespace: string };
}

export function identityLabels(sb: SandboxIdentity): Record<string, string> {
  const l: Record<string, string> = { sandbox: sb.id, iteration: expectedIteration(sb.id, sb.createdAt) };
  if (sb.pod?.name) l.pod_name = sb.pod.name;
  if (sb.pod?.namespace) l.namespace_name = sb.pod.namespace;
  return l;
}

/** Keys (name + all labels) the server should render for the sandbox's current export. */
export async function expectedSeries(sb: SandboxIdentity, prefix = 'runsc_', filter = ''): Promise<Set<string>> {
  const id = identityLabels(sb);
  return new Set(
    (await probeExport(sb.socketPath, filter)).map((s) => seriesKey(`${prefix}${s.name}`, { ...s.labels, ...id })),
  );
}

/** The sandbox's own (non-meta) series in a scraped body. */
export function servedSeries(exp: Exposition, id: string, metaPrefix = 'runsc_meta_'): Set<string> {
  return new Set(
    exp.samples
      .filter((s) => s.labels.sandbox === id && !s.name.startsWith(metaPrefix) && !isResourceSeries(s.name))
      .map((s) => seriesKey(s.name, s.labels)),
  );
}

/** The --resource-metrics families (the server's, not the sandbox's export). */
export function isResourceSeries(name: string): boolean {
  return name.startsWith('runsc_container_');
}
