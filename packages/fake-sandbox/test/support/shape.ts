// Structural comparison with the real captures: same keys in the same order,
// same JSON types, recursively. Values are not compared.
const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

export function shapeDiff(real: unknown, fake: unknown, path = '$', skip: ReadonlySet<string> = new Set()): string[] {
  if (skip.has(path)) return [];
  const kr = kind(real);
  const kf = kind(fake);
  if (kr !== kf) return [`${path}: real is ${kr}, fake is ${kf}`];
  if (kr === 'array') {
    const r = real as unknown[];
    const f = fake as unknown[];
    if (r.length === 0 || f.length === 0)
      return r.length === f.length ? [] : [`${path}: real length ${r.length}, fake ${f.length}`];
    const out: string[] = [];
    const n = Math.max(r.length, f.length);
    for (let i = 0; i < n; i++)
      out.push(...shapeDiff(r[Math.min(i, r.length - 1)], f[Math.min(i, f.length - 1)], `${path}[${i}]`, skip));
    return out;
  }
  if (kr === 'object') {
    const r = real as Record<string, unknown>;
    const f = fake as Record<string, unknown>;
    const rk = Object.keys(r).join(',');
    const fk = Object.keys(f).join(',');
    if (rk !== fk) return [`${path}: keys differ\n  real: ${rk}\n  fake: ${fk}`];
    return Object.keys(r).flatMap((k) => shapeDiff(r[k], f[k], `${path}.${k}`, skip));
  }
  return [];
}
