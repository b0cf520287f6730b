/** Prometheus metrics of the worker (own registry, so several workers can live in one process). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import http from 'node:http';

export class WorkerMetrics {
  readonly registry = new Registry();
  readonly jobs: Gauge<'state'>;
  readonly provingSeconds: Histogram<'backend' | 'circuit'>;
  readonly earnings: Counter;
  readonly slashes: Counter<'kind'>;
  readonly queueDepth: Gauge;
  readonly breaker: Gauge;
  readonly askPrice: Gauge<'circuit'>;
  readonly height: Gauge;
  readonly txErrors: Counter<'kind'>;

  constructor(backend: string, defaults = false) {
    this.registry.setDefaultLabels({ backend });
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: 'proofbook_worker_' });
    const registers = [this.registry];
    this.jobs = new Gauge({ name: 'proofbook_worker_jobs', help: 'Jobs by state (from the job store)', labelNames: ['state'], registers });
    this.provingSeconds = new Histogram({
      name: 'proofbook_worker_proving_seconds', help: 'Witness + proof wall time per job', labelNames: ['backend', 'circuit'], registers,
      buckets: [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 600],
    });
    this.earnings = new Counter({ name: 'proofbook_worker_earnings_uproof', help: 'Prices of fulfilled assignments (gross, uproof)', registers });
    this.slashes = new Counter({ name: 'proofbook_worker_slashes_total', help: 'Assignments lost (missed) or released', labelNames: ['kind'], registers });
    this.queueDepth = new Gauge({ name: 'proofbook_worker_queue_depth', help: 'Assignments held and not yet proved', registers });
    this.breaker = new Gauge({ name: 'proofbook_worker_breaker_open', help: '1 while the circuit breaker stops new work', registers });
    this.askPrice = new Gauge({ name: 'proofbook_worker_ask_price_uproof', help: 'Current ask price per circuit', labelNames: ['circuit'], registers });
    this.height = new Gauge({ name: 'proofbook_worker_height', help: 'Last chain height seen', registers });
    this.txErrors = new Counter({ name: 'proofbook_worker_tx_errors_total', help: 'Failed transaction attempts', labelNames: ['kind'], registers });
  }

  /** Serves /metrics (Prometheus text) and /status (JSON from `status()`). Resolves with the bound port. */
  serve(port: number, host: string, status: () => unknown): Promise<{ port: number; close(): Promise<void> }> {
    const server = http.createServer((req, res) => {
      void (async () => {
        try {
          if (req.url === '/metrics') {
            res.writeHead(200, { 'content-type': this.registry.contentType });
            res.end(await this.registry.metrics());
          } else if (req.url === '/status') {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify(status(), (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
          } else {
            res.writeHead(404).end('not found\n');
          }
        } catch (e) {
          res.writeHead(500).end(String(e));
        }
      })();
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const addr = server.address();
        resolve({
          port: typeof addr === 'object' && addr ? addr.port : port,
          close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
        });
      });
    });
  }
}
