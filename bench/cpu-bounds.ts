/**
 * bench:cpu-bounds — one write key must not stall every tenant (issue 13, item 2). Six PATCHes of
 * 1.5 MB / 150,000 metadata keys at once, and another tenant's GET meanwhile: how long the GET and
 * the six take, through `inject` (as test/security/cpu-bounds.test.ts) and over real sockets
 * (server and `fetch` clients in this one process, so the clients' sending is on the same event loop).
 * The engine is FOLIO_TEST_ENGINE (sqlite or postgres); the database is a fresh one per run.
 * See docs/reliability-and-security.md for figures.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startTestApp } from '../test/helpers/harness.js';
import { intSetting } from './lib/common.js';

const rounds = intSetting('BENCH_CPU_ROUNDS', 9, 3);
const median = (values: number[]) => Math.round([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]);
type Call = (key: string, method: string, path: string, body?: Buffer) => Promise<{ status: number; body: string }>;

const t = await startTestApp();
try {
  const attackerKey = await t.key('cpu-attacker');
  const bystanderKey = await t.key('cpu-bystander');
  const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  const viaInject: Call = async (key, method, url, body) => {
    const reply = await t.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, payload: body });
    return { status: reply.statusCode, body: reply.body };
  };
  const viaSocket: Call = async (key, method, path, body) => {
    const response = await fetch(base + path, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : new Uint8Array(body) });
    return { status: response.status, body: await response.text() };
  };
  const invoiceBody = Buffer.from(JSON.stringify({ currency: 'EUR', lines: [{ description: 'Work', quantity: '1', unit_price: '10' }] }));
  const target = JSON.parse((await viaInject(attackerKey, 'POST', '/v1/invoices', invoiceBody)).body);
  const mine = JSON.parse((await viaInject(bystanderKey, 'POST', '/v1/invoices', invoiceBody)).body);
  const hostile = Buffer.from(JSON.stringify({ metadata: Object.fromEntries(Array.from({ length: 150_000 }, (_, index) => [`k${index}`, 'v'])) }));

  for (const [transport, call] of [['inject', viaInject], ['sockets', viaSocket]] as const) {
    const send = () => call(attackerKey, 'PATCH', `/v1/invoices/${target.id}`, hostile);
    await call(bystanderKey, 'GET', `/v1/invoices/${mine.id}`); // warms the key cache
    const singleMs: number[] = [];
    const getMs: number[] = [];
    const sixMs: number[] = [];
    const loopDelayMs: number[] = [];
    for (let round = 0; round < rounds; round++) {
      let started = performance.now();
      const single = await send();
      singleMs.push(performance.now() - started);
      if (single.status !== 413) throw new Error(`hostile PATCH: ${single.status} ${single.body.slice(0, 200)}`);
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const six = Array.from({ length: 6 }, () => send());
      started = performance.now();
      const read = await call(bystanderKey, 'GET', `/v1/invoices/${mine.id}`);
      getMs.push(performance.now() - started);
      await Promise.all(six);
      sixMs.push(performance.now() - started);
      delay.disable();
      loopDelayMs.push(delay.max / 1e6);
      if (read.status !== 200) throw new Error(`bystander GET: ${read.status}`);
    }
    console.log(
      `${t.database.engine} ${transport}: hostile_patch_ms=${median(singleMs)} bystander_get_ms=${median(getMs)} six_hostile_ms=${median(sixMs)} max_loop_delay_ms=${median(loopDelayMs)} (medians of ${rounds})`,
    );
  }
} finally {
  await t.close();
}
