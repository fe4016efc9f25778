// Typed view of a runsc container state file (runsc-interfaces.md §2): only the fields the
// metric server reads, strict on those, tolerant of everything else.
import { type Timestamp, DecodeError, parseJson, parseRfc3339 } from '@org/metricserver-prom-format';
import { StateFileError } from './errors.js';
import { FieldReader, type JsonObject, describe } from './json-fields.js';


export interface CapabilitySets {
  readonly bounding: readonly string[];
  readonly effective: readonly string[];
  readonly inheritable: readonly string[];
  readonly permitted: readonly string[];
  readonly ambient: readonly string[];
}

export interface SandboxState {
  readonly id: string;
  readonly podName: string;
  readonly namespace: string;
  /** Sandbox process id; 0 = no process. */
  readonly pid: number;
  /**
   * `sandbox.registeredMetrics` as raw JSON (null when absent/null: no `--metric-server` at create time).
   * In a SandboxView: the decoded, interned MetricRegistration instead (see sandbox/load.ts).
   */
  readonly registeredMetrics: unknown;
  readonly metricMetadata: Readonly<Record<string, string>>;
  /** Verbatim `--metric-server` of `runsc create` (may hold `%RUNTIME_ROOT%`), `''` if none. */
  readonly metricServerAddress: string;
  readonly controlSocketPath: string;
}

export interface ContainerState {
  /** Base name of the file this was parsed from (for error messages). */
  readonly fileName: string;
  readonly id: string;
  readonly ociVersion: string;
  readonly annotations: Readonly<Record<string, string>>;
  /** `spec.process.user.uid`; undefined when the spec has no `process` (Go would crash there). */
  readonly uid: number | undefined;
  /** All five sets; a missing `process`, `capabilities` or set is empty. */
  readonly capabilities: CapabilitySets;
  /** The original text (nanoseconds and zone kept exactly) and the instant it denotes. */
  readonly createdAt: { readonly text: string; readonly when: Timestamp };
  readonly status: string;
  /** null when the file has no sandbox object. */
  readonly sandbox: SandboxState | null;
}

const CAP_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;
const UINT32_MAX = 0xffffffff;

/** Decodes state-file bytes. Throws `StateFileError` (file name + JSON path) on anything it cannot use. */
export function parseStateFile(bytes: Uint8Array | string, fileName: string): ContainerState {
  const text = typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes);
  if (text.length === 0) throw new StateFileError(fileName, '$', 'empty file');
  let doc: unknown;
  try {
    // Lossless: registeredMetrics' int64 bucket bounds may exceed 2^53.
    doc = parseJson(text);
  } catch (e) {
    throw new StateFileError(fileName, '$', e instanceof DecodeError ? e.message.replace(/^\$: /, '') : String(e));
  }
  const r: FieldReader = new FieldReader(fileName);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) r.fail('$', `expected an object, got ${describe(doc)}`);
  const top = doc as JsonObject;

  const spec = r.object(top, 'spec', '$.spec') ?? {};
  const processObj = r.object(spec, 'process', '$.spec.process');
  let uid: number | undefined;
  let capabilities: CapabilitySets = { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] };
  if (processObj !== undefined) {
    const user = r.object(processObj, 'user', '$.spec.process.user') ?? {};
    uid = r.integer(user, 'uid', '$.spec.process.user.uid', 0, UINT32_MAX);
    const caps = r.object(processObj, 'capabilities', '$.spec.process.capabilities');
    if (caps !== undefined) {
      const sets: Record<string, readonly string[]> = {};
      for (const s of CAP_SETS) sets[s] = r.stringArray(caps, s, `$.spec.process.capabilities.${s}`);
      capabilities = sets as unknown as CapabilitySets;
    }
  }

  const createdText = r.get(top, 'createdAt');
  if (typeof createdText !== 'string') r.fail('$.createdAt', `expected an RFC 3339 string, got ${describe(createdText)}`);
  let when: Timestamp;
  try {
    when = parseRfc3339(createdText);
  } catch (e) {
    r.fail('$.createdAt', (e as Error).message);
  }

  const sb = r.object(top, 'sandbox', '$.sandbox');
  let sandbox: SandboxState | null = null;
  if (sb !== undefined) {
    const reg = r.get(sb, 'registeredMetrics');
    if (reg !== undefined && reg !== null && (typeof reg !== 'object' || Array.isArray(reg))) {
      r.fail('$.sandbox.registeredMetrics', `expected an object, got ${describe(reg)}`);
    }
    sandbox = {
      id: r.string(sb, 'id', '$.sandbox.id'),
      podName: r.string(sb, 'podName', '$.sandbox.podName'),
      namespace: r.string(sb, 'namespace', '$.sandbox.namespace'),
      pid: r.integer(sb, 'pid', '$.sandbox.pid', -(2 ** 31), 2 ** 31 - 1),
      registeredMetrics: reg ?? null,
      metricMetadata: r.stringMap(sb, 'metricMetadata', '$.sandbox.metricMetadata'),
      metricServerAddress: r.string(sb, 'metricServerAddress', '$.sandbox.metricServerAddress'),
      controlSocketPath: r.string(sb, 'controlSocketPath', '$.sandbox.controlSocketPath'),
    };
  }

  return {
    fileName,
    id: r.string(top, 'id', '$.id'),
    ociVersion: r.string(spec, 'ociVersion', '$.spec.ociVersion'),
    annotations: r.stringMap(spec, 'annotations', '$.spec.annotations'),
    uid,
    capabilities,
    createdAt: { text: createdText, when },
    status: r.string(top, 'status', '$.status'),
    sandbox,
  };
}

const CRI_CONTAINER_TYPE = 'io.kubernetes.cri.container-type';
const CRIO_CONTAINER_TYPE = 'io.kubernetes.cri-o.ContainerType';

/** A container is its sandbox's root unless its CRI (or else CRI-O) container-type annotation says `container`. */
export function isSandboxRoot(state: Pick<ContainerState, 'annotations'>): boolean {
  const type = state.annotations[CRI_CONTAINER_TYPE] ?? state.annotations[CRIO_CONTAINER_TYPE];
  return type !== 'container';
}
