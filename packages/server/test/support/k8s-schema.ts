// Kubernetes objects checked against the Kubernetes 1.36.0 OpenAPI schema that kubernetes-models 5.1.0 ships
// (maintained, a current release, and the schema is inside the package: no network). Its validate() checks types,
// enums and required fields, but the schema, like Kubernetes' own, allows properties it does not declare, so a
// misspelled field would pass. The package ships the schema compiled, with no JSON schema left to walk, so
// strictness comes from its typed models, generated from the same schema: a property the model's interface does
// not declare is refused, except in maps (labels, nodeSelector, resources...), whose index signature takes any key.

import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// Named in test titles and error messages: move it with the pinned kubernetes-models version.
export const K8S_SCHEMA = 'Kubernetes 1.36.0 (kubernetes-models 5.1.0)';

type Model = (new (data: unknown) => { validate(): void }) & { apiVersion?: unknown; kind?: unknown };
type Checked = { model: Model; checker: ts.TypeChecker; type: ts.Type };

const here = fileURLToPath(import.meta.url);
const options: ts.CompilerOptions = {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: [],
};
const loaded = new Map<string, Promise<Checked | undefined>>();
let program: ts.Program | undefined;

/** What is wrong with a manifest object for its apiVersion/kind's schema, as `/json/pointer: message`; [] if valid. */
export async function k8sSchemaErrors(obj: unknown): Promise<string[]> {
  if (!isRecord(obj)) return ['/: not an object'];
  const { apiVersion, kind } = obj;
  const checked = await load(String(apiVersion), String(kind));
  if (!checked) return [`/: no schema for apiVersion ${String(apiVersion)} kind ${String(kind)} in ${K8S_SCHEMA}`];
  return [...schemaErrors(checked.model, obj), ...unknownFields(checked.checker, obj, checked.type, '')];
}

function load(apiVersion: string, kind: string): Promise<Checked | undefined> {
  // Only well-formed names go into a module path: "v1", "apps/v1", "policy/v1beta1"...
  if (!/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) {
    return Promise.resolve(undefined);
  }
  const path = `kubernetes-models/${apiVersion}/${kind}`;
  let p = loaded.get(path);
  if (!p) loaded.set(path, (p = loadModel(path, apiVersion, kind)));
  return p;
}

async function loadModel(path: string, apiVersion: string, kind: string): Promise<Checked | undefined> {
  const mod = (await import(path).catch(() => undefined)) as Record<string, Model> | undefined;
  const model = mod?.[kind];
  // Nested types (v1/ContainerPort) have models too, but no apiVersion/kind of their own.
  if (model?.apiVersion !== apiVersion || model.kind !== kind) return undefined;
  const dts = ts.resolveModuleName(path, here, options, ts.sys).resolvedModule?.resolvedFileName;
  if (!dts) throw new Error(`${path} loads but its type declarations are not found`);
  program = ts.createProgram([dts], options, undefined, program);
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(dts);
  const exports = file && checker.getSymbolAtLocation(file);
  const symbol = exports && checker.getExportsOfModule(exports).find((s) => s.name === `I${kind}`);
  if (!symbol) throw new Error(`${dts} has no interface I${kind}`);
  return { model, checker, type: checker.getDeclaredTypeOfSymbol(symbol) };
}

function schemaErrors(model: Model, obj: object): string[] {
  try {
    new model(obj).validate();
    return [];
  } catch (e) {
    const errors = (e as { errors?: { instancePath: string; message?: string }[] }).errors;
    if (!errors) throw e;
    return errors.map((err) => `${err.instancePath || '/'}: ${err.message}`);
  }
}

/** Properties of `value` that its model type does not declare, at any depth. Type mismatches are schemaErrors'. */
function unknownFields(checker: ts.TypeChecker, value: unknown, declared: ts.Type, path: string): string[] {
  const type = checker.getNonNullableType(declared);
  if (Array.isArray(value)) {
    const item = checker.isArrayType(type) ? checker.getTypeArguments(type as ts.TypeReference)[0] : undefined;
    return item ? value.flatMap((v, i) => unknownFields(checker, v, item, `${path}/${i}`)) : [];
  }
  if (!isRecord(value)) return [];
  const objectTypes = (type.isUnion() ? type.types : [type]).filter((t) => t.flags & ts.TypeFlags.Object);
  const results = objectTypes.map((t) => {
    const map = checker.getIndexInfoOfType(t, ts.IndexKind.String);
    // Nothing declared: a free-form object in the schema (FieldsV1, RawExtension, JSON), or a rare empty struct.
    if (!map && checker.getPropertiesOfType(t).length === 0) return [];
    return Object.entries(value).flatMap(([k, v]) => {
      const at = `${path}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      const prop = t.getProperty(k);
      if (prop) return unknownFields(checker, v, checker.getTypeOfSymbol(prop), at);
      return map ? unknownFields(checker, v, map.type, at) : [`${at}: unknown field`];
    });
  });
  return results.find((r) => r.length === 0) ?? results[0] ?? [];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
