import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../core/app.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DatabaseHandle } from '../db/database.js';
import type { AttemptOutcome } from '../modules/webhooks/dispatcher.js';
import { webhookStore } from '../modules/webhooks/store.js';
import { AppError } from '../shared/errors.js';

/**
 * Prometheus metrics (`GET /metrics`, text format). One registry per app instance, so several
 * apps in one process (tests) do not share counters. Routes are labelled by their pattern
 * (`/v1/invoices/:id`), never by the raw URL, so label cardinality stays bounded.
 */
export function createMetrics(database: DatabaseHandle, options: { token?: string }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'folio_' });

  const requests = new Counter({ name: 'folio_http_requests_total', help: 'HTTP requests answered, by method, route pattern and status.', labelNames: ['method', 'route', 'status'] as const, registers: [registry] });
  const duration = new Histogram({
    name: 'folio_http_request_duration_seconds',
    help: 'Time to answer, by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const invoiceWrites = new Counter({ name: 'folio_invoice_writes_total', help: 'Successful invoice writes (create, update, lifecycle, payments, attachments, dialects), by method and route.', labelNames: ['method', 'route'] as const, registers: [registry] });
  const conflicts = new Counter({ name: 'folio_conflicts_total', help: 'Writes refused for concurrency: 412 (stale If-Match) and 409 (conflict, key in flight, retryable).', labelNames: ['status'] as const, registers: [registry] });
  const replays = new Counter({ name: 'folio_idempotent_replays_total', help: 'Requests answered from a stored Idempotency-Key response.', registers: [registry] });
  const webhookAttempts = new Counter({ name: 'folio_webhook_attempts_total', help: 'Webhook delivery attempts by outcome (retry and failed are delivery failures).', labelNames: ['outcome'] as const, registers: [registry] });
  new Gauge({
    name: 'folio_webhook_queue_depth',
    help: 'Webhook deliveries waiting to be sent (all tenants).',
    registers: [registry],
    async collect() {
      this.set(await webhookStore.countPending(database.db));
    },
  });
  const poolStats = database.poolStats;
  if (poolStats) {
    new Gauge({
      name: 'folio_db_pool_connections',
      help: 'PostgreSQL pool connections by state (total, idle, waiting clients, max).',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        const now = poolStats();
        this.set({ state: 'total' }, now.total);
        this.set({ state: 'idle' }, now.idle);
        this.set({ state: 'waiting' }, now.waiting);
        this.set({ state: 'max' }, now.max);
      },
    });
  }

  const writeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
  function observe(request: FastifyRequest, reply: FastifyReply) {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    requests.inc({ method: request.method, route, status: String(status) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    if (status === 412 || status === 409) conflicts.inc({ status: String(status) });
    if (reply.getHeader('idempotent-replayed') === 'true') replays.inc();
    else if (status < 300 && writeMethods.has(request.method) && /invoice|compat/i.test(route)) invoiceWrites.inc({ method: request.method, route });
  }

  function register(app: App) {
    app.addHook('onResponse', async (request, reply) => observe(request, reply));
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      if (options.token && request.headers.authorization !== `Bearer ${options.token}`) {
        throw new AppError('unauthorized', 'Send the metrics token: Authorization: Bearer <FOLIO_METRICS_TOKEN>.');
      }
      return reply.type(registry.contentType).send(await registry.metrics());
    });
  }

  return { registry, register, onWebhookAttempt: (outcome: AttemptOutcome) => webhookAttempts.inc({ outcome }) };
}
