import type { App } from '../../core/app.js';
import type { JobWorkerConfig } from '../../config.js';
import type { JobService } from './service.js';

/**
 * Runs jobs inside the service process: matches filters into items, then processes due items,
 * one invoice per transaction. State lives in the database, so a restart resumes where the last
 * process stopped, and on PostgreSQL several processes share the work (SKIP LOCKED claims).
 */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Matching pages (of ids) per round before a batch of items is processed: processing starts with
 * the first page, but a million matches are listed in minutes instead of waiting on the items.
 */
const matchPagesPerRound = 10;

export function createJobWorker(deps: { jobs: JobService; config: JobWorkerConfig; log: (error: unknown, msg: string) => void }) {
  const { jobs, config } = deps;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let currentRound: Promise<void> | undefined;

  /** Works until nothing is due (or the worker is stopped). */
  async function round(untilIdle = false): Promise<void> {
    while (running || untilIdle) {
      let matched = false;
      for (let page = 0; page < matchPagesPerRound && (await jobs.matchNextPage()); page++) matched = true;
      const processed = await jobs.processDueItems(config.batchSize);
      if (!matched && processed === 0) return;
      // better-sqlite3 answers synchronously, so this loop alone would never let the event loop
      // serve requests (GET of the job's progress, PATCHes): yield between batches.
      await yieldToEventLoop();
    }
  }

  function schedule() {
    if (!running) return;
    timer = setTimeout(() => {
      currentRound = round()
        .catch((error) => deps.log(error, 'job worker round failed'))
        .finally(() => {
          currentRound = undefined;
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
      await currentRound;
    },
    /** Runs rounds until idle, now (tests, CLI, bench). */
    runUntilIdle: () => round(true),
  };
}

/** Starts the worker with the app (unless FOLIO_JOB_WORKER=off) and stops it, finishing its current item, on close. */
export function startJobWorker(app: App, jobs: JobService, config: JobWorkerConfig) {
  if (!config.workerEnabled) return;
  const worker = createJobWorker({ jobs, config, log: (error, msg) => app.log.warn({ err: error }, msg) });
  app.addHook('onReady', async () => worker.start());
  app.addHook('onClose', async () => worker.stop());
}
