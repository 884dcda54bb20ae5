/**
 * CPU time spent by the PostgreSQL backends serving one database, measured from /proc (the
 * server runs on this machine). pg_stat_activity names the backends of the database; each one's
 * utime + stime is read while a slice runs. Backends that start during the slice count from 0
 * (their connection set-up included); backends that end during it (pgbench's, at the end of a
 * run) count up to the last poll, so up to one poll interval of their work is missed.
 */
import pg from 'pg';
import { cpuTimeMs, pgAdminUrl } from './common.js';

export interface BackendCpuSampler {
  /** Stops polling and returns the backends' CPU ms since start (0 where /proc cannot be read). */
  stop(): Promise<number>;
}

export async function sampleBackendCpu(databaseName: string, intervalMs = 100): Promise<BackendCpuSampler> {
  const admin = new pg.Client({ connectionString: pgAdminUrl });
  await admin.connect();
  const baselineMs = new Map<number, number>();
  const lastMs = new Map<number, number>();
  const poll = async (first: boolean) => {
    const { rows } = await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'`, [databaseName]);
    for (const { pid } of rows) {
      const now = cpuTimeMs(pid);
      if (!baselineMs.has(pid)) baselineMs.set(pid, first ? now : 0);
      // A pid that vanished between the query and the read reads 0: keep its last value.
      if (now > 0) lastMs.set(pid, now);
    }
  };
  await poll(true);
  let polling = Promise.resolve();
  const timer = setInterval(() => {
    polling = polling.then(() => poll(false)).catch(() => {});
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await polling;
      await poll(false).catch(() => {});
      await admin.end();
      let total = 0;
      for (const [pid, last] of lastMs) total += Math.max(0, last - (baselineMs.get(pid) ?? 0));
      return total;
    },
  };
}
