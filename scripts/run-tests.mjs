#!/usr/bin/env node
// Runs the test suite on each engine named in FOLIO_TEST_ENGINES (default: sqlite,postgres),
// one node:test run per engine, and ends with one summary line.
// Usage: node scripts/run-tests.mjs [dir-or-file ...]   (default: test/unit test/api test/reliability test/security test/web)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['test/unit', 'test/api', 'test/reliability', 'test/security', 'test/web'];
const engines = (process.env.FOLIO_TEST_ENGINES ?? 'sqlite,postgres').split(',').filter(Boolean);

function findTests(entry) {
  if (!fs.existsSync(entry)) return [];
  if (fs.statSync(entry).isFile()) return [entry];
  return fs.readdirSync(entry, { withFileTypes: true }).flatMap((child) => {
    const full = path.join(entry, child.name);
    if (child.isDirectory()) return findTests(full);
    return /\.test\.ts$/.test(child.name) ? [full] : [];
  });
}

const files = roots.flatMap(findTests).sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

// Reliability and security tests append their figures (inputs tried, 5xx seen, updates lost,
// kills survived…) to this file; the sums are printed at the end.
const figuresFile = process.env.FOLIO_TEST_FIGURES_FILE ?? path.join(os.tmpdir(), `folio-figures-${process.pid}.jsonl`);
const keepFiguresFile = Boolean(process.env.FOLIO_TEST_FIGURES_FILE);
if (!keepFiguresFile) fs.rmSync(figuresFile, { force: true });

let passed = 0;
let failed = 0;
for (const engine of engines) {
  // Unit tests touch no database: run them once, with the first engine.
  const engineFiles = engine === engines[0] ? files : files.filter((file) => !file.includes(`${path.sep}unit${path.sep}`) && !file.startsWith('test/unit/'));
  const tapFile = path.join(os.tmpdir(), `folio-tests-${engine}-${process.pid}.tap`);
  console.log(`\n=== ${engine}: ${engineFiles.length} test files ===`);
  const result = spawnSync(
    process.execPath,
    [
      '--import', 'tsx',
      '--test',
      `--test-concurrency=${process.env.FOLIO_TEST_CONCURRENCY ?? 2}`,
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
      ...engineFiles,
    ],
    { stdio: 'inherit', env: { ...process.env, FOLIO_TEST_ENGINE: engine, NODE_ENV: 'test', FOLIO_TEST_FIGURES_FILE: figuresFile } },
  );
  const tap = fs.existsSync(tapFile) ? fs.readFileSync(tapFile, 'utf8') : '';
  const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
  const enginePassed = count('pass');
  const engineFailed = count('fail') + (result.status !== 0 && count('fail') === 0 ? 1 : 0);
  console.log(`${engine}: ${enginePassed} passed, ${engineFailed} failed`);
  passed += enginePassed;
  failed += engineFailed;
}
printFigures();
console.log(`\n${passed} passed, ${failed} failed`);

/** One line per suite and engine, summed over the test files that reported figures. */
function printFigures() {
  if (!fs.existsSync(figuresFile)) return;
  const totals = new Map();
  const overall = {};
  for (const line of fs.readFileSync(figuresFile, 'utf8').split('\n').filter(Boolean)) {
    const { suite, engine, profile, ...figures } = JSON.parse(line);
    const key = `${suite} [${engine}, ${profile}]`;
    const sums = totals.get(key) ?? {};
    for (const [name, value] of Object.entries(figures)) {
      sums[name] = (sums[name] ?? 0) + value;
      overall[name] = (overall[name] ?? 0) + value;
    }
    totals.set(key, sums);
  }
  if (!keepFiguresFile) fs.rmSync(figuresFile, { force: true });
  if (totals.size === 0) return;
  console.log('\n=== reliability and security figures ===');
  for (const [key, sums] of [...totals].sort()) {
    console.log(`${key}: ${Object.entries(sums).map(([name, value]) => `${name}=${value}`).join(' ')}`);
  }
  console.log(`all: ${Object.entries(overall).map(([name, value]) => `${name}=${value}`).join(' ')}`);
}
process.exit(failed > 0 ? 1 : 0);
