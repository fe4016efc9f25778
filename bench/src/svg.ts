// A dependency-free SVG line chart: p50 scrape latency vs N, log-log, one line per series.
export interface Series {
  readonly name: string;
  readonly color: string;
  readonly dash?: string;
  readonly points: readonly { readonly n: number; readonly ms: number }[];
}

const W = 780;
const H = 440;
const M = { l: 70, r: 170, t: 40, b: 55 };

export function latencyChart(title: string, series: readonly Series[]): string {
  const all = series.flatMap((s) => s.points).filter((p) => p.ms > 0);
  const ns = all.map((p) => p.n);
  const ms = all.map((p) => p.ms);
  const xMin = Math.log10(Math.min(...ns, 1));
  const xMax = Math.log10(Math.max(...ns, 10));
  const yMin = Math.floor(Math.log10(Math.min(...ms, 1)));
  const yMax = Math.ceil(Math.log10(Math.max(...ms, 10)));
  const x = (n: number): number => M.l + ((Math.log10(n) - xMin) / (xMax - xMin || 1)) * (W - M.l - M.r);
  const y = (v: number): number => H - M.b - ((Math.log10(v) - yMin) / (yMax - yMin || 1)) * (H - M.t - M.b);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
      `font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.l}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  for (let e = yMin; e <= yMax; e++) {
    const v = 10 ** e;
    out.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${M.l - 8}" y="${y(v) + 4}" text-anchor="end">${v >= 1 ? v : v.toPrecision(1)} ms</text>`);
  }
  for (const n of [...new Set(ns)].sort((a, b) => a - b)) {
    out.push(`<line x1="${x(n)}" x2="${x(n)}" y1="${M.t}" y2="${H - M.b}" stroke="#eee"/>`);
    out.push(`<text x="${x(n)}" y="${H - M.b + 18}" text-anchor="middle">${n}</text>`);
  }
  out.push(`<text x="${(M.l + W - M.r) / 2}" y="${H - 12}" text-anchor="middle">sandboxes (N, log scale)</text>`);
  out.push(
    `<text transform="translate(16 ${(M.t + H - M.b) / 2}) rotate(-90)" text-anchor="middle">p50 scrape latency ` +
      `(log scale)</text>`,
  );
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => p.ms > 0);
    const d = pts.map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p.n).toFixed(1)},${y(p.ms).toFixed(1)}`).join(' ');
    out.push(
      `<path d="${d}" fill="none" stroke="${s.color}" ` +
        `stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
    );
    for (const p of pts)
      out.push(`<circle cx="${x(p.n).toFixed(1)}" cy="${y(p.ms).toFixed(1)}" r="3" fill="${s.color}"/>`);
    const ly = M.t + 10 + i * 20;
    out.push(
      `<line x1="${W - M.r + 15}" x2="${W - M.r + 40}" y1="${ly}" y2="${ly}" stroke="${s.color}" ` +
        `stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
    );
    out.push(`<text x="${W - M.r + 46}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
