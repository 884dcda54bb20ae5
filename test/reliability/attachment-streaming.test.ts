import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { multipartFrame, pdfBytes } from '../helpers/multipart.js';

/**
 * A 20 MB upload over a real socket to a server in its own process (test/helpers/memory-probe-server.ts):
 * the server streams the file to disk while hashing it, so its resident memory grows far less
 * than the file. A memory bound, not a timing assertion.
 */
const fileBytes = 20 * 1024 * 1024;
let server: ChildProcess;
let port: number;
let key: string;
let workDir: string;
let filePath: string;
let fileSha256: string;

function nextMessage<T>(kind: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { kind: string }) => {
      if (message.kind !== kind) return;
      server.off('message', onMessage);
      resolve(message as T);
    };
    server.on('message', onMessage);
    server.once('exit', (code) => reject(new Error(`probe server exited with ${code}`)));
  });
}

before(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-stream-'));
  // Written in 1 MB chunks, so the test process never holds the 20 MB either.
  filePath = path.join(workDir, 'upload-20mb.pdf');
  const out = fs.openSync(filePath, 'w');
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(1024 * 1024);
  for (let written = 0; written < fileBytes; written += chunk.length) {
    for (let index = 0; index < chunk.length; index += 4) chunk.writeUInt32LE(Math.imul(written + index, 2654435761) >>> 0, index);
    if (written === 0) pdfBytes.copy(chunk);
    fs.writeSync(out, chunk);
    hash.update(chunk);
  }
  fs.closeSync(out);
  fileSha256 = hash.digest('hex');

  server = fork(path.resolve('test/helpers/memory-probe-server.ts'), [], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    env: { ...process.env, NODE_ENV: 'test' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await nextMessage<{ port: number; key: string }>('ready');
  port = ready.port;
  key = ready.key;
});

after(async () => {
  if (server.exitCode === null) {
    server.send({ kind: 'stop' });
    await once(server, 'exit');
  }
  fs.rmSync(workDir, { recursive: true, force: true });
});

function send(options: http.RequestOptions, body?: () => AsyncIterable<Buffer | string>): Promise<{ status: number; text: string; sha256: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, ...options }, (response) => {
      const hash = createHash('sha256');
      let text = '';
      response.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        if (text.length < 4096) text += chunk.toString('latin1');
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text, sha256: hash.digest('hex') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    if (body) pipeline(body(), request).catch(reject);
    else request.end();
  });
}

test('a 20 MB upload over a socket keeps the server RSS growth far below the file size, and downloads byte-identical', async () => {
  const auth = { authorization: `Bearer ${key}` };
  const created = await send({ method: 'POST', path: '/v1/invoices', headers: { ...auth, 'content-type': 'application/json' } }, async function* () {
    yield JSON.stringify({ currency: 'EUR' });
  });
  assert.equal(created.status, 201, created.text);
  const invoiceId = JSON.parse(created.text).id;

  const boundary = 'folio-stream-boundary';
  const { head, tail } = multipartFrame(boundary, 'big.pdf', 'application/pdf');
  async function measuredUpload(gcEveryMs: number | undefined) {
    server.send({ kind: 'start', gcEveryMs });
    await nextMessage('started');
    const startedAt = Date.now();
    const uploaded = await send(
      {
        method: 'POST',
        path: `/v1/invoices/${invoiceId}/attachments`,
        headers: { ...auth, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + fileBytes + tail.length },
      },
      async function* () {
        yield head;
        yield* fs.createReadStream(filePath, { highWaterMark: 64 * 1024 });
        yield tail;
      },
    );
    server.send({ kind: 'report' });
    const { baselineRss, peakRss } = await nextMessage<{ baselineRss: number; peakRss: number }>('report');
    const growthBytes = peakRss - baselineRss;
    const label = gcEveryMs ? `with a minor GC every ${gcEveryMs} ms` : 'without forced GC';
    console.log(`# server RSS growth during a ${fileBytes} byte upload (${label}): ${(growthBytes / 1024 / 1024).toFixed(1)} MB (baseline ${(baselineRss / 1024 / 1024).toFixed(1)} MB, ${Date.now() - startedAt} ms)`);
    assert.equal(uploaded.status, 201, uploaded.text);
    return { attachment: JSON.parse(uploaded.text), growthBytes };
  }

  // The bound: memory the server holds (young garbage collected every 10 ms) stays far below the file size;
  // a server that buffered the file would hold all 20 MB at once and fail this.
  const { attachment, growthBytes } = await measuredUpload(10);
  assert.equal(attachment.size_bytes, fileBytes);
  assert.equal(attachment.sha256, fileSha256);
  assert.ok(growthBytes < fileBytes / 2, `server RSS grew ${growthBytes} bytes for a ${fileBytes} byte upload`);
  // Reported only: without forced GC the peak also counts socket buffers V8 has not collected yet.
  await measuredUpload(undefined);

  const downloaded = await send({ method: 'GET', path: `/v1/invoices/${invoiceId}/attachments/${attachment.id}`, headers: auth });
  assert.equal(downloaded.status, 200);
  assert.equal(downloaded.sha256, fileSha256, 'download is byte-identical');
});
