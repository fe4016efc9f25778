// `sandbox.cgroup` of a state file: the host cgroup runsc put the sandbox process in
// (runsc `cgroup.CgroupJSON` at release-20240729.0): `{"cgroupv1":{"name":"/sb-a","parents":…,
// "own":…}}`, `{"cgroupv2":{"mountpoint":…,"path":…,…}}`, `{"cgroupsystemd":{…the v2 fields…,
// "Name":…,"Parent":…,"ScopePrefix":…}}`, or `{"cgroupunknown":null}` when runsc made none.
//
// Read for the resource metrics only, and tolerantly: a value that is missing, unknown or not of
// that shape is `undefined`, never an error, so no state file that loaded before stops loading.
// The wrapper's keys are matched exactly (runsc reads them into a map), the inner fields
// case-insensitively (a Go struct).

import type { JsonObject } from './json-fields.js';

/** The host cgroup recorded for a sandbox. */
export type SandboxCgroup =
  | {
      readonly version: 1;
      /** The cgroup under each controller's hierarchy, e.g. `/sb-a`. */
      readonly name: string;
      /** Per controller, the parent `name` is relative to (empty: none; runsc writes null). */
      readonly parents: Readonly<Record<string, string>>;
    }
  | {
      readonly version: 2;
      /** The unified hierarchy's mount point, e.g. `/sys/fs/cgroup`. */
      readonly mountpoint: string;
      /** The cgroup below it, e.g. `/sb-a`. */
      readonly path: string;
      /** Recorded as `cgroupsystemd` (a systemd-managed scope of the same v2 layout). */
      readonly systemd: boolean;
    };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Go's struct key matching: the exact key, else the first case-insensitive one. */
function get(o: JsonObject, key: string): unknown {
  if (Object.hasOwn(o, key)) return o[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

/** A string field: '' for null/absent, undefined when of another type. */
function stringField(o: JsonObject, key: string): string | undefined {
  const v = get(o, key);
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : undefined;
}

/** The parsed `sandbox.cgroup` value, or undefined when there is none or it is not a known shape. */
export function sandboxCgroupOf(value: unknown): SandboxCgroup | undefined {
  if (!isObject(value)) return undefined;
  const v1 = value['cgroupv1'];
  if (v1 !== undefined) {
    if (!isObject(v1)) return undefined;
    const name = stringField(v1, 'name');
    const rawParents = get(v1, 'parents');
    if (name === undefined) return undefined;
    const parents: Record<string, string> = {};
    if (rawParents !== null && rawParents !== undefined) {
      if (!isObject(rawParents)) return undefined;
      for (const [k, p] of Object.entries(rawParents)) {
        if (p === null) parents[k] = '';
        else if (typeof p === 'string') parents[k] = p;
        else return undefined;
      }
    }
    return { version: 1, name, parents };
  }
  const systemd = value['cgroupv2'] === undefined;
  const v2 = systemd ? value['cgroupsystemd'] : value['cgroupv2'];
  if (!isObject(v2)) return undefined;
  const mountpoint = stringField(v2, 'mountpoint');
  const path = stringField(v2, 'path');
  if (mountpoint === undefined || path === undefined) return undefined;
  return { version: 2, mountpoint, path, systemd };
}
