// Prometheus' HTTP API, read the way a dashboard would (/api/v1/query, /series).

export interface PromSeries {
  metric: Record<string, string>;
  value?: [number, string];
}

async function api<T>(baseUrl: string, path: string, params: [string, string][]): Promise<T> {
  const qs = new URLSearchParams(params).toString();
  const res = await fetch(`${baseUrl}${path}?${qs}`);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`Prometheus ${path}?${qs}: ${body.error ?? res.status}`);
  return body.data;
}

export async function promQuery(baseUrl: string, query: string): Promise<PromSeries[]> {
  const data = await api<{ resultType: string; result: PromSeries[] }>(baseUrl, '/api/v1/query', [['query', query]]);
  return data.result;
}

export async function promSeries(baseUrl: string, match: string): Promise<Record<string, string>[]> {
  return api<Record<string, string>[]>(baseUrl, '/api/v1/series', [['match[]', match]]);
}

/** Polls `probe` until it returns a value (not undefined) or the time is up; then throws with `what`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}
