import { Webhook } from 'standardwebhooks';
import type { App } from '../../core/app.js';
import type { WebhookConfig } from '../../config.js';
import type { Db, Engine } from '../../db/database.js';
import { presentEvent } from '../events/routes.js';
import { retryDelayMs } from './domain.js';
import { postWebhook, resolveTarget, TargetRefused, type SendResult } from './sender.js';
import { webhookStore, type ClaimedDelivery } from './store.js';

const addMs = (ms: number, from = Date.now()) => new Date(from + ms).toISOString();

/**
 * Delivers queued webhook deliveries at least once. State lives in the database (the
 * queue is webhook_deliveries), so a restart resumes where the last process stopped and
 * several processes can dispatch together (PostgreSQL: SKIP LOCKED).
 */
/** How one delivery attempt ended (for metrics). */
export type AttemptOutcome = 'delivered' | 'retry' | 'failed';

export function createWebhookDispatcher(deps: { db: Db; engine: Engine; config: WebhookConfig; log: (error: unknown, msg: string) => void; onAttempt?: (outcome: AttemptOutcome) => void }) {
  const { db, engine, config } = deps;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let currentTick: Promise<void> | undefined;

  async function deliver(delivery: ClaimedDelivery): Promise<void> {
    const started = Date.now();
    const at = new Date(started).toISOString();
    const endpoint = await webhookStore.findEndpoint(db, delivery.tenant_id, delivery.endpoint_id);
    const event = await webhookStore.findEvent(db, delivery.tenant_id, delivery.event_id);
    if (!endpoint || !event || endpoint.enabled !== 1) {
      await webhookStore.recordAttempt(db, delivery, { statusCode: null, error: 'endpoint disabled or removed', durationMs: 0, at }, { status: 'failed', nextAttemptAt: at });
      deps.onAttempt?.('failed');
      return;
    }
    const { cursor: _cursor, ...payload } = presentEvent({ ...event, seq: Number(event.seq) });
    const body = JSON.stringify(payload);
    let result: SendResult;
    try {
      const url = new URL(endpoint.url);
      const target = await resolveTarget(url, config.allowPrivateTargets);
      const signature = new Webhook(endpoint.secret).sign(event.id, new Date(started), body);
      result = await postWebhook(url, target, { 'webhook-id': event.id, 'webhook-timestamp': String(Math.floor(started / 1000)), 'webhook-signature': signature }, body, config.timeoutMs);
    } catch (error) {
      const message = error instanceof TargetRefused ? `refused: ${error.message}` : `could not send: ${(error as Error).message}`;
      result = { ok: false, statusCode: null, error: message.slice(0, 300) };
    }
    const durationMs = Date.now() - started;
    if (result.ok) {
      await webhookStore.recordAttempt(db, delivery, { statusCode: result.statusCode, error: null, durationMs, at }, { status: 'delivered', nextAttemptAt: at });
      deps.onAttempt?.('delivered');
    } else if (delivery.attempts >= config.maxAttempts) {
      await webhookStore.recordAttempt(db, delivery, { statusCode: result.statusCode, error: result.error, durationMs, at }, { status: 'failed', nextAttemptAt: at });
      deps.onAttempt?.('failed');
    } else {
      const nextAttemptAt = addMs(retryDelayMs(delivery.attempts, config.retryBaseMs, config.retryMaxMs));
      await webhookStore.recordAttempt(db, delivery, { statusCode: result.statusCode, error: result.error, durationMs, at }, { status: 'pending', nextAttemptAt });
      deps.onAttempt?.('retry');
    }
  }

  /** One round: claim a batch, deliver it with bounded concurrency; repeat while work is due. */
  async function tick(untilIdle = false): Promise<void> {
    while (running || untilIdle) {
      // The lease outlives the attempt's timeout, so a live attempt is never handed out twice.
      const leaseUntil = addMs(config.timeoutMs * 2 + 1_000);
      const batch = await webhookStore.claimDue(db, engine, new Date().toISOString(), leaseUntil, config.concurrency * 4);
      if (batch.length === 0) return;
      let next = 0;
      const worker = async () => {
        while (next < batch.length) {
          const delivery = batch[next++];
          await deliver(delivery).catch((error) => deps.log(error, 'webhook delivery failed unexpectedly'));
        }
      };
      await Promise.all(Array.from({ length: Math.min(config.concurrency, batch.length) }, worker));
    }
  }

  function schedule() {
    if (!running) return;
    timer = setTimeout(() => {
      currentTick = tick()
        .catch((error) => deps.log(error, 'webhook dispatcher round failed'))
        .finally(() => {
          currentTick = undefined;
          schedule();
        });
    }, config.pollMs);
  }

  return {
    start() {
      if (running) return;
      running = true;
      schedule();
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      await currentTick;
    },
    /** Runs one round now (tests, CLI). */
    runUntilIdle: () => tick(true),
  };
}

/** Runs the dispatcher inside the server process when FOLIO_WEBHOOK_DISPATCHER is not "off". */
export function startWebhookDispatcher(app: App, { db, engine, config, onAttempt }: { db: Db; engine: Engine; config: WebhookConfig; onAttempt?: (outcome: AttemptOutcome) => void }) {
  if (!config.dispatcherEnabled) return;
  const dispatcher = createWebhookDispatcher({ db, engine, config, log: (error, msg) => app.log.warn({ err: error }, msg), onAttempt });
  app.addHook('onReady', async () => dispatcher.start());
  app.addHook('onClose', async () => dispatcher.stop());
}
