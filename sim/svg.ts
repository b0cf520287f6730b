/** A small SVG writer for the simulator's plots: line charts (with optional log-x) and grouped bar charts. */

export interface Series {
  name: string;
  /** [x, y] or [x, y, lo, hi] (an error bar from lo to hi). */
  points: ([number, number] | [number, number, number, number])[];
}

/** Dash patterns and marker shapes per series, so overlapping lines stay distinguishable (fixed under random). */
const DASHES = ['', '6 3', '2 3', '10 3 2 3', '4 4', '1 2', '8 2', '3 6'];

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf', '#7f7f7f'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 0 : 1) + 'M';
  if (a >= 1e3) return (v / 1e3).toFixed(a >= 1e4 ? 0 : 1) + 'k';
  if (a >= 10 || Number.isInteger(v)) return v.toFixed(0);
  return v.toFixed(2);
}

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

const W = 720;
const H = 420;
const M = { l: 70, r: 170, t: 40, b: 50 };

function frame(title: string, xLabel: string, yLabel: string, body: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - M.r / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    `<text x="${M.l + (W - M.l - M.r) / 2}" y="${H - 10}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(16 ${M.t + (H - M.t - M.b) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    body,
    '</svg>',
  ].join('\n');
}

function legend(names: string[]): string {
  return names
    .map((n, i) => `<line x1="${W - M.r + 10}" x2="${W - M.r + 30}" y1="${M.t + i * 20 + 6}" y2="${M.t + i * 20 + 6}" stroke="${COLORS[i % COLORS.length]}" stroke-width="3"${DASHES[i % DASHES.length] ? ` stroke-dasharray="${DASHES[i % DASHES.length]}"` : ''}/><text x="${W - M.r + 36}" y="${M.t + i * 20 + 11}">${esc(n)}</text>`)
    .join('\n');
}

export function lineChart(o: { title: string; xLabel: string; yLabel: string; series: Series[]; logX?: boolean; logY?: boolean; steps?: boolean }): string {
  const pts = o.series.flatMap((s) => s.points.flatMap((p) => (p.length === 4 ? [[p[0], p[1]], [p[0], p[2]], [p[0], p[3]]] : [p]))).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const tx = (x: number) => (o.logX ? Math.log2(x) : x);
  const ty = (y: number) => (o.logY ? Math.log10(Math.max(y, 1e-9)) : y);
  const xs = pts.map(([x]) => tx(x));
  const ys = pts.map(([, y]) => ty(y));
  let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = o.logY ? Math.min(...ys) : Math.min(0, ...ys), y1 = Math.max(...ys);
  if (!(x1 > x0)) x1 = x0 + 1;
  if (!(y1 > y0)) y1 = y0 + 1;
  y1 += (y1 - y0) * 0.05;
  const pw = W - M.l - M.r, ph = H - M.t - M.b;
  const sx = (x: number) => M.l + ((tx(x) - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => M.t + ph - ((ty(y) - y0) / (y1 - y0)) * ph;
  const parts: string[] = [`<rect x="${M.l}" y="${M.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`];
  const xt = o.logX ? [...new Set(pts.map(([x]) => x))].sort((a, b) => a - b) : niceTicks(x0, x1);
  for (const t of xt) parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${M.t + ph}" y2="${M.t + ph + 5}" stroke="#333"/><text x="${sx(t)}" y="${M.t + ph + 18}" text-anchor="middle">${fmt(t)}</text>`);
  const yt = o.logY ? niceTicks(y0, y1).map((e) => Math.pow(10, e)) : niceTicks(y0, y1);
  for (const t of yt) parts.push(`<line x1="${M.l}" x2="${M.l + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/><text x="${M.l - 6}" y="${sy(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  o.series.forEach((s, i) => {
    const ok = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (ok.length === 0) return;
    const color = COLORS[i % COLORS.length];
    const dash = DASHES[i % DASHES.length];
    // steps: a CDF is flat between observations and jumps at each one
    const line: [number, number][] = [];
    ok.forEach(([x, y], k) => {
      if (o.steps && k > 0) line.push([x, ok[k - 1][1]]);
      line.push([x, y]);
    });
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${line.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of ok) {
      if (p.length === 4 && Number.isFinite(p[2]) && Number.isFinite(p[3])) {
        parts.push(`<line x1="${sx(p[0]).toFixed(1)}" x2="${sx(p[0]).toFixed(1)}" y1="${sy(p[2]).toFixed(1)}" y2="${sy(p[3]).toFixed(1)}" stroke="${color}" stroke-width="1.5"/>`);
      }
    }
    if (ok.length <= 16) for (const [x, y] of ok) parts.push(i % 2 === 0 ? `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3.5" fill="${color}"/>` : `<rect x="${(sx(x) - 3.5).toFixed(1)}" y="${(sy(y) - 3.5).toFixed(1)}" width="7" height="7" fill="none" stroke="${color}" stroke-width="1.5"/>`);
  });
  parts.push(legend(o.series.map((s) => s.name)));
  return frame(o.title, o.xLabel, o.yLabel, parts.join('\n'));
}

export function barChart(o: { title: string; yLabel: string; groups: string[]; series: { name: string; values: number[]; lo?: number[]; hi?: number[] }[] }): string {
  const pw = W - M.l - M.r, ph = H - M.t - M.b;
  const vals = o.series.flatMap((s) => [...s.values, ...(s.hi ?? [])]).filter(Number.isFinite);
  const y1 = Math.max(1e-9, ...vals) * 1.08;
  const sy = (y: number) => M.t + ph - (y / y1) * ph;
  const gw = pw / o.groups.length;
  const bw = (gw * 0.8) / Math.max(1, o.series.length);
  const parts: string[] = [`<rect x="${M.l}" y="${M.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`];
  for (const t of niceTicks(0, y1)) parts.push(`<line x1="${M.l}" x2="${M.l + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/><text x="${M.l - 6}" y="${sy(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  o.groups.forEach((g, gi) => {
    parts.push(`<text x="${M.l + gi * gw + gw / 2}" y="${M.t + ph + 18}" text-anchor="middle">${esc(g)}</text>`);
    o.series.forEach((s, si) => {
      const v = s.values[gi];
      if (!Number.isFinite(v)) return;
      const x = M.l + gi * gw + gw * 0.1 + si * bw;
      parts.push(`<rect x="${x.toFixed(1)}" y="${sy(v).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(M.t + ph - sy(v)).toFixed(1)}" fill="${COLORS[si % COLORS.length]}"/>`);
      const lo = s.lo?.[gi];
      const hi = s.hi?.[gi];
      if (lo !== undefined && hi !== undefined && Number.isFinite(lo) && Number.isFinite(hi)) {
        const cx = x + (bw - 2) / 2;
        parts.push(`<line x1="${cx.toFixed(1)}" x2="${cx.toFixed(1)}" y1="${sy(lo).toFixed(1)}" y2="${sy(hi).toFixed(1)}" stroke="#222" stroke-width="1.5"/><line x1="${(cx - 4).toFixed(1)}" x2="${(cx + 4).toFixed(1)}" y1="${sy(lo).toFixed(1)}" y2="${sy(lo).toFixed(1)}" stroke="#222"/><line x1="${(cx - 4).toFixed(1)}" x2="${(cx + 4).toFixed(1)}" y1="${sy(hi).toFixed(1)}" y2="${sy(hi).toFixed(1)}" stroke="#222"/>`);
      }
    });
  });
  parts.push(legend(o.series.map((s) => s.name)));
  return frame(o.title, '', o.yLabel, parts.join('\n'));
}
