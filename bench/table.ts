/** Prints a benchmark table: one row per measurement, with a ratio column against a named baseline row. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** Name of the row (in the same table) this row is compared with; the ratio is value/baseline. */
  baseline?: string;
  /** For rates where lower is better (ms/op), so the ratio reads as "times faster". */
  lowerIsBetter?: boolean;
  target?: string;
  note?: string;
}

export function printTable(title: string, rows: BenchRow[]): void {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));
  const table = rows.map((r) => {
    const base = r.baseline ? byName.get(r.baseline) : undefined;
    let ratio = '';
    if (base && base.value !== 0 && r.value !== 0) {
      ratio = (r.lowerIsBetter ? base.value / r.value : r.value / base.value).toFixed(2) + 'x vs ' + base.name;
    }
    return [r.name, fmt(r.value) + ' ' + r.unit, ratio, r.target ?? '', r.note ?? ''];
  });
  const header = ['measurement', 'value', 'ratio', 'target', 'note'];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(`\n### ${title}\n`);
  console.log(line(header));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const row of table) console.log(line(row));
}

/** Runs `fn` repeatedly for at least `minMs` (after one warm-up call) and returns mean ms per call. */
export async function timeIt(fn: () => unknown | Promise<unknown>, minMs = 1000, minRuns = 3): Promise<number> {
  await fn();
  let runs = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (runs < minRuns || elapsed < minMs) {
    await fn();
    runs++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return elapsed / runs;
}
