import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * A real HTTP receiver on 127.0.0.1 for webhook tests. It verifies every request's
 * Standard Webhooks signature with the endpoint secret and records what it accepted.
 */
export class WebhookReceiver {
  readonly server: http.Server;
  secret = '';
  /** Answer the first N attempts of every message with this status. */
  failFirstAttempts = 0;
  failStatus = 503;
  /** While true, every request is refused with failStatus. */
  refuseAll = false;
  /** Respond with this instead of 2xx (e.g. a redirect), when set. */
  respondWith: { status: number; headers?: Record<string, string> } | null = null;
  /** Never answer (for timeout tests). */
  hang = false;
  readonly attemptsById = new Map<string, number>();
  readonly accepted = new Map<string, any>();
  readonly badSignatures: string[] = [];
  private waiters: Array<() => void> = [];

  constructor() {
    this.server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk) => chunks.push(chunk));
      request.on('end', () => this.handle(request, response, Buffer.concat(chunks).toString('utf8')));
    });
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse, body: string) {
    if (this.hang) return;
    const id = String(request.headers['webhook-id']);
    const attempts = (this.attemptsById.get(id) ?? 0) + 1;
    this.attemptsById.set(id, attempts);
    if (this.respondWith) {
      response.writeHead(this.respondWith.status, this.respondWith.headers).end();
      return;
    }
    if (this.refuseAll || attempts <= this.failFirstAttempts) {
      response.writeHead(this.failStatus).end('not now');
      return;
    }
    try {
      const payload = new Webhook(this.secret).verify(body, request.headers as Record<string, string>);
      this.accepted.set(id, payload);
      response.writeHead(204).end();
    } catch {
      this.badSignatures.push(id);
      response.writeHead(400).end('bad signature');
    }
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  /** Resolves when `condition` holds; re-checked after every accepted delivery and periodically. */
  async until(condition: () => boolean | Promise<boolean>, limitMs = 60_000): Promise<void> {
    const deadline = Date.now() + limitMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error('webhook receiver: condition not met in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
