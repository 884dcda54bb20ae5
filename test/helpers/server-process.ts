import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Runs the real server (src/main.ts) as a child process, to kill it with SIGKILL. */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

let entryPromise: Promise<string[]> | undefined;

/**
 * The node arguments that start the server. The crash tests start it dozens of times, so
 * src/main.ts is bundled once with esbuild (which tsx brings along; dependencies stay
 * external, like the compiled dist/ of `npm start`): that starts in about half the time of
 * `node --import tsx src/main.ts`, which remains the fallback.
 */
function serverEntry(): Promise<string[]> {
  entryPromise ??= (async () => {
    try {
      const esbuild = await import('esbuild');
      const outfile = path.join(repoRoot, 'node_modules', '.cache', 'folio-test', `main-${process.pid}.mjs`);
      await esbuild.build({ entryPoints: [path.join(repoRoot, 'src/main.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', target: 'node20', outfile, logLevel: 'silent' });
      process.once('exit', () => fs.rmSync(outfile, { force: true }));
      return [outfile];
    } catch {
      return ['--import', 'tsx', 'src/main.ts'];
    }
  })();
  return entryPromise;
}

export interface ServerProcess {
  baseUrl: string;
  child: ChildProcess;
  /** Everything the process wrote to stderr (for failure messages). */
  stderr(): string;
  /** Resolves with the exit code or signal when the process ends. */
  exited: Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<string>;
}

export async function startServerProcess(env: Record<string, string>, readyTimeoutMs = 90_000): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, await serverEntry(), {
    cwd: repoRoot,
    env: { ...process.env, NODE_ENV: 'test', FOLIO_LOG_LEVEL: 'error', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`)));
  let exitedWith: string | null = null;
  void exited.then((how) => (exitedWith = how));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exitedWith) throw new Error(`server exited during start (${exitedWith}): ${stderr}`);
    try {
      const response = await fetch(`${baseUrl}/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start within ${readyTimeoutMs} ms: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    baseUrl,
    child,
    stderr: () => stderr,
    exited,
    kill: async (signal: NodeJS.Signals = 'SIGKILL') => {
      if (exitedWith) return exitedWith;
      child.kill(signal);
      return exited;
    },
  };
}
