/** A chart over block height (uPlot: ~50 kB, canvas, handles thousands of points cheaply). x is the block height. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series { label: string; color: string; points?: boolean }

const COLORS = ['#2563eb', '#db2777', '#059669', '#d97706', '#7c3aed', '#0891b2'];
export const color = (i: number) => COLORS[i % COLORS.length]!;

/**
 * `data` = [xs, ys1, ys2, …] (uPlot's aligned columns; null = no value at that x).
 * `id` marks the chart for tests (data-chart, data-points = number of x values).
 */
export function Chart({ id, data, series, yLabel, height = 220 }: { id: string; data: (number | null)[][]; series: Series[]; yLabel: string; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => s.label).join('|');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height,
      scales: { x: { time: false } },
      legend: { show: series.length > 1 },
      axes: [{ stroke: '#667', label: 'block height', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000] }, { label: yLabel, stroke: '#667', size: 60 }],
      series: [
        { label: 'height' },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          spanGaps: true,
          points: { show: s.points ?? true, size: 5, fill: s.color },
        })),
      ],
    };
    const p = new uPlot(opts, data as uPlot.AlignedData, el);
    plot.current = p;
    const ro = new ResizeObserver(() => p.setSize({ width: Math.max(280, el.clientWidth), height }));
    ro.observe(el);
    return () => { ro.disconnect(); p.destroy(); plot.current = null; };
  }, [shape, height, yLabel]);

  useEffect(() => { plot.current?.setData(data as uPlot.AlignedData); }, [data]);

  const n = data[0]?.length ?? 0;
  return (
    <div class="chart" data-chart={id} data-points={n}>
      <div ref={box} />
      {n === 0 ? <p class="chart-empty">No points yet: they appear as blocks with auctions or fills arrive.</p> : null}
    </div>
  );
}

/** Aligns several (x, y) series on the union of their xs. */
export function align(seriesPoints: { x: number; y: number }[][]): (number | null)[][] {
  const xs = [...new Set(seriesPoints.flatMap((s) => s.map((p) => p.x)))].sort((a, b) => a - b);
  const idx = new Map(xs.map((x, i) => [x, i]));
  const cols = seriesPoints.map((s) => {
    const col: (number | null)[] = new Array(xs.length).fill(null);
    for (const p of s) col[idx.get(p.x)!] = p.y;
    return col;
  });
  return [xs, ...cols];
}
