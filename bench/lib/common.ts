/**
 * Shared plumbing for the benchmarks: settings from the environment, a dedicated
 * PostgreSQL database per run, the Folio server as a child process, RSS sampling,
 * tables and JSON results.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const resultsDir = path.join(repoRoot, 'bench', 'results');

/** BENCH_SMOKE=1: tiny N, seconds-long runs, results written under bench/results/smoke (ignored by git). */
export const smoke = process.env.BENCH_SMOKE === '1';

export function intSetting(name: string, fallback: number, smokeFallback: number): number {
  const raw = process.env[name];
  if (raw !== undefined && raw !== '') {
    const value = Number(raw.replace(/_/g, ''));
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
    return value;
  }
  return smoke ? smokeFallback : fallback;
}

export function listSetting(name: string, fallback: number[], smokeFallback: number[]): number[] {
  const raw = process.env[name];
  if (raw) return raw.split(',').map((part) => Number(part.trim()));
  return smoke ? smokeFallback : fallback;
}

export const pgAdminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A database name no other run can be using: `<base>_<pid>_<random>`. Two benchmarks (or two
 * helpers' runs) on one server used to drop each other's databases when names were fixed.
 */
export function benchDatabaseName(base: string): string {
  return `${base}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Databases this run created and has not dropped yet: dropped by runMain at the end, on error and on SIGINT/SIGTERM. */
const createdDatabases = new Set<string>();

/**
 * Drops (if it exists) and creates a dedicated benchmark database; returns its URL. Unless `keep`
 * (a database meant to outlive the run, e.g. BENCH_SCALE_REUSE), it is dropped when the run ends.
 */
export async function freshPostgresDatabase(name: string, options: { keep?: boolean } = {}): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  const admin = new pg.Client({ connectionString: pgAdminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
    if (!options.keep) createdDatabases.add(name);
  } finally {
    await admin.end();
  }
  return postgresUrlFor(name);
}

/** A new database `name`, a copy of `template` (which nobody may be connected to); dropped when the run ends. */
export async function copyPostgresDatabase(template: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name) || !/^[a-z_][a-z0-9_]*$/.test(template)) throw new Error(`bad database name ${name} or ${template}`);
  const admin = new pg.Client({ connectionString: pgAdminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
    createdDatabases.add(name);
  } finally {
    await admin.end();
  }
  return postgresUrlFor(name);
}

export function postgresUrlFor(name: string): string {
  const url = new URL(pgAdminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropPostgresDatabase(name: string): Promise<void> {
  createdDatabases.delete(name);
  const admin = new pg.Client({ connectionString: pgAdminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Drops every database this run created and still holds (BENCH_KEEP_DB=1 keeps them). */
async function dropCreatedDatabases(): Promise<void> {
  if (process.env.BENCH_KEEP_DB === '1') return;
  for (const name of [...createdDatabases]) {
    await dropPostgresDatabase(name).catch((error) => console.error(`could not drop ${name}: ${error.message}`));
  }
}

export function freshDataDir(name: string): string {
  const dir = path.join(os.tmpdir(), `folio-bench-${name}-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

let built = false;
/** Benchmarks run the compiled server (node dist/main.js), as production would. */
export function buildOnce(): void {
  if (built || process.env.BENCH_SKIP_BUILD === '1') return;
  const result = spawnSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm run build failed');
  built = true;
}

export interface FolioServer {
  url: string;
  pid: number;
  process: ChildProcess;
  /** Milliseconds from spawn until /health answered 200. */
  startMs: number;
  stop(): Promise<void>;
}

/** Server processes started and not yet exited: killed when the run is interrupted. */
const runningServers = new Set<ChildProcess>();

/**
 * A port the kernel says is free now. A fixed range is not safe: ports above 32768 are also the
 * kernel's ephemeral range, so a load client's or pg's outgoing socket could hold the next one.
 */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

type StartOptions = {
  dataDir: string;
  databaseUrl?: string;
  cpuProfileDir?: string;
  env?: Record<string, string>;
  /** Another checkout's built tree (bench:ab); default this one, built first. */
  root?: string;
};

/** Starts dist/main.js; a start that loses its port to another socket in between is retried. */
export async function startFolio(options: StartOptions): Promise<FolioServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startFolioOnce(options, await freePort());
    } catch (error) {
      if (attempt >= 3 || !(error instanceof Error) || !error.message.includes('exited during start')) throw error;
    }
  }
}

async function startFolioOnce(options: StartOptions, port: number): Promise<FolioServer> {
  const root = options.root ?? repoRoot;
  if (!options.root) buildOnce();
  const nodeArgs = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
  const startedAt = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, 'dist', 'main.js')], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      FOLIO_DATA_DIR: options.dataDir,
      DATABASE_URL: options.databaseUrl ?? '',
      FOLIO_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      FOLIO_RATE_LIMIT_PER_MINUTE: '0',
      FOLIO_DB_POOL_SIZE: process.env.BENCH_POOL_SIZE ?? '20',
      ...options.env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  runningServers.add(child);
  child.on('exit', () => {
    exited = true;
    runningServers.delete(child);
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`folio server exited during start (code ${child.exitCode})`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('folio server did not answer /health within 60 s');
    }
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    await sleep(10);
  }
  const startMs = performance.now() - startedAt;
  return {
    url,
    pid: child.pid!,
    process: child,
    startMs,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU time (user + system) a process has used so far, in ms (/proc/<pid>/stat; 0 where there is no /proc). */
export function cpuTimeMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command; clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** Samples a process's resident set size (VmRSS, /proc) every intervalMs, and its CPU time over the window. */
export function sampleRss(pid: number, intervalMs = 200) {
  const samplesMb: number[] = [];
  const cpuAtStartMs = cpuTimeMs(pid);
  const read = () => {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1]);
      if (Number.isFinite(kb)) samplesMb.push(kb / 1024);
    } catch {
      // process gone or no /proc (not Linux)
    }
  };
  read();
  const timer = setInterval(read, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      read();
      return { maxMb: round(Math.max(0, ...samplesMb), 1), lastMb: round(samplesMb.at(-1) ?? 0, 1), cpuMs: cpuTimeMs(pid) - cpuAtStartMs };
    },
  };
}

export const round = (value: number, places = 2) => Math.round(value * 10 ** places) / 10 ** places;

/** Prints an aligned table. */
export function printTable(title: string, rows: Record<string, unknown>[]): void {
  console.log(`\n${title}`);
  if (rows.length === 0) {
    console.log('(no rows)');
    return;
  }
  const columns = Object.keys(rows[0]);
  const cells = rows.map((row) => columns.map((column) => String(row[column] ?? '')));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((row) => row[i].length)));
  const line = (values: string[]) => '| ' + values.map((value, i) => value.padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(columns));
  console.log('|' + widths.map((width) => '-'.repeat(width + 2)).join('|') + '|');
  for (const row of cells) console.log(line(row));
}

export function machineInfo() {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    /** 1, 5 and 15 minute load averages when the results were written: above the core count, other work competed for the CPUs. */
    loadAverage: os.loadavg().map((value) => round(value, 1)),
  };
}

/** Writes bench/results/<name>.json (smoke runs: bench/results/smoke/<name>.json, git-ignored). */
export function writeResults(name: string, data: Record<string, unknown>): string {
  const dir = smoke ? path.join(resultsDir, 'smoke') : resultsDir;
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ benchmark: name, smoke, finishedAt: new Date().toISOString(), machine: machineInfo(), ...data }, null, 2) + '\n');
  console.log(`\nresults: ${path.relative(repoRoot, file)}`);
  return file;
}

/**
 * Runs main, drops the databases it created (also when it fails or is interrupted with
 * Ctrl-C / SIGTERM) and exits non-zero on any error (the smoke run relies on it).
 */
export function runMain(main: () => Promise<void>): void {
  let interrupted = false;
  const interrupt = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping servers and dropping this run's databases`);
    for (const child of runningServers) child.kill('SIGKILL');
    void dropCreatedDatabases().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  main().then(
    async () => {
      await dropCreatedDatabases();
      process.exit(0);
    },
    async (error) => {
      console.error(error);
      for (const child of runningServers) child.kill('SIGKILL');
      await dropCreatedDatabases();
      process.exit(1);
    },
  );
}
