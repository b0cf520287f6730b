import { loadScenario } from './sim/scenario.js';
import { buildWorld } from './sim/agents.js';
import { runMechanism } from './sim/run.js';
const s = loadScenario('./scenarios/censor-hold-patience.json');
for (const n of [16, 64]) for (const seed of [1, 2, 3]) {
  const line: string[] = [`n=${n} seed=${seed}`];
  for (const m of ['proofbook', 'patience'] as const) {
    const w = buildWorld(s, seed, n);
    const r = await runMechanism(w, m);
    const cls = (c: boolean) => { const js = r.outcome.jobs.filter((j, i) => w.jobs[i].censored === c && j.price !== null && j.price !== undefined); return `${js.length}:${js.length ? (js.reduce((a, j) => a + Number(j.price), 0) / js.length).toFixed(0) : '-'}`; };
    line.push(`${m} censored ${cls(true)} other ${cls(false)}`);
  }
  console.log(line.join(' | '));
}
