// The parts of a real runsc state file the suites read (the test's own view,
// independent of core's parser).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RealStateFile {
  id: string;
  createdAt: string;
  status: string;
  sandbox: {
    id: string;
    pid: number;
    podName: string;
    namespace: string;
    metricServerAddress: string;
    controlSocketPath: string;
    metricMetadata: Record<string, string>;
  } | null;
}

export function stateFilePath(root: string, containerId: string, sandboxId: string): string {
  return join(root, `${containerId}_sandbox:${sandboxId}.state`);
}

export function readStateFile(root: string, containerId: string, sandboxId: string): RealStateFile {
  return JSON.parse(readFileSync(stateFilePath(root, containerId, sandboxId), 'utf8')) as RealStateFile;
}
