/**
 * A Folio server in its own process for memory measurements: it listens on a free port,
 * tells its parent (IPC) the port and an API key, samples its own RSS every 2 ms between
 * "start" and "report", and answers "report" with the baseline and the peak.
 */
import type { AddressInfo } from 'node:net';
import { startTestApp } from './harness.js';

const t = await startTestApp();
const key = await t.key('memory-probe');
await t.app.listen({ port: 0, host: '127.0.0.1' });
const port = (t.app.server.address() as AddressInfo).port;

let baselineRss = 0;
let peakRss = 0;
let sampler: NodeJS.Timeout | undefined;
let collector: NodeJS.Timeout | undefined;
const gc = (globalThis as { gc?: (options?: { type: 'major' | 'minor' }) => void }).gc ?? (() => {});
/** A scavenge: cheap (about a millisecond), and it frees short-lived buffers such as socket reads. */
const minorGc = () => gc({ type: 'minor' });

process.on('message', async (message: { kind: string; gcEveryMs?: number }) => {
  if (message.kind === 'start') {
    gc();
    baselineRss = process.memoryUsage().rss;
    peakRss = baselineRss;
    sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 2);
    // Optional: collect young garbage regularly, so the peak shows memory held, not garbage V8 has not collected yet.
    if (message.gcEveryMs) collector = setInterval(minorGc, message.gcEveryMs);
    process.send?.({ kind: 'started' });
  } else if (message.kind === 'report') {
    clearInterval(sampler);
    clearInterval(collector);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    process.send?.({ kind: 'report', baselineRss, peakRss });
  } else if (message.kind === 'stop') {
    await t.close();
    process.exit(0);
  }
});
process.send?.({ kind: 'ready', port, key, dataDir: t.config.dataDir });
