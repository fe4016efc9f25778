// Strict readers for the few state-file fields we use. Missing or null = Go's zero value;
// a present value of the wrong type is a StateFileError naming the file and the JSON path.
import { StateFileError } from './errors.js';

export type JsonObject = Readonly<Record<string, unknown>>;

export class FieldReader {
  constructor(readonly fileName: string) {}

  fail(path: string, detail: string): never {
    throw new StateFileError(this.fileName, path, detail);
  }

  /** Go's encoding/json key matching: exact key first, else the first case-insensitive match. */
  get(obj: JsonObject, key: string): unknown {
    if (Object.hasOwn(obj, key)) return obj[key];
    const lower = key.toLowerCase();
    for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
    return undefined;
  }

  object(obj: JsonObject, key: string, path: string): JsonObject | undefined {
    const v = this.get(obj, key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(path, `expected an object, got ${describe(v)}`);
    return v as JsonObject;
  }

  string(obj: JsonObject, key: string, path: string): string {
    const v = this.get(obj, key);
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') this.fail(path, `expected a string, got ${describe(v)}`);
    return v;
  }

  integer(obj: JsonObject, key: string, path: string, min: number, max: number): number {
    const v = this.get(obj, key);
    if (v === undefined || v === null) return 0;
    if (typeof v === 'bigint') this.fail(path, `integer ${v} out of range [${min}, ${max}]`);
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(path, `expected an integer, got ${describe(v)}`);
    if (v < min || v > max) this.fail(path, `integer ${v} out of range [${min}, ${max}]`);
    return v;
  }

  stringArray(obj: JsonObject, key: string, path: string): readonly string[] {
    const v = this.get(obj, key);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(path, `expected an array of strings, got ${describe(v)}`);
    v.forEach((s, i) => {
      if (typeof s !== 'string') this.fail(`${path}[${i}]`, `expected a string, got ${describe(s)}`);
    });
    return v as string[];
  }

  stringMap(obj: JsonObject, key: string, path: string): Readonly<Record<string, string>> {
    const m = this.object(obj, key, path);
    if (m === undefined) return {};
    const out: Record<string, string> = {};
    for (const [k, s] of Object.entries(m)) {
      if (s === null) {
        out[k] = ''; // Go leaves a null map value at its zero value
        continue;
      }
      if (typeof s !== 'string') this.fail(`${path}[${JSON.stringify(k)}]`, `expected a string, got ${describe(s)}`);
      out[k] = s;
    }
    return out;
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `a string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${String(v)}`;
  return `an ${typeof v}`;
}
