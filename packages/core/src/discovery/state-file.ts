// Typed view of a runsc container state file (runsc-interfaces.md §2): only the fields the
// metric server reads, strict on those, tolerant of everything else.
import {
  DecodeError,
  type MetricRegistration,
  parseJsonDetected,
  parseRfc3339,
  type Timestamp,
} from '@org/metricserver-prom-format';
import { type SandboxCgroup, sandboxCgroupOf } from './cgroup-field.js';
import { StateFileError } from './errors.js';
import { describe, FieldReader, type JsonObject } from './json-fields.js';
import { registrationValueAt } from './json-scan.js';

/**
 * What parseStateFile may be given to skip parsing `sandbox.registeredMetrics` (see
 * sandbox/registration-bytes.ts): it recognises a registration it has seen by its bytes,
 * and learns one from a fully parsed file. Neither throws.
 */
export interface RegistrationReader {
  /** The decoded registration whose bytes stand at `at`, and the offset after them; undefined when not recognised. */
  recognize(bytes: Uint8Array, at: number): { registration: MetricRegistration; end: number } | undefined;
  /** `raw` (the parsed value at `at`) decoded and remembered by its bytes; undefined when it does not decode. */
  learn(bytes: Uint8Array, at: number, raw: unknown): MetricRegistration | undefined;
}

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
  /**
   * The same, already decoded and interned, when a RegistrationReader recognised it (then
   * registeredMetrics is this object too: its JSON was never parsed) or learned it from the
   * parsed JSON; undefined otherwise.
   */
  readonly decodedRegistration?: MetricRegistration;
  readonly metricMetadata: Readonly<Record<string, string>>;
  /** Verbatim `--metric-server` of `runsc create` (may hold `%RUNTIME_ROOT%`), `''` if none. */
  readonly metricServerAddress: string;
  readonly controlSocketPath: string;
  /**
   * `sandbox.cgroup`: the host cgroup runsc put the sandbox process in; absent when runsc made
   * none or the value is not a shape it writes (read tolerantly: never a StateFileError).
   */
  readonly cgroup?: SandboxCgroup;
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
/**
 * Where a state file needs the lossless parser: an integer beyond 2^53 (an int64 bucket
 * bound) has a run of 16+ digits. runsc's encoder writes integers as plain digits, so the
 * general detection's second rule (a fraction or exponent, refused where Go wants an
 * int) is not needed here, and it matched text in the descriptions of every real state
 * file: the 50 KB then went through the JS lossless parser (~0.5 ms each at start-up).
 */
const UNSAFE_INTEGER_RUN = /\d{16}/;
const UINT32_MAX = 0xffffffff;

/** The document with its registration cut out, when `registrations` recognises it (see RegistrationReader). */
function parseWithoutRegistration(
  bytes: Uint8Array,
  at: number,
  registrations: RegistrationReader,
): { doc: unknown; registration: MetricRegistration } | undefined {
  const hit = registrations.recognize(bytes, at);
  if (hit === undefined) return undefined;
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rest = `${b.toString('utf8', 0, at)}null${b.toString('utf8', hit.end)}`;
  let doc: unknown;
  try {
    doc = parseJsonDetected(rest, UNSAFE_INTEGER_RUN.test(rest));
  } catch {
    return undefined; // the whole text decides the error
  }
  // The null must be the registration JSON.parse kept (a key written twice keeps its last value).
  const sandbox = (doc as JsonObject | null)?.['sandbox'];
  if (typeof sandbox !== 'object' || sandbox === null || (sandbox as JsonObject)['registeredMetrics'] !== null)
    return undefined;
  (sandbox as Record<string, unknown>)['registeredMetrics'] = hit.registration;
  return { doc, registration: hit.registration };
}

/**
 * Decodes state-file bytes. Throws `StateFileError` (file name + JSON path) on anything it
 * cannot use. `registrations`, when given, spares the parse of a registration it knows.
 */
export function parseStateFile(
  bytes: Uint8Array | string,
  fileName: string,
  registrations?: RegistrationReader,
): ContainerState {
  const at = registrations === undefined || typeof bytes === 'string' ? -1 : registrationValueAt(bytes);
  const fast =
    at < 0 ? undefined : parseWithoutRegistration(bytes as Uint8Array, at, registrations as RegistrationReader);
  let doc: unknown = fast?.doc;
  let decodedRegistration = fast?.registration;
  if (doc === undefined) {
    const text = typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes);
    if (text.length === 0) throw new StateFileError(fileName, '$', 'empty file');
    try {
      // Lossless where needed: registeredMetrics' int64 bucket bounds may exceed 2^53.
      doc = parseJsonDetected(text, UNSAFE_INTEGER_RUN.test(text));
    } catch (e) {
      throw new StateFileError(fileName, '$', e instanceof DecodeError ? e.message.replace(/^\$: /, '') : String(e));
    }
    const raw = (doc as JsonObject | null)?.['sandbox'];
    const reg = typeof raw === 'object' && raw !== null ? (raw as JsonObject)['registeredMetrics'] : undefined;
    if (at >= 0 && typeof reg === 'object' && reg !== null) {
      decodedRegistration = (registrations as RegistrationReader).learn(bytes as Uint8Array, at, reg);
    }
  }
  const r: FieldReader = new FieldReader(fileName);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    r.fail('$', `expected an object, got ${describe(doc)}`);
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
  if (typeof createdText !== 'string')
    r.fail('$.createdAt', `expected an RFC 3339 string, got ${describe(createdText)}`);
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
    const cgroup = sandboxCgroupOf(r.get(sb, 'cgroup'));
    if (reg !== undefined && reg !== null && (typeof reg !== 'object' || Array.isArray(reg))) {
      r.fail('$.sandbox.registeredMetrics', `expected an object, got ${describe(reg)}`);
    }
    sandbox = {
      id: r.string(sb, 'id', '$.sandbox.id'),
      podName: r.string(sb, 'podName', '$.sandbox.podName'),
      namespace: r.string(sb, 'namespace', '$.sandbox.namespace'),
      pid: r.integer(sb, 'pid', '$.sandbox.pid', -(2 ** 31), 2 ** 31 - 1),
      registeredMetrics: reg ?? null,
      ...(decodedRegistration === undefined ? {} : { decodedRegistration }),
      metricMetadata: r.stringMap(sb, 'metricMetadata', '$.sandbox.metricMetadata'),
      metricServerAddress: r.string(sb, 'metricServerAddress', '$.sandbox.metricServerAddress'),
      controlSocketPath: r.string(sb, 'controlSocketPath', '$.sandbox.controlSocketPath'),
      ...(cgroup === undefined ? {} : { cgroup }),
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
