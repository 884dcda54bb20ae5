/**
 * bench:smoke — every benchmark with tiny N and 1–2 s runs, one after the other, so CI keeps
 * the scripts working. No timing is asserted; any script that fails makes this exit non-zero.
 * Results go to bench/results/smoke/ (git-ignored).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { buildOnce, repoRoot } from './lib/common.js';

const scripts: { name: string; env?: Record<string, string> }[] = [
  { name: 'update' },
  { name: 'scale' },
  { name: 'read' },
  { name: 'read', env: { BENCH_ENGINE: 'sqlite' } },
  { name: 'embedded' },
  { name: 'profile' },
  { name: 'web' },
  { name: 'documents' },
  { name: 'jobs' },
  { name: 'issue18' },
  { name: 'rate-limit' },
  { name: 'write-cost' },
  // One build against itself under two settings: the write-base cache off (A) and on (B).
  { name: 'ab', env: { BENCH_AB_BASE: '.', BENCH_AB_ENGINE: 'sqlite', BENCH_AB_ENV_A: 'FOLIO_WRITE_BASE_CACHE_LINES=0' } },
];

buildOnce();
const failures: string[] = [];
const startedAt = performance.now();
for (const script of scripts) {
  const label = `${script.name}${script.env ? ` (${Object.entries(script.env).map(([k, v]) => `${k}=${v}`).join(' ')})` : ''}`;
  console.log(`\n=== bench:smoke ${label} ===`);
  const scriptStartedAt = performance.now();
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bench', `${script.name}.ts`)], {
    cwd: repoRoot,
    stdio: 'inherit',
    env: { ...process.env, ...script.env, BENCH_SMOKE: '1', BENCH_SKIP_BUILD: '1' },
  });
  console.log(`=== ${label}: ${run.status === 0 ? 'ok' : `FAILED (exit ${run.status ?? run.signal})`} in ${((performance.now() - scriptStartedAt) / 1000).toFixed(1)} s ===`);
  if (run.status !== 0) failures.push(label);
}
console.log(`\nbench:smoke finished in ${((performance.now() - startedAt) / 1000).toFixed(1)} s: ${scripts.length - failures.length} ok, ${failures.length} failed${failures.length ? ` (${failures.join(', ')})` : ''}`);
process.exit(failures.length > 0 ? 1 : 0);
