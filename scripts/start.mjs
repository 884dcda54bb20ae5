#!/usr/bin/env node
// `npm start`: runs the compiled service from dist/, building it first only when it is missing or
// older than a source file (`npm ci` builds it once through the `prepare` script). Starting then
// costs a file-tree stat walk, not a TypeScript compile.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'dist', 'main.js');

function newestMtimeMs(dir) {
  let newest = 0;
  for (const child of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, child.name);
    newest = Math.max(newest, child.isDirectory() ? newestMtimeMs(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

const builtAtMs = fs.existsSync(entry) ? fs.statSync(entry).mtimeMs : 0;
const sourcesChangedAtMs = Math.max(newestMtimeMs(path.join(root, 'src')), fs.statSync(path.join(root, 'package-lock.json')).mtimeMs);
if (builtAtMs < sourcesChangedAtMs) {
  console.error(builtAtMs === 0 ? 'folio: building dist/ (first start)…' : 'folio: sources changed since the last build; rebuilding dist/…');
  const build = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
  // tsc leaves an unchanged output file's mtime alone: mark the build time on the entry point.
  const now = new Date();
  fs.utimesSync(entry, now, now);
}
await import(pathToFileURL(entry).href);
